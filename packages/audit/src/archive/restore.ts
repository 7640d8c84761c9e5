import { JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { PasserelleError } from '@passerelle/errors';
import { StreamNames } from '@passerelle/exchange';
import { JetStreamApiCodes, type StreamLayoutOptions, streamConfigs } from '@passerelle/exchange/internal';
import { LedgerError } from '../ledger-error.js';
import { archiveHead } from './archiver.js';
import type { ArchiveStore } from './store.js';
import { type ArchiveReport, type VerifyArchiveOptions, verifyArchive } from './verify-archive.js';

/** What {@link restoreLedger} did. */
export interface RestoreResult {
  /** The archive's verification. */
  report: ArchiveReport;
  /** The last archived entry: LEDGER continues after it. */
  lastSeq: number;
  headHash: string;
  /** False when LEDGER already continued the archive (a second run changes nothing). */
  created: boolean;
}

/**
 * Restores the ledger into a fresh server from its archive: verifies the archive whole, then creates LEDGER
 * (the exchange's configuration) starting at the sequence after the last archived entry, so that entry seqs
 * stay equal to stream seqs and the auditor resumes the chain from the archive's head (`archivedHead` of
 * its writer). Refuses a LEDGER that already holds entries (`ERR_STREAM_CONFLICT`) and an archive that does
 * not verify (its failure code). Needs the rights to create and delete streams (the operator's).
 *
 * @example
 * ```ts
 * await restoreLedger({ nc, store: await folderArchive(dir), verify: { resolver, tsaTrust } });
 * ```
 */
export async function restoreLedger(options: {
  nc: NatsConnection;
  store: ArchiveStore;
  verify: Omit<VerifyArchiveOptions, 'live'>;
  layout?: StreamLayoutOptions;
}): Promise<RestoreResult> {
  const report = await verifyArchive(options.store, options.verify);
  if (report.failure) {
    throw new LedgerError(report.failure.code, `The archive does not verify: ${report.failure.reason}.`, {
      details: {
        seq: report.failure.seq,
        ...(report.failingSegment ? { segment: report.failingSegment } : {}),
      },
    });
  }
  const head = await archiveHead(options.store);
  if (!head) throw new LedgerError('ERR_LEDGER_NOT_FOUND', 'The archive holds no segment to restore.');
  const { lastSeq, headHash } = head.claims;
  const jsm = await jetstreamManager(options.nc, { timeout: 30_000 });
  let existing;
  try {
    existing = await jsm.streams.info(StreamNames.ledger);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
  }
  if (existing) {
    if (existing.state.messages === 0 && existing.state.last_seq === lastSeq) {
      return { report, lastSeq, headHash, created: false };
    }
    if (existing.state.messages > 0 || existing.state.last_seq > 0) {
      throw new PasserelleError(
        'ERR_STREAM_CONFLICT',
        `LEDGER already holds entries up to ${existing.state.last_seq}: restore only into a fresh server.`,
        { details: { stream: StreamNames.ledger } },
      );
    }
    // created empty by a provisioning: made again so that it starts after the archive
    await jsm.streams.delete(StreamNames.ledger);
  }
  const config = streamConfigs(options.layout).find((c) => c.name === StreamNames.ledger);
  if (!config) throw new Error('the exchange defines no LEDGER stream');
  await jsm.streams.add({ ...config, first_seq: lastSeq + 1 });
  return { report, lastSeq, headHash, created: true };
}
