import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type KeyResolver, type LedgerWriter, type PrivateJwk, createLedgerWriter } from '@passerelle/audit';
import {
  type Logger,
  StreamNames,
  createLogger,
  deadLetterSubject,
  provisionStreams,
} from '@passerelle/exchange';
import { CheckpointVerifier } from './entry-checks.js';
import { LedgerIndex } from './ledger-index.js';
import {
  AUDITOR_CONSUMER,
  AUDITOR_PARTICIPANT,
  type Recorder,
  type RecorderStats,
  startRecorder,
} from './recorder.js';
import type { CredentialAttempts } from './viewer/access.js';
import { type Viewer, startViewer } from './viewer/server.js';

/** Settings of the web viewer. */
export interface ViewerConfig {
  /** Bearer token security officers present (at least 16 characters). */
  token: string;
  /** Listen address (default 127.0.0.1) and port (default 8090; 0 picks a free one). */
  host?: string;
  port?: number;
  /**
   * Serve HTTPS with this certificate (chain) and private key, PEM (`readAuditorSettings` reads and checks
   * them); the session cookie is then always `Secure`.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Wrong tokens one client address may present per window before it gets 429 (default 5 a minute). */
  credentialAttempts?: CredentialAttempts;
  /** A ledger export file to show and verify at /export. */
  exportFile?: string;
  maxUploadBytes?: number;
}

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
  const writer = await createLedgerWriter({
    nc,
    auditorKey,
    resolver,
    checkpointEvery: config.checkpointEvery ?? 1000,
    checkpointIntervalMs: config.checkpointIntervalMs ?? 60_000,
  });
  const index = new LedgerIndex(nc);
  await index.refresh();
  logger.info(
    { entries: index.lastSeq, checkpoints: index.checkpoints.length, chainBreak: index.chainBreak?.seq },
    'ledger indexed',
  );
  if (index.chainBreak) {
    logger.error(
      { seq: index.chainBreak.seq },
      'the stored ledger does not link up: run passerelle audit verify',
    );
  }
  const consumerName = config.consumerName ?? AUDITOR_CONSUMER;
  const recorder: Recorder = await startRecorder({
    js,
    jsm,
    writer,
    index,
    logger,
    consumerName,
    ...(config.provision === false ? { provision: false } : {}),
  });
  const checkpoints = new CheckpointVerifier(index, resolver);
  let viewer: Viewer | undefined;
  if (config.viewer) {
    try {
      viewer = await startViewer({
        index,
        checkpoints,
        resolver,
        token: config.viewer.token,
        ...(config.viewer.host ? { host: config.viewer.host } : {}),
        ...(config.viewer.port !== undefined ? { port: config.viewer.port } : {}),
        ...(config.viewer.tls ? { tls: config.viewer.tls } : {}),
        ...(config.viewer.credentialAttempts ? { credentialAttempts: config.viewer.credentialAttempts } : {}),
        ...(config.viewer.exportFile ? { exportFile: config.viewer.exportFile } : {}),
        ...(config.viewer.maxUploadBytes ? { maxUploadBytes: config.viewer.maxUploadBytes } : {}),
        recorderStats: () => ({ ...recorder.stats }),
        refusedCount: async () => {
          const subject = deadLetterSubject(AUDITOR_PARTICIPANT);
          const info = await jsm.streams.info(StreamNames.deadLetter, { subjects_filter: subject });
          return info.state.subjects?.[subject] ?? 0;
        },
        logger,
      });
    } catch (err) {
      await recorder.stop();
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
    async caughtUp(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const info = await jsm.consumers.info(StreamNames.exchange, consumerName);
        if (info.num_pending === 0 && info.num_ack_pending === 0) return;
        if (Date.now() > deadline) {
          throw new Error(
            `the auditor still has ${info.num_pending + info.num_ack_pending} messages to record`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async checkpoint() {
      const cp = await writer.checkpoint();
      if (cp) await index.observe(cp);
    },
    async close() {
      await viewer?.close();
      await recorder.stop();
      await writer.close();
      logger.info({ entries: writer.state.nextSeq - 1 }, 'auditor stopped');
    },
  };
}
