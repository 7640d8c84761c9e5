import type { ErasureLedgerEntry, LedgerEntry } from './entry.js';

/** A receipt in a dossier timeline. */
export interface TraceReceipt {
  seq: number;
  receiver: string;
  receivedAt: string;
}

/** One message of a dossier timeline: who sent what to whom, when, and who acknowledged it. */
export interface TraceStep {
  seq: number;
  messageId: string;
  type: string;
  sender: string;
  recipient: string;
  issuedAt: string;
  /** When the auditor recorded it. */
  recordedAt: string;
  receipts: TraceReceipt[];
  /** Seq of the checkpoint whose signed root covers the entry, once there is one. */
  checkpointSeq?: number;
}

/**
 * The timeline of one dossier from the ledger read in order: its envelopes by `issuedAt`, each with the
 * receipts that name it and the checkpoint that covers it; `onErasure` hears of the dossier's erasure. Only
 * meta is read: no payload exists in the ledger.
 *
 * @example
 * ```ts
 * for (const step of await traceDossier(readLedgerEntries(nc), 'DOS-4711-AB')) console.log(step.type);
 * ```
 */
export async function traceDossier(
  entries: AsyncIterable<LedgerEntry> | Iterable<LedgerEntry>,
  dossierId: string,
  options: { onErasure?: (entry: ErasureLedgerEntry) => void } = {},
): Promise<TraceStep[]> {
  const steps = new Map<string, TraceStep>();
  const uncovered: TraceStep[] = [];
  const early: { messageId: string; receipt: TraceReceipt }[] = [];
  for await (const e of entries) {
    if (e.kind === 'checkpoint') {
      for (const s of uncovered) s.checkpointSeq = e.seq;
      uncovered.length = 0;
    } else if (e.kind === 'envelope' && e.meta.dossierId === dossierId) {
      const step: TraceStep = {
        seq: e.seq,
        messageId: e.meta.id,
        type: e.meta.type,
        sender: e.meta.sender,
        recipient: e.meta.recipient,
        issuedAt: e.meta.issuedAt,
        recordedAt: e.receivedAt,
        receipts: [],
      };
      steps.set(e.meta.id, step);
      uncovered.push(step);
    } else if (e.kind === 'erasure' && e.meta.dossierId === dossierId) {
      options.onErasure?.(e);
    } else if (e.kind === 'receipt' && e.meta.dossierId === dossierId) {
      const receipt = { seq: e.seq, receiver: e.meta.receiver, receivedAt: e.meta.receivedAt };
      const step = steps.get(e.meta.messageId);
      if (step) step.receipts.push(receipt);
      else early.push({ messageId: e.meta.messageId, receipt });
    }
  }
  // The auditor may record a receipt before the envelope it names (two consumers, no global order).
  for (const { messageId, receipt } of early) steps.get(messageId)?.receipts.push(receipt);
  return [...steps.values()].sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.seq - b.seq);
}
