import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from './backoff.js';
import { type NatsFailure, classifyNatsFailure, isPassing } from './nats-failure.js';

/** How an operation on JetStream is retried ({@link retrying}). */
export interface RetryOptions {
  /**
   * Attempts in all (default 10: with the delays below, 20–40 s of waiting, longer than a stream or bucket
   * leader election; up to about two minutes when the attempts time out).
   */
  attempts?: number;
  /** First delay in ms, doubled each time up to 5 s, with jitter (default 100). */
  baseDelayMs?: number;
  /**
   * Aborted when the exchange closes: no further attempt starts and a wait between attempts ends at once.
   * An attempt under way is not interrupted by the signal: its answer decides.
   */
  signal?: AbortSignal;
}

/** Why {@link retrying} gave up, and what the attempts may have done. */
export interface RetryEnd {
  /** Attempts made (0 when the signal was aborted before the first). */
  attempts: number;
  /** The last failure, or `aborted` when the signal ended the retries. */
  failure: NatsFailure | 'aborted';
  /** Whether some attempt may have taken effect (its answer was lost). */
  mayHaveHappened: boolean;
  /** The last attempt's error. */
  cause: unknown;
}

/** Thrown by {@link retrying}; callers turn it into their own catalogue error. */
export class RetriesEnded extends Error {
  constructor(readonly end: RetryEnd) {
    super(`gave up after ${end.attempts} attempt(s): ${end.failure}`, { cause: end.cause });
    this.name = 'RetriesEnded';
  }
}

const MAX_DELAY_MS = 5_000;

/**
 * Runs `op` until it succeeds, retrying the failures that pass (no leader for a moment, a time-out, a
 * reconnection) with exponential backoff and jitter: the one retry policy of requests to JetStream, for
 * publishes and buckets alike. Gives up with {@link RetriesEnded} on a refusal,
 * a closed connection, an aborted signal, or once the attempts are spent.
 */
export async function retrying<T>(op: () => Promise<T>, options: Readonly<RetryOptions> = {}): Promise<T> {
  const attempts = options.attempts ?? 10;
  const backoff = { baseMs: options.baseDelayMs ?? 100, maxMs: MAX_DELAY_MS, jitter: 1 };
  const { signal } = options;
  let mayHaveHappened = false;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) {
      throw new RetriesEnded({
        attempts: attempt - 1,
        failure: 'aborted',
        mayHaveHappened,
        cause: signal.reason,
      });
    }
    try {
      return await op();
    } catch (err) {
      const failure = classifyNatsFailure(err);
      // a request lost with its connection may have been carried out all the same
      if (failure === 'unknown' || failure === 'closed') mayHaveHappened = true;
      const end = (why: RetryEnd['failure']): RetriesEnded =>
        new RetriesEnded({ attempts: attempt, failure: why, mayHaveHappened, cause: err });
      if (!isPassing(failure) || attempt >= attempts) throw end(failure);
      if (signal?.aborted) throw end('aborted');
      try {
        await sleep(backoffDelay(attempt, backoff), undefined, signal ? { signal } : undefined);
      } catch {
        // only an abort ends the wait early
        throw end('aborted');
      }
    }
  }
}
