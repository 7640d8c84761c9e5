import type { KeyResolver, LedgerEntry, SignedLedgerEntry } from '@passerelle/audit';
import {
  type CheckResult,
  type CheckpointCheck,
  type CheckpointVerifier,
  checkEntrySignature,
} from './entry-checks.js';
import type { LedgerIndex } from './ledger-index.js';

/** Verification status common to envelopes and receipts. */
export interface EntryStatus {
  seq: number;
  /** When the auditor recorded it. */
  recordedAt: string;
  /** The entry hashes to its recorded hash and links to the entry before it. */
  chain: CheckResult;
  /** The sender's seal (envelope) or the receiver's signature (receipt). */
  signature: CheckResult;
  /** The checkpoint whose signed Merkle root covers the entry; undefined while none does yet. */
  checkpoint?: CheckpointCheck;
}

/** A receipt in a dossier timeline. */
export interface TimelineReceipt extends EntryStatus {
  receiver: string;
  receivedAt: string;
  /** The receipt names the SHA-256 of the envelope as recorded. */
  matchesEnvelope: boolean;
}

/** One message of a dossier timeline, with every check a security officer needs. */
export interface TimelineMessage extends EntryStatus {
  messageId: string;
  type: string;
  schemaVersion: number;
  sender: string;
  recipient: string;
  issuedAt: string;
  correlationId: string;
  causationId: string | null;
  envelopeSha256: string;
  receipts: TimelineReceipt[];
}

/** A dossier's timeline: its messages by `issuedAt`, and receipts whose envelope is not (yet) recorded. */
export interface DossierTimeline {
  dossierId: string;
  messages: TimelineMessage[];
  orphanReceipts: TimelineReceipt[];
}

/**
 * Builds a dossier's timeline from the indexed ledger, checking every entry: chain link, seal or receipt
 * signature against the directory, covering checkpoint (signature, range, Merkle root).
 *
 * @example
 * ```ts
 * const t = await dossierTimeline(index, checkpoints, directory, 'DOS-2026-000417');
 * ```
 */
export async function dossierTimeline(
  index: LedgerIndex,
  checkpoints: CheckpointVerifier,
  resolver: KeyResolver,
  dossierId: string,
): Promise<DossierTimeline> {
  await index.refresh();
  const seqs = await index.dossierSeqs(dossierId);
  const entries: LedgerEntry[] = [];
  for (const seq of seqs) entries.push(await index.entry(seq));
  const brokenAt = index.chainBreak?.seq;

  const status = async (e: SignedLedgerEntry): Promise<EntryStatus> => {
    const cp = await index.checkpointCovering(e.seq);
    return {
      seq: e.seq,
      recordedAt: e.receivedAt,
      chain:
        brokenAt === undefined || e.seq < brokenAt
          ? { ok: true }
          : {
              ok: false,
              reason:
                e.seq === brokenAt
                  ? (index.chainBreak?.reason ?? 'chain broken')
                  : `the chain is broken at entry ${brokenAt}`,
            },
      signature: await checkEntrySignature(e, resolver),
      ...(cp ? { checkpoint: await checkpoints.check(cp.seq) } : {}),
    };
  };

  const messages = new Map<string, TimelineMessage>();
  const receipts: { messageId: string; receipt: TimelineReceipt; envelopeSha256: string }[] = [];
  for (const e of entries) {
    if (e.kind === 'envelope') {
      if (messages.has(e.meta.id)) continue;
      messages.set(e.meta.id, {
        ...(await status(e)),
        messageId: e.meta.id,
        type: e.meta.type,
        schemaVersion: e.meta.schemaVersion,
        sender: e.meta.sender,
        recipient: e.meta.recipient,
        issuedAt: e.meta.issuedAt,
        correlationId: e.meta.correlationId,
        causationId: e.meta.causationId,
        envelopeSha256: e.envelopeSha256,
        receipts: [],
      });
    } else if (e.kind === 'receipt') {
      receipts.push({
        messageId: e.meta.messageId,
        envelopeSha256: e.meta.envelopeSha256,
        receipt: {
          ...(await status(e)),
          receiver: e.meta.receiver,
          receivedAt: e.meta.receivedAt,
          matchesEnvelope: false,
        },
      });
    }
  }
  // A receipt may be recorded before the envelope it names: the two travel on different subjects.
  const orphanReceipts: TimelineReceipt[] = [];
  for (const r of receipts) {
    const m = messages.get(r.messageId);
    if (m) {
      r.receipt.matchesEnvelope = r.envelopeSha256 === m.envelopeSha256;
      m.receipts.push(r.receipt);
    } else {
      orphanReceipts.push(r.receipt);
    }
  }
  return {
    dossierId,
    messages: [...messages.values()].sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.seq - b.seq),
    orphanReceipts,
  };
}
