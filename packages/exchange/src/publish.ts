import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import { ExchangeError } from './exchange-error.js';

/** Retry settings of {@link publishWithRetry}. */
export interface RetryOptions {
  /** Attempts in all (default 10: with the delays below, about 20 s, longer than a stream leader election). */
  attempts?: number;
  /** First delay in ms, doubled each time with jitter (default 100). */
  baseDelayMs?: number;
  /**
   * Aborted when the exchange closes: no further attempt starts and a wait between attempts ends at once,
   * with `ERR_EXCHANGE_CLOSED`. An attempt already under way runs to its end (its answer may store the
   * message).
   */
  signal?: AbortSignal;
}

function closedError(subject: string, attempts: number, cause?: unknown): ExchangeError {
  return new ExchangeError(
    'ERR_EXCHANGE_CLOSED',
    `The exchange closed before the publish to ${subject} succeeded (${attempts} attempt(s) made).`,
    { ...(cause === undefined ? {} : { cause }), details: { subject, attempts } },
  );
}

function isNoResponders(err: unknown): boolean {
  const e = err as { message?: string; code?: string; name?: string };
  return /no responders|503|jetstream is not enabled/i.test(
    `${e.name ?? ''} ${e.code ?? ''} ${e.message ?? ''}`,
  );
}

function isTransient(err: unknown): boolean {
  const e = err as { message?: string; code?: string; name?: string };
  return /timeout|timed out|disconnect|closed|reconnect|no responders|503/i.test(
    `${e.name ?? ''} ${e.code ?? ''} ${e.message ?? ''}`,
  );
}

/**
 * Publishes to JetStream, retrying transient failures (time-outs, a stream leader being elected, a
 * reconnect) with exponential backoff and jitter. With a `msgID` a retry after a lost ack cannot store the
 * message twice. A subject that no stream covers (nats-server answers "no responders" or "jetstream is
 * not enabled") becomes `ERR_NO_STREAM` once the retries are spent.
 */
export async function publishWithRetry(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array | string,
  options: Partial<JetStreamPublishOptions> = {},
  retry: RetryOptions = {},
): Promise<PubAck> {
  const attempts = retry.attempts ?? 10;
  let delay = retry.baseDelayMs ?? 100;
  const { signal } = retry;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw closedError(subject, attempt - 1);
    try {
      return await js.publish(subject, data, options);
    } catch (err) {
      if (attempt >= attempts || !isTransient(err)) {
        if (isNoResponders(err)) {
          throw new ExchangeError(
            'ERR_NO_STREAM',
            `No JetStream stream answered for ${subject.split('.').slice(0, 2).join('.')}.* after ${attempt} attempt(s): ` +
              'the exchange streams are not provisioned on this server (start it with pnpm start, or let ' +
              'connectExchange provision them), or, in a cluster, the stream has had no leader for that long.',
            { cause: err, details: { subject } },
          );
        }
        throw new ExchangeError(
          'ERR_PUBLISH_FAILED',
          `Publishing to ${subject} failed after ${attempt} attempt(s).`,
          {
            cause: err,
            details: { subject, attempts: attempt },
          },
        );
      }
      try {
        await sleep(delay + Math.random() * delay, undefined, signal ? { signal } : undefined);
      } catch {
        // only an abort ends the wait early
        throw closedError(subject, attempt, err);
      }
      delay = Math.min(delay * 2, 5_000);
    }
  }
}
