import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { StreamNames, Subjects } from '@passerelle/exchange';
import { LedgerError } from './ledger-error.js';
import { parseEntry } from './parse-entry.js';
import { lastLedgerMessage, nextLedgerMessage } from './stream-lookup.js';

/** The range an export covers: it ends on a checkpoint, so that a signature covers every entry in it. */
export interface SignedRange {
  from: number;
  /** The last checkpoint at or before the requested end. */
  to: number;
  /** Entries between `to` and the requested end (or the ledger's end) left out: no checkpoint covers them yet. */
  leftOut: number;
}

/**
 * The range of an export that ends on a signed checkpoint: from `from` (default the stream's first entry) to
 * the last checkpoint at or before `to` (default the ledger's last entry), found through the server's subject
 * index. Throws `ERR_LEDGER_NOT_FOUND` when no checkpoint lies in the range yet.
 *
 * @example
 * ```ts
 * const range = await signedExportRange(nc, {});
 * await writeLedgerExport(file, readLedger(nc, range), range);
 * ```
 */
export async function signedExportRange(
  nc: NatsConnection,
  requested: { from?: number; to?: number },
): Promise<SignedRange> {
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  const info = await jsm.streams.info(StreamNames.ledger);
  const from = Math.max(requested.from ?? 1, info.state.first_seq, 1);
  const end = Math.min(requested.to ?? info.state.last_seq, info.state.last_seq);
  const subject = `${Subjects.ledger}.checkpoint`;
  // the checkpoint covering `end` is the first one at or after it; the one before it ends where its batch starts
  const covering = await nextLedgerMessage(jsm, subject, end);
  let to: number | undefined;
  if (covering) {
    const cp = parseEntry(covering.data, covering.seq);
    to = cp.seq === end ? cp.seq : cp.kind === 'checkpoint' ? cp.meta.firstSeq - 1 : undefined;
  } else {
    const last = await lastLedgerMessage(jsm, subject);
    to = last?.seq;
  }
  if (to === undefined || to < from) {
    throw new LedgerError(
      'ERR_LEDGER_NOT_FOUND',
      `No checkpoint covers the entries from ${from} yet: an export must end on one (wait for the next).`,
    );
  }
  return { from, to, leftOut: Math.max(0, end - to) };
}
