import { sha256Hex } from './digest.js';
import type { LedgerEnvelopeMeta, LedgerReceiptClaims } from './entry.js';
import { decodeCompact } from './jws.js';
import { LedgerError } from './ledger-error.js';

/** What the ledger keeps of an envelope. */
export interface EnvelopeIntake {
  meta: LedgerEnvelopeMeta;
  jweSha256: string;
  envelopeSha256: string;
  seal: string;
}

/** What the ledger keeps of a receipt. */
export interface ReceiptIntake {
  claims: LedgerReceiptClaims;
  jws: string;
}

function reject(reason: string): never {
  throw new LedgerError('ERR_LEDGER_INPUT_REJECTED', reason);
}

const bytesOf = (raw: Uint8Array | string): Buffer =>
  typeof raw === 'string' ? Buffer.from(raw) : Buffer.from(raw);

/**
 * Reduces raw envelope bytes to what the ledger records: meta, the SHA-256 of the JWE (what the seal
 * binds), the SHA-256 of the raw bytes (what receipts name) and the seal. The JWE itself is dropped:
 * the ledger never holds ciphertext or payload.
 */
export function envelopeIntake(raw: Uint8Array | string, maxBytes = 1024 * 1024): EnvelopeIntake {
  const bytes = bytesOf(raw);
  if (bytes.length > maxBytes) reject(`The envelope is larger than ${maxBytes} bytes.`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    reject('The envelope is not JSON.');
  }
  const v = value as { meta?: unknown; jwe?: unknown; seal?: unknown } | null;
  if (typeof v !== 'object' || v === null || typeof v.meta !== 'object' || v.meta === null) {
    reject('The envelope has no meta.');
  }
  if (typeof v.jwe !== 'string' || typeof v.seal !== 'string') reject('The envelope has no jwe or seal.');
  const meta = v.meta as Record<string, unknown>;
  for (const k of ['id', 'type', 'sender', 'recipient', 'dossierId', 'issuedAt', 'correlationId']) {
    if (typeof meta[k] !== 'string') reject(`The envelope meta has no ${k}.`);
  }
  return {
    meta: v.meta as LedgerEnvelopeMeta,
    jweSha256: sha256Hex(v.jwe),
    envelopeSha256: sha256Hex(bytes),
    seal: v.seal,
  };
}

/** Decodes a receipt (compact JWS by the receiver) into its claims; the signature is checked by the writer. */
export function receiptIntake(raw: Uint8Array | string): ReceiptIntake {
  const jws = bytesOf(raw).toString('utf8').trim();
  const parts = decodeCompact(jws);
  if (!parts) reject('The receipt is not a compact JWS.');
  const c = parts.payload as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null) reject('The receipt payload is not an object.');
  for (const k of ['messageId', 'type', 'dossierId', 'sender', 'receiver', 'envelopeSha256', 'receivedAt']) {
    if (typeof c[k] !== 'string') reject(`The receipt has no ${k}.`);
  }
  if (c['status'] !== 'accepted') reject('The receipt status is not "accepted".');
  return { claims: c as unknown as LedgerReceiptClaims, jws };
}
