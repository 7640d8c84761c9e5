import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import { ExchangeError } from './exchange-error.js';

/** Retry settings of {@link publishWithRetry}. */
export interface RetryOptions {
  /**
   * Attempts in all (default 10: with the delays below, 20–40 s of waiting, longer than a stream leader
   * election; up to about two minutes when the attempts time out).
   */
  attempts?: number;
  /** First delay in ms, doubled each time with jitter (default 100). */
  baseDelayMs?: number;
  /**
   * Aborted when the exchange closes: no further attempt starts and a wait between attempts ends at once,
   * with `ERR_EXCHANGE_CLOSED`. An attempt under way is not interrupted by the signal: its answer decides.
   */
  signal?: AbortSignal;
}

function closedError(subject: string, attempts: number, cause?: unknown): ExchangeError {
  return new ExchangeError(
    'ERR_EXCHANGE_CLOSED',
    `The exchange or its connection closed before a publish to ${subject} was confirmed (${attempts} attempt(s) made).`,
    { ...(cause === undefined ? {} : { cause }), details: { subject, attempts } },
  );
}

interface ErrorLike {
  name?: string;
  code?: string | number;
  message?: string;
  cause?: unknown;
}

/** An error and its causes (nats.js wraps "no responders" in a JetStreamNotEnabled, closings in requests). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    out.push(e);
    e = (e as ErrorLike).cause;
  }
  return out;
}

/**
 * The names, codes and messages of an error's chain, without the subject: a subject carries participant
 * ids (a commune's NIS code such as 15031), which must not read as a status such as 503.
 */
function errorText(links: readonly ErrorLike[], subject: string): string {
  return links
    .map((e) => `${e.name ?? ''} ${e.code ?? ''} ${(e.message ?? '').split(subject).join(' ')}`)
    .join(' ');
}

type Failure = 'gone' | 'permanent' | 'no-stream' | 'transient';

/** What a failed attempt says about the next one. */
function classify(err: unknown, subject: string): Failure {
  const links = chain(err);
  const names = links.map((e) => e.name);
  // a closed or draining connection never carries a publish again
  if (names.includes('ClosedConnectionError') || names.includes('DrainingConnectionError')) return 'gone';
  if (names.includes('PermissionViolationError')) return 'permanent';
  const text = errorText(links, subject);
  if (/connection closed|connection draining/i.test(text)) return 'gone';
  // nats-server answers "no responders" where no stream takes the subject: none is provisioned, or a
  // clustered stream has no leader for a moment
  if (/no ?responders|\b503\b|jetstream is not enabled/i.test(text)) return 'no-stream';
  if (/timeout|timed out|disconnect|reconnect/i.test(text)) return 'transient';
  return 'permanent';
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
  retry: Readonly<RetryOptions> = {},
): Promise<PubAck> {
  const attempts = retry.attempts ?? 10;
  let delay = retry.baseDelayMs ?? 100;
  const { signal } = retry;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw closedError(subject, attempt - 1);
    try {
      return await js.publish(subject, data, options);
    } catch (err) {
      const failure = classify(err, subject);
      if (failure === 'gone' || (signal?.aborted && failure !== 'permanent')) {
        throw closedError(subject, attempt, err);
      }
      if (attempt >= attempts || failure === 'permanent') {
        if (failure === 'no-stream') {
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
