import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import { ExchangeError } from './exchange-error.js';
import { type RetryOptions, RetriesEnded, retrying } from '@passerelle/nats';

export type { RetryOptions } from '@passerelle/nats';

/**
 * Publishes to JetStream, retrying transient failures (time-outs, a stream without a leader for a moment,
 * which nats-server answers "no responders", a reconnect) with the exchange's backoff ({@link retrying}).
 * With a `msgID` a retry after a lost ack cannot store the message twice. A subject that no stream covers
 * becomes `ERR_NO_STREAM` once the retries are spent; a closed connection, or an aborted `signal`,
 * `ERR_EXCHANGE_CLOSED` at once; a refusal `ERR_PUBLISH_FAILED`. Every such error says in `details.stored`
 * whether the message may have been stored all the same (`unknown`: an attempt's answer was lost) or
 * certainly was not (`no`).
 */
export async function publishWithRetry(
  js: JetStreamClient,
  subject: string,
  data: Uint8Array | string,
  options: Partial<JetStreamPublishOptions> = {},
  retry: Readonly<RetryOptions> = {},
): Promise<PubAck> {
  try {
    return await retrying(() => js.publish(subject, data, options), retry);
  } catch (err) {
    if (!(err instanceof RetriesEnded)) throw err;
    const { attempts, failure, mayHaveHappened, cause } = err.end;
    const details = { subject, attempts, stored: mayHaveHappened ? 'unknown' : 'no' };
    if (failure === 'closed' || failure === 'aborted') {
      throw new ExchangeError(
        'ERR_EXCHANGE_CLOSED',
        `The exchange or its connection closed before a publish to ${subject} was confirmed (${attempts} attempt(s) made).`,
        { cause, details },
      );
    }
    if (failure === 'unavailable') {
      throw new ExchangeError(
        'ERR_NO_STREAM',
        `No JetStream stream answered for ${subject.split('.').slice(0, 2).join('.')}.* after ${attempts} attempt(s): ` +
          'the exchange streams are not provisioned on this server (start it with pnpm start, or let ' +
          'connectExchange provision them), or, in a cluster, the stream has had no leader for that long.',
        { cause, details },
      );
    }
    throw new ExchangeError(
      'ERR_PUBLISH_FAILED',
      `Publishing to ${subject} failed after ${attempts} attempt(s).`,
      {
        cause,
        details,
      },
    );
  }
}
