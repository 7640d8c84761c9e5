import { setMaxListeners } from 'node:events';
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { SERVER_MAX_DELIVER, backoffDelay } from './consumers.js';
import type { ExchangeContext } from './context.js';
import { ExchangeError } from './exchange-error.js';
import { errorSummary } from './error-summary.js';
import type { Health } from './health.js';
import { StreamNames } from './streams.js';
import type { Subscription } from './types.js';

/** One pull loop of {@link runPullLoop}. */
export interface PullLoop {
  consumerName: string;
  /** Messages processed at once. */
  concurrency: number;
  /** The runtime's count of deliveries before a message is dead-lettered. */
  maxDeliver: number;
  process: (msg: JsMsg, maxDeliver: number, abandoned: AbortSignal) => Promise<void>;
  /** Runs when the loop ends, however it ends. */
  ended?: () => void;
  /** Told when the loop starts and ends (a loop that ends by itself is a failure). */
  health: Health;
  /** The exchange's running subscriptions, which a stop goes through. */
  subscriptions: Set<Subscription>;
}

/**
 * How long one pull request waits on the server. Every renewal crosses from the participant's account to the
 * exchange's, once per consumer and per expiry, messages or not: a long expiry keeps a host of many idle
 * participants cheap. A killed client's pull does not hold messages meanwhile: the server drops a waiting
 * pull once nobody listens on its reply subject (followed through the account imports), and a pull that
 * took messages and stalled gives them back after `ack_wait`.
 */
export const PULL_EXPIRES_MS = 60_000;

/**
 * The server's heartbeat on a pull with nothing to deliver: two missed and the client checks the consumer
 * and pulls again, so a pull lost on the way (a leaf link cut and restored, a consumer deleted) is noticed
 * within two heartbeats, not at the end of the expiry.
 */
export const PULL_IDLE_HEARTBEAT_MS = 5_000;

/** How long a stop waits for handlers in flight by default (`stopGraceMs`). */
export const DEFAULT_STOP_GRACE_MS = 30_000;

/** A grace period: whole ms from 0 to 2^31 - 1 (a timer's range), or `Infinity` for no limit. */
export function checkedGraceMs(ms: number, setting: string): number {
  if (ms === Infinity || (Number.isSafeInteger(ms) && ms >= 0 && ms <= 2_147_483_647)) return ms;
  throw new ExchangeError(
    'ERR_CONFIG_INVALID',
    `${setting} must be a whole number of ms from 0 to 2147483647, or Infinity to wait without limit.`,
    { details: { setting } },
  );
}

/** Whether `promise` settles (either way) within `ms` (`Infinity`: waits); the timer does not outlive the answer. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  if (ms === Infinity) {
    await promise.catch(() => undefined);
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Pulls from a durable consumer of EXCHANGE and processes up to `concurrency` messages at once. `maxDeliver`
 * is lowered to the consumer's own `max_deliver` where an operator provisioned one (with a warning: see
 * {@link SERVER_MAX_DELIVER}). A loop that fails is not hidden: its `closed` rejects, and its end is the
 * exchange's failure.
 */
export function runPullLoop(ctx: ExchangeContext, loop: PullLoop): Subscription {
  const { consumerName, concurrency, maxDeliver, process, ended, health, subscriptions } = loop;
  let messages: ConsumerMessages | undefined;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();
  // aborted when a stop gives up waiting for the handlers in flight: theirs is `IncomingMessage.signal`
  // (one signal for all of them: every handler may listen to it)
  const abandon = new AbortController();
  setMaxListeners(0, abandon.signal);
  let endedOnce = false;
  health.loopStarted(consumerName);
  const end = (): void => {
    if (endedOnce) return;
    endedOnce = true;
    if (!stopping) health.loopEnded(consumerName, true);
    ended?.();
  };
  // woken when a message's processing ends, if the loop waits for room (one waiter, not a race over all
  // the messages in flight, which would add a reaction to each of them for every message)
  let room: (() => void) | undefined;
  const pull = async (): Promise<void> => {
    const consumer: Consumer = await ctx.js.consumers.get(StreamNames.exchange, consumerName);
    const serverMaxDeliver = (await consumer.info(true)).config.max_deliver ?? SERVER_MAX_DELIVER;
    let limit = maxDeliver;
    if (serverMaxDeliver > 0) {
      limit = Math.min(maxDeliver, serverMaxDeliver);
      ctx.logger.warn(
        { consumer: consumerName, maxDeliver: serverMaxDeliver },
        'the consumer limits deliveries itself: a message whose last delivery fails before it reaches DEADLETTER is not delivered again; provision it with max_deliver -1 (provisionParticipant does)',
      );
    }
    messages = await consumer.consume({
      max_messages: concurrency,
      expires: PULL_EXPIRES_MS,
      idle_heartbeat: PULL_IDLE_HEARTBEAT_MS,
    });
    if (stopping) messages.stop();
    for await (const msg of messages) {
      while (inFlight.size >= concurrency) await new Promise<void>((resolve) => (room = resolve));
      if (stopping) {
        // pulled before the stop: not started, handed back at once for another delivery
        try {
          msg.nak();
        } catch {
          // the connection is closing: the server redelivers once the ack wait has passed
        }
        continue;
      }
      const task = process(msg, limit, abandon.signal)
        .catch((err: unknown) => {
          ctx.logger.error(
            { code: (err as { code?: string }).code, err: errorSummary(err) },
            'message processing failed',
          );
          try {
            // with the handlers' backoff: a store that is down for a while does not use up the deliveries
            msg.nak(backoffDelay(msg.info.deliveryCount, ctx.options.consumer?.backoffMs));
          } catch {
            // the connection is closing: the server redelivers once the ack wait has passed
          }
        })
        .finally(() => {
          inFlight.delete(task);
          const wake = room;
          room = undefined;
          wake?.();
        });
      inFlight.add(task);
    }
    await Promise.all(inFlight);
  };
  const closed = (async () => {
    try {
      await pull();
    } finally {
      end();
    }
  })();
  const subscription: Subscription = {
    closed,
    stop: async (options = {}) => {
      stopping = true;
      // a loop that had ended by itself is now stopped on purpose: no longer a failure
      health.loopStarted(consumerName);
      messages?.stop();
      const graceMs =
        options.graceMs === undefined ? ctx.stopGraceMs : checkedGraceMs(options.graceMs, 'graceMs');
      if (!(await settlesWithin(closed, graceMs))) {
        ctx.logger.warn(
          { consumer: consumerName, handlers: inFlight.size, graceMs },
          'handlers still running after the grace period: abandoned, their messages will be delivered again',
        );
        abandon.abort();
        // the subscription has ended for its owner, who may subscribe again
        end();
      }
      subscriptions.delete(subscription);
    },
  };
  subscriptions.add(subscription);
  return subscription;
}
