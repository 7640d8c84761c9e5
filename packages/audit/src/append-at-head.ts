import { type JetStreamClient, JetStreamApiCodes, JetStreamApiError, type PubAck } from '@nats-io/jetstream';
import type { LedgerEntry } from './entry.js';
import { serializeEntry } from './entry.js';
import { ledgerSubject } from './subjects.js';

/** What {@link appendAtHead} did: stored (or found stored) the entry, or lost the race for the head. */
export type AppendOutcome = { ack: PubAck } | { moved: JetStreamApiError };

/**
 * Publishes `entry` right after the head it was built on (JetStream's expected-last-sequence check), so
 * that two writers appending at once cannot fork the chain: the one that loses gets `moved`, reloads the
 * head and builds its entry again on top of it.
 */
export async function appendAtHead(
  js: JetStreamClient,
  entry: LedgerEntry,
  msgID: string,
): Promise<AppendOutcome> {
  try {
    const ack = await js.publish(ledgerSubject(entry), serializeEntry(entry), {
      msgID,
      expect: { lastSequence: entry.seq - 1 },
    });
    return { ack };
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) {
      return { moved: err };
    }
    throw err;
  }
}
