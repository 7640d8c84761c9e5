import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { StreamNames, provisionStreams } from '@passerelle/exchange';
import { JetStreamApiCodes, streamConfigs } from '@passerelle/exchange/internal';

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

/** LEDGER as the exchange defines it, emptied, or with the overrides an operator chose (deny_purge off, a limit). */
export async function ledgerStream(
  jsm: JetStreamManager,
  overrides: Record<string, unknown> = {},
): Promise<void> {
  await freshLedger(jsm);
  if (Object.keys(overrides).length === 0) return;
  await jsm.streams.delete(StreamNames.ledger);
  const config = streamConfigs().find((c) => c.name === StreamNames.ledger)!;
  await jsm.streams.add({ ...config, ...overrides });
}
