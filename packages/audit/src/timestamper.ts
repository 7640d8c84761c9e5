import { backoffDelay } from '@passerelle/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Subjects } from '@passerelle/exchange';
import { sha256Hex } from './digest.js';
import type { CheckpointLedgerEntry, TimestampClaims } from './entry.js';
import { timestampImprintInput } from './entry.js';
import { parseEntry } from './parse-entry.js';
import { lastLedgerMessage, nextLedgerMessage } from './stream-lookup.js';
import type { TsaClient } from './tsa-client.js';
import type { LedgerWriter } from './writer.js';

/** Options of {@link createTimestamper}. */
export interface TimestamperOptions {
  writer: Pick<LedgerWriter, 'appendTimestamp'>;
  tsa: TsaClient;
  /** The batch window: a request goes this long after a checkpoint is queued, in ms (default 10 000). */
  intervalMs?: number;
  /** Checkpoints per token at most (default 500). */
  maxBatch?: number;
  /** First wait after a failure, in ms, doubled at each failure in a row (default 1 000). */
  initialBackoffMs?: number;
  /** Longest wait between attempts, in ms (default 300 000). */
  maxBackoffMs?: number;
  now?: () => Date;
  /** Told of each failed attempt (logs): never thrown anywhere else. */
  onError?: (err: unknown, nextAttemptMs: number) => void;
  /** Told of each token recorded. */
  onTimestamp?: (checkpoints: number, genTime: Date) => void;
}

/** Timestamps checkpoints in the background; see {@link createTimestamper}. */
export interface Timestamper {
  /** Queues a stored checkpoint for a token. Never waits for the TSA. */
  enqueue(checkpoint: CheckpointLedgerEntry): void;
  /** Checkpoints waiting for a token. */
  readonly pending: number;
  /** Seconds since the oldest waiting checkpoint was issued (0 when none waits). */
  lagSeconds(): number;
  /** Failed attempts in a row (0 after a success). */
  readonly failures: number;
  /** When the TSA attested the last token recorded. */
  readonly lastGenTime: Date | undefined;
  /** Tries now (waits for the attempt); resolves to whether every queued checkpoint has a token. */
  flush(): Promise<boolean>;
  /** Stops; an attempt under way is awaited, nothing is retried. */
  close(): Promise<void>;
}

interface Waiting {
  seq: number;
  sealSha256: string;
  issuedAt: number;
}

/**
 * Obtains RFC 3161 tokens for checkpoints in the background, in batches: one request covers every
 * checkpoint waiting (up to `maxBatch`), `intervalMs` after the first of them was queued; a token is recorded in the ledger
 * as a `timestamp` entry. A slow or failing TSA never holds up the caller: `enqueue` returns at once,
 * failures are retried with exponential backoff (with jitter), and `lagSeconds()` says how far behind the
 * timestamps are. The queue holds a seq and a hash per checkpoint only.
 *
 * @example
 * ```ts
 * const timestamper = createTimestamper({ writer, tsa: createTsaClient({ url, trust }) });
 * const writer = await createLedgerWriter({ ..., onCheckpoint: (cp) => timestamper.enqueue(cp) });
 * ```
 */
export function createTimestamper(options: TimestamperOptions): Timestamper {
  const now = options.now ?? (() => new Date());
  const interval = options.intervalMs ?? 10_000;
  const maxBatch = options.maxBatch ?? 500;
  const initial = options.initialBackoffMs ?? 1_000;
  const maxBackoff = options.maxBackoffMs ?? 300_000;
  const queue: Waiting[] = [];
  let failures = 0;
  let lastGenTime: Date | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> | undefined;
  let closed = false;

  const attempt = async (): Promise<boolean> => {
    if (queue.length === 0) return true;
    const batch = queue.slice(0, maxBatch);
    const claims: TimestampClaims = {
      ledger: 'pex-ledger',
      checkpoints: batch.map((w) => ({ seq: w.seq, sealSha256: w.sealSha256 })),
    };
    try {
      const token = await options.tsa.timestamp(timestampImprintInput(claims));
      await options.writer.appendTimestamp(claims, token.der);
      queue.splice(0, batch.length);
      failures = 0;
      lastGenTime = token.attested.genTime;
      options.onTimestamp?.(batch.length, token.attested.genTime);
      return queue.length === 0;
    } catch (err) {
      failures++;
      options.onError?.(err, backoff());
      return false;
    }
  };

  const backoff = (): number => {
    if (failures === 0) return interval;
    return backoffDelay(failures, { baseMs: initial, maxMs: maxBackoff, jitter: 0.1 });
  };

  const run = (): Promise<boolean> => {
    running ??= attempt().finally(() => {
      running = undefined;
      schedule();
    });
    return running;
  };

  const schedule = (): void => {
    if (closed || timer || running || queue.length === 0) return;
    // the batch window: checkpoints queued meanwhile go in the same request
    const wait = failures > 0 ? backoff() : interval;
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, wait);
    timer.unref();
  };

  return {
    enqueue(checkpoint) {
      if (queue.some((w) => w.seq === checkpoint.seq)) return;
      queue.push({
        seq: checkpoint.seq,
        sealSha256: sha256Hex(checkpoint.seal),
        issuedAt: Date.parse(checkpoint.meta.issuedAt),
      });
      schedule();
    },
    get pending() {
      return queue.length;
    },
    lagSeconds() {
      const oldest = queue[0];
      return oldest ? Math.max(0, (now().getTime() - oldest.issuedAt) / 1000) : 0;
    },
    get failures() {
      return failures;
    },
    get lastGenTime() {
      return lastGenTime;
    },
    async flush() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (running) await running;
      return run();
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

/**
 * The checkpoints of LEDGER that no timestamp entry covers yet, in order: those after the last checkpoint
 * the last timestamp entry names. A restarted auditor queues them again.
 */
export async function untimestampedCheckpoints(nc: NatsConnection): Promise<CheckpointLedgerEntry[]> {
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  const last = await lastLedgerMessage(jsm, `${Subjects.ledger}.timestamp`);
  let from = 1;
  if (last) {
    const e = parseEntry(last.data, last.seq);
    if (e.kind === 'timestamp') from = Math.max(...e.meta.checkpoints.map((c) => c.seq)) + 1;
  }
  const out: CheckpointLedgerEntry[] = [];
  for (;;) {
    const m = await nextLedgerMessage(jsm, `${Subjects.ledger}.checkpoint`, from);
    if (!m) return out;
    const e = parseEntry(m.data, m.seq);
    if (e.kind === 'checkpoint') out.push(e);
    from = m.seq + 1;
  }
}
