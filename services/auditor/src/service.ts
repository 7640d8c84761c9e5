import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type ArchiveStore,
  type ArchivedSegment,
  type KeyResolver,
  type LedgerWriter,
  applyLedgerMaxAge,
  archiveHead,
  archiveLedger,
  parseEntry,
  type PrivateJwk,
  type Timestamper,
  type TsaClient,
  type TsaTrust,
  createLedgerWriter,
  createTimestamper,
  untimestampedCheckpoints,
} from '@passerelle/audit';
import { type Logger, StreamNames, createLogger, provisionStreams, serveMetrics } from '@passerelle/exchange';
import { deadLetterSubject } from '@passerelle/exchange/internal';
import type { Registry } from 'prom-client';
import { type ListedParticipant, createAuditorMetrics } from './metrics.js';
import { ReceiptWatch } from './receipt-watch.js';
import { ReplayWatch } from './replay-watch.js';
import { CheckpointVerifier } from './entry-checks.js';
import { LedgerIndex } from './ledger-index.js';
import {
  AUDITOR_CONSUMER,
  AUDITOR_PARTICIPANT,
  type Recorder,
  type RecorderStats,
  startRecorder,
} from './recorder.js';
import { type Viewer, type ViewerConfig, startViewer } from './viewer/server.js';

/** What {@link createAuditorService} needs. The auditor holds a signing key only: no decryption key exists for it. */
export interface AuditorConfig {
  /** Connection to the exchange's NATS servers (the caller closes it). */
  nc: NatsConnection;
  /** The auditor's private signing key (signs checkpoints; `kid` as published in the directory). */
  auditorKey: PrivateJwk;
  /** Participants' public keys: a directory client, an offline directory file, or a static resolver. */
  resolver: KeyResolver;
  /** A checkpoint every this many entries (default 1000). */
  checkpointEvery?: number;
  /** A checkpoint at least this often while entries wait, in ms (default 60 000; 0: by count only). */
  checkpointIntervalMs?: number;
  /** Durable consumer name on EXCHANGE (default `auditor-ledger`). */
  consumerName?: string;
  /**
   * Create missing streams and the auditor's consumer (default true); false on a secured server, where the
   * operator provisions them and the auditor's credentials allow only reading its consumer and writing LEDGER.
   */
  provision?: boolean;
  /**
   * RFC 3161 timestamps of checkpoints: a TSA client (`createTsaClient`) and the batch window (default
   * 10 s). Requests run in the background; a slow or failing TSA never holds up recording.
   */
  timestamps?: {
    tsa: TsaClient;
    /** The roots the TSA client trusts: their expiry is exported as a metric. */
    trust?: TsaTrust;
    intervalMs?: number;
    initialBackoffMs?: number;
    maxBackoffMs?: number;
  };
  /**
   * Roll the ledger into archive segments in `store` every `intervalMs` (default 1 h), `segmentEntries` at
   * most each (default 100 000), timestamped with the TSA of `timestamps`. `trim: 'purge'` removes archived
   * entries from LEDGER (a stream without deny_purge); `'retention'` (default) leaves LEDGER's own limits to
   * drop them. The chain resumes from the archive's head when LEDGER was trimmed. `ledgerMaxAgeMs` gives
   * LEDGER that age limit after each run (and at start), never short of an entry not archived yet
   * (`applyLedgerMaxAge`, with twice the interval as margin, whether the run succeeded or not).
   */
  archive?: {
    store: ArchiveStore;
    intervalMs?: number;
    segmentEntries?: number;
    trim?: 'purge' | 'retention';
    ledgerMaxAgeMs?: number;
  };
  /**
   * How far the NATS servers' clocks and the auditor's may disagree (default 1 000 ms): an envelope stored
   * again more than this after its receipt was recorded is flagged (`pex_auditor_replays_total`).
   */
  replayClockSkewMs?: number;
  /** A receipt later than this after its envelope is overdue (metric `pex_auditor_receipts_overdue`; default 15 min). */
  receiptDeadlineMs?: number;
  /**
   * Serve Prometheus `/metrics` and the probes `/healthz`, `/readyz` on this loopback port (0 picks one);
   * omitted: not served (the registry is still there).
   */
  metricsPort?: number;
  /** The web viewer; omitted or `false`: no viewer. */
  viewer?: ViewerConfig | false;
  logger?: Logger;
}

/** A running auditor. */
export interface AuditorService {
  /** The viewer's base URL, when it runs. */
  readonly viewerUrl: string | undefined;
  readonly stats: RecorderStats;
  readonly writer: LedgerWriter;
  readonly index: LedgerIndex;
  /** The checkpoint timestamper, when a TSA is configured. */
  readonly timestamper: Timestamper | undefined;
  /** The auditor's Prometheus metrics. */
  readonly metrics: Registry;
  /** `http://127.0.0.1:<port>` of `/metrics`, when served. */
  readonly metricsUrl: string | undefined;
  /** Archives now what is checkpointed and not archived yet (the timer does it too); [] without an archive. */
  archiveNow(): Promise<ArchivedSegment[]>;
  /** Resolves once every message of EXCHANGE so far is recorded (or refused into DEADLETTER). */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Writes a checkpoint over the pending entries now. */
  checkpoint(): Promise<void>;
  /** Stops the viewer and the intake, then writes a last checkpoint over pending entries. */
  close(): Promise<void>;
}

/**
 * Starts the auditor: provisions the streams if missing, resumes the ledger writer from the stored head,
 * indexes the stored ledger (so inputs already recorded are not recorded twice), consumes every envelope and
 * receipt of EXCHANGE into LEDGER with checkpoints every N entries or T seconds, and serves the viewer.
 *
 * @example
 * ```ts
 * const auditor = await createAuditorService({
 *   nc, auditorKey, resolver: directory, checkpointEvery: 1000, checkpointIntervalMs: 60_000,
 *   viewer: { token: process.env.AUDITOR_TOKEN!, port: 8090 },
 * });
 * console.log(auditor.viewerUrl);
 * ```
 */
export async function createAuditorService(config: AuditorConfig): Promise<AuditorService> {
  const { nc, auditorKey, resolver } = config;
  const logger = config.logger ?? createLogger('auditor');
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  const js = jetstream(nc, { timeout: 30_000 });
  if (config.provision !== false) await provisionStreams(jsm);
  const head = config.archive ? await archiveHead(config.archive.store) : undefined;
  const archivedHead = head ? { seq: head.claims.lastSeq, hash: head.claims.headHash } : undefined;
  let timestamper: Timestamper | undefined;
  const writer = await createLedgerWriter({
    ...(archivedHead ? { archivedHead } : {}),
    nc,
    auditorKey,
    resolver,
    checkpointEvery: config.checkpointEvery ?? 1000,
    checkpointIntervalMs: config.checkpointIntervalMs ?? 60_000,
    onCheckpoint: (cp) => timestamper?.enqueue(cp),
  });
  if (config.timestamps) {
    timestamper = createAuditorTimestamper(config.timestamps, writer, logger);
    // checkpoints written before a stop (or while the TSA was away) are queued again
    for (const cp of await untimestampedCheckpoints(nc)) timestamper.enqueue(cp);
  }
  const index = await loadIndex(nc, archivedHead, logger);
  const consumerName = config.consumerName ?? AUDITOR_CONSUMER;
  const receipts = new ReceiptWatch({ deadlineMs: config.receiptDeadlineMs ?? 15 * 60_000 });
  const replays = new ReplayWatch(
    config.replayClockSkewMs !== undefined ? { clockSkewMs: config.replayClockSkewMs } : {},
  );
  const recorder: Recorder = await startRecorder({
    js,
    jsm,
    writer,
    index,
    logger,
    consumerName,
    receipts,
    replays,
    ...(config.provision === false ? { provision: false } : {}),
  });
  const archiver = new ArchiveSchedule(config, jsm, archivedHead?.seq ?? 0, logger);
  await archiver.limitLedgerAge();
  const listing = resolver as Partial<{ list(): readonly ListedParticipant[] }>;
  const metrics = createAuditorMetrics({
    jsm,
    consumerName,
    writer,
    recorderStats: () => ({ ...recorder.stats }),
    receipts,
    replays,
    ...(timestamper ? { timestamper } : {}),
    ...(config.timestamps?.trust ? { tsaTrust: config.timestamps.trust } : {}),
    ...(typeof listing.list === 'function' ? { participants: () => listing.list!() } : {}),
    ...(config.archive
      ? { archiveLagSeconds: () => archiver.lagSeconds(), lastArchiveAt: () => archiver.lastArchiveAt }
      : {}),
  });
  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (config.metricsPort !== undefined) {
    metricsServer = await serveMetrics(metrics, config.metricsPort, '127.0.0.1', {
      failure: () => (nc.isClosed() ? 'the NATS connection is closed' : undefined),
    });
  }
  let viewer: Viewer | undefined;
  if (config.viewer) {
    try {
      viewer = await startAuditorViewer(config.viewer, { jsm, index, resolver, recorder, logger });
    } catch (err) {
      await recorder.stop();
      await timestamper?.close();
      await metricsServer?.close();
      await writer.close();
      throw err;
    }
    logger.info({ url: viewer.url }, 'viewer listening');
  }

  return {
    viewerUrl: viewer?.url,
    stats: recorder.stats,
    writer,
    index,
    timestamper,
    metrics,
    metricsUrl: metricsServer ? `http://127.0.0.1:${metricsServer.port}` : undefined,
    archiveNow: () => archiver.archiveNow(),
    caughtUp: (timeoutMs = 30_000) => waitCaughtUp(jsm, consumerName, timeoutMs),
    async checkpoint() {
      const cp = await writer.checkpoint();
      if (cp) await index.observe(cp);
    },
    async close() {
      await viewer?.close();
      await recorder.stop();
      await archiver.stop();
      await timestamper?.close();
      await metricsServer?.close();
      await writer.close();
      logger.info({ entries: writer.state.nextSeq - 1 }, 'auditor stopped');
    },
  };
}

// Timestamps run in the background of the writer, so a slow or failing TSA never holds up recording; its
// failures and successes are logged.
function createAuditorTimestamper(
  t: NonNullable<AuditorConfig['timestamps']>,
  writer: LedgerWriter,
  logger: Logger,
): Timestamper {
  return createTimestamper({
    writer,
    tsa: t.tsa,
    ...(t.intervalMs !== undefined ? { intervalMs: t.intervalMs } : {}),
    ...(t.initialBackoffMs !== undefined ? { initialBackoffMs: t.initialBackoffMs } : {}),
    ...(t.maxBackoffMs !== undefined ? { maxBackoffMs: t.maxBackoffMs } : {}),
    onError: (err, nextAttemptMs) =>
      logger.warn(
        { code: (err as { code?: unknown }).code, nextAttemptMs },
        'checkpoint timestamp not obtained yet: retried later',
      ),
    onTimestamp: (checkpoints, genTime) =>
      logger.info({ checkpoints, genTime: genTime.toISOString() }, 'checkpoints timestamped'),
  });
}

// The stored ledger is indexed before recording starts, so inputs already recorded are not recorded twice;
// a chain that does not link up is reported at once rather than at the next verification.
async function loadIndex(
  nc: NatsConnection,
  archivedHead: { seq: number; hash: string } | undefined,
  logger: Logger,
): Promise<LedgerIndex> {
  const index = new LedgerIndex(nc, archivedHead ? { archivedHead } : {});
  await index.refresh();
  logger.info(
    { entries: index.lastSeq, checkpoints: index.counts.checkpoints, chainBreak: index.chainBreak?.seq },
    'ledger indexed',
  );
  if (index.chainBreak) {
    logger.error(
      { seq: index.chainBreak.seq },
      'the stored ledger does not link up: run passerelle audit verify',
    );
  }
  return index;
}

/**
 * Archiving beside recording, one run at a time; a failure (the TSA, the folder) is logged and retried at
 * the next run, while the archive lag metric shows it.
 */
class ArchiveSchedule {
  /** When the last segment was written (ms since the epoch). */
  lastArchiveAt: number | undefined;
  readonly #config: AuditorConfig;
  readonly #jsm: JetStreamManager;
  readonly #logger: Logger;
  #archivedUpTo: number;
  #run: Promise<ArchivedSegment[]> | undefined;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(config: AuditorConfig, jsm: JetStreamManager, archivedUpTo: number, logger: Logger) {
    this.#config = config;
    this.#jsm = jsm;
    this.#logger = logger;
    this.#archivedUpTo = archivedUpTo;
    if (config.archive) {
      this.#timer = setInterval(() => {
        this.archiveNow().catch((err: unknown) =>
          logger.error(
            { code: (err as { code?: unknown }).code },
            'ledger not archived: retried at the next run',
          ),
        );
      }, config.archive.intervalMs ?? 3_600_000);
      this.#timer.unref();
    }
  }

  /** Archives what is checkpointed and not archived yet, joining a run under way; [] without an archive. */
  archiveNow(): Promise<ArchivedSegment[]> {
    const a = this.#config.archive;
    if (!a) return Promise.resolve([]);
    this.#run ??= archiveLedger({
      nc: this.#config.nc,
      store: a.store,
      auditorKey: this.#config.auditorKey,
      ...(this.#config.timestamps ? { tsa: this.#config.timestamps.tsa } : {}),
      ...(a.segmentEntries ? { segmentEntries: a.segmentEntries } : {}),
      ...(a.trim ? { trim: a.trim } : {}),
    })
      .then((written) => {
        const last = written[written.length - 1];
        if (last) {
          this.#archivedUpTo = last.lastSeq;
          this.lastArchiveAt = Date.now();
          this.#logger.info({ segments: written.length, lastSeq: last.lastSeq }, 'ledger archived');
        }
        return written;
      })
      .finally(async () => {
        this.#run = undefined;
        await this.limitLedgerAge();
      });
    return this.#run;
  }

  /**
   * LEDGER's age limit follows the archive: set after every run, failed runs too, so that entries waiting for
   * a late archive are never old enough to go. A failure is logged, and tried again after the next run.
   */
  async limitLedgerAge(): Promise<void> {
    const a = this.#config.archive;
    if (a?.ledgerMaxAgeMs === undefined) return;
    try {
      const applied = await applyLedgerMaxAge({
        nc: this.#config.nc,
        archivedUpTo: this.#archivedUpTo,
        maxAgeMs: a.ledgerMaxAgeMs,
        marginMs: 2 * (a.intervalMs ?? 3_600_000),
      });
      this.#logger.info(
        { maxAgeMs: applied.maxAgeMs, keptFrom: applied.keptFrom },
        'ledger age limit applied',
      );
    } catch (err) {
      this.#logger.error({ code: (err as { code?: unknown }).code }, 'ledger age limit not applied');
    }
  }

  /** Seconds since the oldest entry not yet archived was recorded (0 when all are). */
  async lagSeconds(): Promise<number> {
    const next = await this.#jsm.streams
      .getMessage(StreamNames.ledger, { seq: this.#archivedUpTo + 1 })
      .catch(() => null);
    if (!next) return 0;
    return Math.max(0, (Date.now() - Date.parse(parseEntry(next.data, next.seq).receivedAt)) / 1000);
  }

  /** Stops the timer and waits for a run under way. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#run?.catch(() => undefined);
  }
}

// The viewer reads the index and checkpoints the recorder keeps up to date, and counts the inputs refused
// into DEADLETTER from the stream's own subject count.
function startAuditorViewer(
  viewerConfig: ViewerConfig,
  parts: {
    jsm: JetStreamManager;
    index: LedgerIndex;
    resolver: KeyResolver;
    recorder: Recorder;
    logger: Logger;
  },
): Promise<Viewer> {
  const { jsm, index, resolver, recorder, logger } = parts;
  return startViewer({
    index,
    checkpoints: new CheckpointVerifier(index, resolver),
    resolver,
    token: viewerConfig.token,
    ...(viewerConfig.host ? { host: viewerConfig.host } : {}),
    ...(viewerConfig.port !== undefined ? { port: viewerConfig.port } : {}),
    ...(viewerConfig.tls ? { tls: viewerConfig.tls } : {}),
    ...(viewerConfig.credentialAttempts ? { credentialAttempts: viewerConfig.credentialAttempts } : {}),
    ...(viewerConfig.exportFile ? { exportFile: viewerConfig.exportFile } : {}),
    ...(viewerConfig.maxUploadBytes ? { maxUploadBytes: viewerConfig.maxUploadBytes } : {}),
    recorderStats: () => ({ ...recorder.stats }),
    refusedCount: async () => {
      const subject = deadLetterSubject(AUDITOR_PARTICIPANT);
      const info = await jsm.streams.info(StreamNames.deadLetter, { subjects_filter: subject });
      return info.state.subjects?.[subject] ?? 0;
    },
    logger,
  });
}

/**
 * Resolves once everything EXCHANGE holds now is recorded, by sequence: a consumer's pending count alone may
 * not yet include a message the stream has just stored.
 */
async function waitCaughtUp(jsm: JetStreamManager, consumerName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // where the auditor's credentials may not read the stream's info (a secured server), its consumer's counts
  const target = await jsm.streams.info(StreamNames.exchange).then(
    (info) => info.state.last_seq,
    () => 0,
  );
  for (;;) {
    const info = await jsm.consumers.info(StreamNames.exchange, consumerName);
    if (info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= target) return;
    if (Date.now() > deadline) {
      throw new Error(`the auditor still has ${info.num_pending + info.num_ack_pending} messages to record`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
