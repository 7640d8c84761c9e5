import { backoffDelay } from '@passerelle/nats';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { DoorClient } from './access.js';
import type { ClientStore } from './client-store.js';
import { type DoorEvent, checkDoorEvent } from './cloud-event.js';
import { DoorError } from './door-error.js';
import type { EventLog, LoggedEvent } from './event-log.js';
import type { DeliveryAttempt, DeliveryLog } from './webhook-delivery-log.js';
import { type SendResult, sendDelivery, signedDelivery } from './webhook-sender.js';
import {
  type SubscriptionStore,
  type WebhookSubscription,
  newSubscriptionId,
} from './webhook-subscriptions.js';
import { type WebhookUrlPolicy, checkWebhookUrl } from './webhook-url.js';

/** Who may read which event: the door's scoping of events to clients (default: every `read` client, all). */
export type EventReadPolicy = (client: DoorClient, event: DoorEvent) => boolean | Promise<boolean>;

/** The least a logger must do for the dispatcher (pino's and fastify's fit). */
export interface DoorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Options of the webhook deliveries. */
export interface WebhookOptions {
  /** Attempts per delivery before it is dead-lettered (default 8). */
  maxAttempts?: number;
  /** Delay before attempt n+1: `baseMs`·2^(n-1), at most `maxMs` (default 5 s, 1 h). */
  backoff?: { baseMs: number; maxMs: number };
  /** How long a receiver has to answer (default 10 s). */
  timeoutMs?: number;
  /** Where webhooks may go (default: public https addresses only). */
  urlPolicy?: WebhookUrlPolicy;
}

/** Name of a subscription's durable consumer on the event stream. */
export function webhookConsumerName(subscriptionId: string): string {
  return `wh-${subscriptionId}`;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Delivers a door's events to its webhook subscriptions. Each subscription has a durable pull consumer on
 * the event stream, created when it subscribes (starting after the log's last event then), so deliveries
 * survive restarts and several instances of a door share the work. A delivery that fails is negatively
 * acknowledged with a delay growing exponentially; once its attempts are spent it goes to the dead-letter
 * list and is terminated. Every attempt is written to the delivery log. Replays send again one delivery,
 * or every event since a position or a time, each with the same attempts and backoff.
 */
export class WebhookDispatcher {
  private readonly loops = new Map<string, { stop: () => void; done: Promise<void> }>();
  private readonly stopping = new AbortController();
  private readonly replays = new Set<Promise<void>>();
  private watching: Promise<void> | undefined;
  private readonly maxAttempts: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly timeoutMs: number;
  readonly policy: WebhookUrlPolicy;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly log: EventLog,
    private readonly subscriptions: SubscriptionStore,
    private readonly deliveries: DeliveryLog,
    private readonly clients: ClientStore,
    private readonly canRead: EventReadPolicy,
    private readonly logger: DoorLogger,
    options: WebhookOptions,
    private readonly now: () => Date,
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.backoff = options.backoff ?? { baseMs: 5_000, maxMs: 3_600_000 };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.policy = options.urlPolicy ?? {};
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1 || this.maxAttempts > 100) {
      throw new DoorError('ERR_CONFIG_INVALID', 'door setting webhooks.maxAttempts must be 1 to 100', {
        details: { setting: 'webhooks.maxAttempts' },
      });
    }
    if (!(this.backoff.baseMs >= 10 && this.backoff.maxMs >= this.backoff.baseMs)) {
      throw new DoorError('ERR_CONFIG_INVALID', 'door setting webhooks.backoff needs 10 ≤ baseMs ≤ maxMs', {
        details: { setting: 'webhooks.backoff' },
      });
    }
  }

  /** Makes a dispatcher (call {@link start} to deliver). */
  static async create(
    parts: {
      log: EventLog;
      subscriptions: SubscriptionStore;
      deliveries: DeliveryLog;
      clients: ClientStore;
      canRead: EventReadPolicy;
      logger: DoorLogger;
      now?: () => Date;
    },
    options: WebhookOptions = {},
  ): Promise<WebhookDispatcher> {
    const nc = parts.log.connection;
    return new WebhookDispatcher(
      jetstream(nc, { timeout: 30_000 }),
      await jetstreamManager(nc, { timeout: 30_000 }),
      parts.log,
      parts.subscriptions,
      parts.deliveries,
      parts.clients,
      parts.canRead,
      parts.logger,
      options,
      parts.now ?? (() => new Date()),
    );
  }

  /** Delivers to every subscription, those there now and those added later (by any instance). */
  start(): void {
    if (this.watching) return;
    this.watching = (async () => {
      for await (const change of this.subscriptions.watch(this.stopping.signal)) {
        if (change.kind === 'put') this.run(change.subscription);
        else this.halt(change.id);
      }
    })().catch((err: unknown) => {
      if (!this.stopping.signal.aborted)
        this.logger.error({ err: summary(err) }, 'webhook subscriptions watch ended');
    });
  }

  /** Stops every delivery loop and replay (what is in flight is redelivered later by the server). */
  async stop(): Promise<void> {
    this.stopping.abort();
    const loops = [...this.loops.values()];
    for (const id of [...this.loops.keys()]) this.halt(id);
    await Promise.allSettled([this.watching, ...this.replays, ...loops.map((l) => l.done)]);
  }

  /**
   * Subscribes `owner` to the door's events of `types` (all if empty) at `url`, checked against the URL
   * policy: returns the subscription and its secret, shown this once.
   */
  async subscribe(
    owner: string,
    url: string,
    types: readonly string[],
  ): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const checked = await checkWebhookUrl(url, this.policy);
    const startsAfter = await this.log.lastPosition();
    // the consumer first: every instance starts delivering as soon as it sees the subscription recorded
    const id = newSubscriptionId();
    await this.jsm.consumers.add(this.log.stream, {
      durable_name: webhookConsumerName(id),
      filter_subject: this.log.subjectOf(),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: startsAfter + 1,
      ack_wait: nanos(this.timeoutMs + 30_000),
      max_deliver: -1,
      max_ack_pending: 64,
    });
    let created: { subscription: WebhookSubscription; secret: string };
    try {
      created = await this.subscriptions.create({ id, owner, url: checked.href, types, startsAfter });
    } catch (err) {
      await this.jsm.consumers.delete(this.log.stream, webhookConsumerName(id)).catch(() => undefined);
      throw err;
    }
    this.run(created.subscription);
    return created;
  }

  /** Deletes a subscription of `owner`, its consumer with it. */
  async unsubscribe(owner: string, id: string): Promise<void> {
    await this.subscriptions.getOwned(id, owner);
    this.halt(id);
    await this.subscriptions.delete(id);
    await this.jsm.consumers.delete(this.log.stream, webhookConsumerName(id)).catch((err: unknown) => {
      if (!(err instanceof JetStreamApiError) || err.code !== JetStreamApiCodes.ConsumerNotFound) throw err;
    });
  }

  /**
   * Starts the delivery loop of a subscription (once per instance). A loop that fails (the server
   * restarting, its consumer not there yet) starts again after a pause, until the subscription is deleted.
   */
  private run(subscription: WebhookSubscription): void {
    if (this.loops.has(subscription.id) || this.stopping.signal.aborted) return;
    let messages: ConsumerMessages | undefined;
    const halted = new AbortController();
    const done = (async () => {
      while (!halted.signal.aborted) {
        try {
          const consumer = await this.js.consumers.get(this.log.stream, webhookConsumerName(subscription.id));
          messages = await consumer.consume({ max_messages: 8, expires: 5_000 });
          if (halted.signal.aborted) messages.stop();
          // one delivery at a time per subscription: a failing one waits out its backoff without holding others
          for await (const msg of messages) await this.handle(subscription, msg);
        } catch (err) {
          if (!halted.signal.aborted) {
            this.logger.warn(
              { subscription: subscription.id, err: summary(err) },
              'webhook delivery loop restarts',
            );
          }
        }
        if (!halted.signal.aborted) await sleep(1_000, halted.signal);
      }
    })();
    this.loops.set(subscription.id, {
      stop: () => {
        halted.abort();
        messages?.stop();
      },
      done,
    });
  }

  private halt(id: string): void {
    const loop = this.loops.get(id);
    if (!loop) return;
    this.loops.delete(id);
    loop.stop();
  }

  /** Whether a subscription is to get an event: a type it asked for, and one its owner may still read. */
  private async wants(subscription: WebhookSubscription, event: DoorEvent): Promise<boolean> {
    if (subscription.types.length > 0 && !subscription.types.includes(event.type)) return false;
    const owner = await this.clients.get(subscription.owner);
    if (!owner || owner.revokedAt || !owner.scopes.includes('read')) return false;
    return this.canRead({ id: owner.id, scopes: owner.scopes }, event);
  }

  private async handle(subscription: WebhookSubscription, msg: JsMsg): Promise<void> {
    let logged: LoggedEvent;
    try {
      logged = { position: msg.seq, event: checkDoorEvent(msg.json()) };
    } catch {
      this.logger.error({ position: msg.seq }, 'not a door event: not delivered');
      msg.term('not a door event');
      return;
    }
    try {
      if (!(await this.wants(subscription, logged.event))) {
        msg.ack();
        return;
      }
      const attempt = msg.info.deliveryCount;
      const result = await this.attempt(subscription, logged);
      if (result === undefined) {
        // the subscription is gone: nothing to deliver to
        msg.term('subscription deleted');
        return;
      }
      if (result.ok) {
        await this.recordAttempt(subscription, logged, attempt, result, 'delivered');
        msg.ack();
      } else if (attempt >= this.maxAttempts) {
        await this.recordAttempt(subscription, logged, attempt, result, 'dead');
        await this.buryDead(subscription, logged, attempt, result);
        msg.term('attempts spent');
      } else {
        const delay = this.delayAfter(attempt);
        await this.recordAttempt(subscription, logged, attempt, result, 'retrying', delay);
        msg.nak(delay);
      }
    } catch (err) {
      // the log or a bucket failed: the server delivers it again after a while
      this.logger.error(
        { subscription: subscription.id, position: msg.seq, err: summary(err) },
        'webhook delivery failed',
      );
      msg.nak(this.delayAfter(msg.info.deliveryCount));
    }
  }

  private delayAfter(attempt: number): number {
    // a little jitter, so that the retries of many deliveries that failed together do not come together
    return backoffDelay(attempt, { ...this.backoff, jitter: 0.1 });
  }

  /** One signed POST of an event to a subscription (`undefined` if the subscription is gone). */
  private async attempt(
    subscription: WebhookSubscription,
    logged: LoggedEvent,
  ): Promise<SendResult | undefined> {
    const secret = await this.subscriptions.secretOf(subscription.id);
    if (secret === undefined) return undefined;
    const delivery = signedDelivery(logged.event, secret, this.now());
    return sendDelivery(new URL(subscription.url), delivery, {
      policy: this.policy,
      timeoutMs: this.timeoutMs,
    });
  }

  // Its attempts spent, the delivery goes to the dead letters, where an admin can list and replay it.
  private async buryDead(
    subscription: WebhookSubscription,
    logged: LoggedEvent,
    attempt: number,
    result: SendResult,
  ): Promise<void> {
    await this.deliveries.deadLetter({
      subscriptionId: subscription.id,
      eventId: logged.event.id,
      position: logged.position,
      type: logged.event.type,
      subject: logged.event.subject,
      attempts: attempt,
      ...(result.status ? { lastStatus: result.status } : {}),
      ...(result.error ? { lastError: result.error } : {}),
      at: this.now().toISOString(),
    });
  }

  private async recordAttempt(
    subscription: WebhookSubscription,
    logged: LoggedEvent,
    attempt: number,
    result: SendResult,
    outcome: DeliveryAttempt['outcome'],
    delayMs?: number,
    replay?: boolean,
  ): Promise<DeliveryAttempt> {
    const at = this.now();
    const record: DeliveryAttempt = {
      subscriptionId: subscription.id,
      eventId: logged.event.id,
      position: logged.position,
      type: logged.event.type,
      subject: logged.event.subject,
      attempt,
      at: at.toISOString(),
      ...(result.status ? { status: result.status } : {}),
      ...(result.error ? { error: result.error } : {}),
      durationMs: result.durationMs,
      outcome,
      ...(delayMs !== undefined ? { nextAttemptAt: new Date(at.getTime() + delayMs).toISOString() } : {}),
      ...(replay ? { replay: true } : {}),
    };
    await this.deliveries.record(record);
    if (outcome === 'delivered') await this.deliveries.clearDeadLetter(subscription.id, logged.event.id);
    return record;
  }

  /**
   * Sends one event to a subscription of `owner` again, now, once: the attempt is logged (`replay: true`)
   * and returned; delivered, it leaves the dead-letter list.
   */
  async replayOne(owner: string, subscriptionId: string, eventId: string): Promise<DeliveryAttempt> {
    const subscription = await this.subscriptions.getOwned(subscriptionId, owner);
    const known =
      (await this.deliveries.lastAttempt(subscriptionId, eventId)) ??
      (await this.deliveries.deadLetterOf(subscriptionId, eventId));
    if (!known) {
      throw new DoorError(
        'ERR_DELIVERY_NOT_FOUND',
        "The subscription's delivery log has no delivery of this event.",
        {
          details: { in: 'path', name: 'eventId' },
        },
      );
    }
    const logged = await this.log.read(known.position);
    if (!logged || logged.event.id !== eventId) {
      throw new DoorError('ERR_EVENT_NOT_FOUND', "This event is no longer in the door's event log.", {
        details: { in: 'path', name: 'eventId' },
      });
    }
    const result = await this.attempt(subscription, logged);
    if (!result) throw new DoorError('ERR_SUBSCRIPTION_NOT_FOUND', 'The subscription was deleted.');
    return this.recordAttempt(
      subscription,
      logged,
      1,
      result,
      result.ok ? 'delivered' : 'failed',
      undefined,
      true,
    );
  }

  /**
   * Sends again, in the background, every event after a delivered event (by id) or since a time, up to the
   * log's last event now, each with the usual attempts and backoff (dead-lettered when they are spent).
   * Returns the positions it covers.
   */
  async replaySince(
    owner: string,
    subscriptionId: string,
    since: { afterEventId: string } | { since: Date },
  ): Promise<{ fromPosition: number; toPosition: number }> {
    const subscription = await this.subscriptions.getOwned(subscriptionId, owner);
    let fromPosition: number;
    if ('afterEventId' in since) {
      const known =
        (await this.deliveries.lastAttempt(subscriptionId, since.afterEventId)) ??
        (await this.deliveries.deadLetterOf(subscriptionId, since.afterEventId));
      if (!known) {
        throw new DoorError(
          'ERR_EVENT_NOT_FOUND',
          'This subscription was never sent an event with this id.',
          {
            details: { in: 'body', name: '/afterEventId' },
          },
        );
      }
      fromPosition = known.position + 1;
    } else {
      const first = await this.log.page({ since: since.since, limit: 1 });
      fromPosition = first[0]?.position ?? (await this.log.lastPosition()) + 1;
    }
    const toPosition = await this.log.lastPosition();
    const job = this.replayRange(subscription, fromPosition, toPosition)
      .catch((err: unknown) =>
        this.logger.error({ subscription: subscription.id, err: summary(err) }, 'webhook replay ended early'),
      )
      .finally(() => this.replays.delete(job));
    this.replays.add(job);
    return { fromPosition, toPosition };
  }

  private async replayRange(subscription: WebhookSubscription, from: number, to: number): Promise<void> {
    const signal = this.stopping.signal;
    let after = from - 1;
    while (after < to && !signal.aborted) {
      const page = await this.log.page({ after, limit: 100 });
      if (page.length === 0) return;
      for (const logged of page) {
        if (logged.position > to || signal.aborted) return;
        after = logged.position;
        if (await this.wants(subscription, logged.event))
          await this.replayWithRetries(subscription, logged, signal);
      }
    }
  }

  private async replayWithRetries(
    subscription: WebhookSubscription,
    logged: LoggedEvent,
    signal: AbortSignal,
  ) {
    for (let attempt = 1; attempt <= this.maxAttempts && !signal.aborted; attempt++) {
      const result = await this.attempt(subscription, logged);
      if (!result) return;
      if (result.ok) {
        await this.recordAttempt(subscription, logged, attempt, result, 'delivered', undefined, true);
        return;
      }
      if (attempt === this.maxAttempts) {
        await this.recordAttempt(subscription, logged, attempt, result, 'dead', undefined, true);
        await this.buryDead(subscription, logged, attempt, result);
        return;
      }
      const delay = this.delayAfter(attempt);
      await this.recordAttempt(subscription, logged, attempt, result, 'retrying', delay, true);
      await sleep(delay, signal);
    }
  }
}

function summary(err: unknown): { name?: string; code?: unknown; message?: string } {
  const e = err as { name?: string; code?: unknown; message?: string };
  return { name: e?.name, code: e?.code, message: e?.message };
}
