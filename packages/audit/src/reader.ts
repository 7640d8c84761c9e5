import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { StreamNames } from '@passerelle/exchange';
import type { LedgerEntry } from './entry.js';
import { parseEntry } from './parse-entry.js';

/** A range of ledger sequences, both ends included; open ends mean the start and the current end. */
export interface LedgerRange {
  from?: number;
  to?: number;
}

/** Entries asked for in one direct get (the server answers at most its own batch limit). */
const READ_BATCH = 256;

/** One stored ledger message: its LEDGER stream sequence and its bytes. */
export interface StoredLedgerMessage {
  seq: number;
  data: Uint8Array;
}

/**
 * Streams the stored entries of the LEDGER stream in order, from `from` (default 1) to `to` (default: the
 * last entry when the read starts), with batches of direct gets. Yields raw bytes, so verification sees
 * exactly what is stored.
 *
 * @example
 * ```ts
 * for await (const m of readLedger(nc, { from: 1, to: 5000 })) console.log(m.seq, m.data.length);
 * ```
 */
export async function* readLedger(
  nc: NatsConnection,
  range: LedgerRange = {},
): AsyncGenerator<StoredLedgerMessage> {
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  const info = await jsm.streams.info(StreamNames.ledger);
  const first = Math.max(range.from ?? 1, info.state.first_seq, 1);
  const last = Math.min(range.to ?? Number.POSITIVE_INFINITY, info.state.last_seq);
  if (info.state.messages === 0 || last < first) return;
  // direct gets in batches: reading the ledger creates no consumer on it (SECURITY.md, "Accounts")
  for (let seq = first; seq <= last;) {
    const batch = await jsm.direct.getBatch(StreamNames.ledger, {
      seq,
      batch: Math.min(READ_BATCH, last - seq + 1),
    });
    let got = 0;
    for await (const m of batch) {
      if (m.seq > last) break;
      yield { seq: m.seq, data: m.data };
      seq = m.seq + 1;
      got++;
    }
    if (got === 0) break;
  }
}

/** {@link readLedger} with each message parsed into a {@link LedgerEntry}. */
export async function* readLedgerEntries(
  nc: NatsConnection,
  range: LedgerRange = {},
): AsyncGenerator<LedgerEntry> {
  for await (const m of readLedger(nc, range)) yield parseEntry(m.data, m.seq);
}
