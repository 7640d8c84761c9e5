import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { StreamNames } from '@passerelle/exchange';

/**
 * The first LEDGER message at or after `seq` whose subject matches `filter`, or null: the server answers from
 * its subject index (STREAM.MSG.GET with `next_by_subj`, which the client's types do not list yet).
 */
export function nextLedgerMessage(
  jsm: JetStreamManager,
  filter: string,
  seq: number,
): Promise<StoredMsg | null> {
  const query = { seq, next_by_subj: filter } as unknown as { seq: number };
  return jsm.streams.getMessage(StreamNames.ledger, query);
}

/** The last LEDGER message whose subject matches `filter` (wildcards allowed), or null. */
export function lastLedgerMessage(jsm: JetStreamManager, filter: string): Promise<StoredMsg | null> {
  return jsm.streams.getMessage(StreamNames.ledger, { last_by_subj: filter });
}
