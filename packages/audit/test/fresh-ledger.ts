import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { StreamNames, provisionStreams } from '@passerelle/exchange';
import { JetStreamApiCodes } from '@passerelle/exchange/internal';

/**
 * Deletes LEDGER and provisions it anew, empty. Only a ledger that is not there is left alone: a deletion
 * that failed (a time-out on a loaded machine) must fail the test, not leave the last test's entries.
 */
export async function freshLedger(jsm: JetStreamManager): Promise<void> {
  await jsm.streams.delete(StreamNames.ledger).catch((err: unknown) => {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
  });
  await provisionStreams(jsm);
}
