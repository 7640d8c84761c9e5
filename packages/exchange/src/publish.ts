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

/** The name, code and message of an error and of its causes: nats.js wraps "no responders" in another. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const { name, code, message, cause } = e as {
      name?: string;
      code?: string;
      message?: string;
      cause?: unknown;
    };
    parts.push(`${name ?? ''} ${code ?? ''} ${message ?? ''}`);
    e = cause;
  }
  return parts.join(' ');
}

function isNoResponders(err: unknown): boolean {
  return /no responders|503|jetstream is not enabled/i.test(errorText(err));
}

/** A closed or draining connection never carries a publish again: no retry can help. */
function isConnectionGone(err: unknown): boolean {
  const name = (err as { name?: string }).name;
  return name === 'ClosedConnectionError' || name === 'DrainingConnectionError';
}

function isTransient(err: unknown): boolean {
  return /timeout|timed out|disconnect|closed|reconnect|no responders|503|jetstream is not enabled/i.test(
    errorText(err),
  );
}

/**
 * Publishes to JetStream, retrying transient failures (time-outs, a stream without a leader for a moment,
 * which nats-server answers "no responders", a reconnect) with exponential backoff and jitter. With a
 * `msgID` a retry after a lost ack cannot store the message twice. A subject that no stream covers becomes
 * `ERR_NO_STREAM` once the retries are spent; a closed connection, or an aborted `signal`,
 * `ERR_EXCHANGE_CLOSED` at once.
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
      if (isConnectionGone(err)) throw closedError(subject, attempt, err);
      if (attempt >= attempts || !isTransient(err)) {
        if (isNoResponders(err)) {
          throw new ExchangeError(
            'ERR_NO_STREAM',
            `No JetStream stream answered for ${subject.split('.').slice(0, 2).join('.')}.* after ${attempt} attempt(s): ` +
              'the exchange streams are not provisioned on this server (start it with pnpm start, or let ' +
              'connectExchange provision them), or, in a cluster, the stream has had no leader for that long.',
            { cause: err, details: { subject, attempts: attempt } },
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
