import { Subjects } from '@passerelle/exchange';
import type { LedgerEntry } from './entry.js';
import { LedgerError } from './ledger-error.js';

/**
 * The LEDGER subject an entry is stored under. Envelopes and receipts carry their dossier and message ids
 * (and a receipt its receiver), so that the server's subject index answers "is this input recorded?" and
 * "which entries belong to this dossier?" without the auditor holding an index of the whole ledger:
 * `pex.ledger.envelope.<dossierId>.<messageId>`, `pex.ledger.receipt.<dossierId>.<messageId>.<receiver>`,
 * `pex.ledger.erasure.<dossierId>.erased`, `pex.ledger.checkpoint`, `pex.ledger.timestamp`. Every id is checked as a subject token first (meta and
 * receipt claims are, at intake, but an entry read back is checked again).
 */
export function ledgerSubject(entry: LedgerEntry): string {
  if (entry.kind === 'envelope') return envelopeSubject(entry.meta.dossierId, entry.meta.id);
  if (entry.kind === 'receipt') {
    return receiptSubject(entry.meta.dossierId, entry.meta.messageId, entry.meta.receiver);
  }
  if (entry.kind === 'erasure') return erasureSubject(entry.meta.dossierId);
  return `${Subjects.ledger}.${entry.kind}`;
}

/** Subject of the erasure entry of dossier `dossierId` (one per dossier: a key is destroyed once). */
export function erasureSubject(dossierId: string): string {
  return `${Subjects.ledger}.erasure.${token(dossierId, 'dossierId')}.erased`;
}

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

function token(value: string, what: string): string {
  if (!TOKEN.test(value)) {
    throw new LedgerError('ERR_LEDGER_INPUT_REJECTED', `The ${what} is not usable in a LEDGER subject.`);
  }
  return value;
}

/** Subject of the envelope entry of message `messageId` in dossier `dossierId`. */
export function envelopeSubject(dossierId: string, messageId: string): string {
  return `${Subjects.ledger}.envelope.${token(dossierId, 'dossierId')}.${token(messageId, 'messageId')}`;
}

/** Subject of the receipt entry by `receiver` for message `messageId` in dossier `dossierId`. */
export function receiptSubject(dossierId: string, messageId: string, receiver: string): string {
  return `${Subjects.ledger}.receipt.${token(dossierId, 'dossierId')}.${token(messageId, 'messageId')}.${token(receiver, 'receiver')}`;
}

/** Filter of every envelope and receipt entry of a dossier. */
export function dossierFilter(dossierId: string): string {
  return `${Subjects.ledger}.*.${token(dossierId, 'dossierId')}.>`;
}
