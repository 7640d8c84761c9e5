import { setMaxListeners } from 'node:events';
import { type JetStreamClient, type JetStreamManager, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { defaultProvider, newMessageId } from '@passerelle/envelope';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_MAX_DELIVER,
  inboxConsumerName,
  receiptConsumerName,
} from './consumers.js';
import type { ExchangeContext } from './context.js';
import { errorSummary } from './error-summary.js';
import { ExchangeError } from './exchange-error.js';
import { Health } from './health.js';
import type { IdempotencyStore } from './idempotency.js';
import { Inbound } from './inbound.js';
import { type Logger, createLogger } from './logger.js';
import { type ExchangeMetrics, createExchangeMetrics } from './metrics.js';
import { DEFAULT_STOP_GRACE_MS, checkedGraceMs, runPullLoop } from './pull-loop.js';
import { ReceiptDesk } from './receipt-desk.js';
import type { Outbox, OutboxRecord, ReceiptClaims } from './receipts.js';
import { Rejector } from './rejection.js';
import { type SendOptions, type SentMessage, Sender } from './send.js';
import { StreamNames } from './streams.js';
import type { ExchangeOptions, Handlers, Readiness, RejectionListener, Subscription } from './types.js';

/**
 * A participant's connection to the exchange: a small façade over its parts — sending and the outbox
 * ({@link Sender}), the pull loops, the inbox's checks and handlers ({@link Inbound}), rejection to
 * DEADLETTER ({@link Rejector}), receipts both ways ({@link ReceiptDesk}) and its health ({@link Health}).
 * Create it with `connectExchange`.
 */
export class Exchange {
  readonly participant: string;
  readonly metrics: ExchangeMetrics;
  readonly logger: Logger;
  readonly js: JetStreamClient;
  private readonly ctx: ExchangeContext;
  private readonly subscriptions = new Set<Subscription>();
  /** The subscription to this participant's inbox, while it runs. */
  private inbox: Subscription | undefined;
  /** Aborted by {@link stop} once the subscriptions have stopped: sends end instead of retrying. */
  private readonly closed = new AbortController();
  /** Sends under way, which {@link stop} lets finish: each ends at its next wait once it is aborted. */
  private readonly sending = new Set<Promise<SentMessage[]>>();
  private readonly sender: Sender;
  private readonly rejector: Rejector;
  private readonly receipts: ReceiptDesk;
  private readonly inbound: Inbound;
  private readonly health: Health;

  /** @internal use `connectExchange` */
  constructor(
    private readonly options: ExchangeOptions,
    readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    readonly jsm: JetStreamManager,
    idempotency: IdempotencyStore,
    outbox: Outbox,
  ) {
    this.participant = options.participant;
    this.metrics = options.metrics ?? createExchangeMetrics(options.participant);
    this.logger = options.logger ?? createLogger(`exchange:${options.participant}`);
    this.js = jetstream(nc, {
      timeout: options.requestTimeoutMs ?? 10_000,
      ...(options.exchangeApiPrefix ? { apiPrefix: options.exchangeApiPrefix } : {}),
    });
    // every publish waiting to retry listens on it; more than ten at once is normal during an outage
    setMaxListeners(0, this.closed.signal);
    this.ctx = {
      participant: options.participant,
      options,
      nc,
      js: this.js,
      jsm,
      provider: options.provider ?? defaultProvider,
      metrics: this.metrics,
      logger: this.logger,
      idempotency,
      outbox,
      retry: { ...options.sendRetry, signal: this.closed.signal },
      ackWaitMs: options.consumer?.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
      stopGraceMs:
        options.stopGraceMs === undefined
          ? DEFAULT_STOP_GRACE_MS
          : checkedGraceMs(options.stopGraceMs, 'stopGraceMs'),
    };
    this.sender = new Sender({
      ...this.ctx,
      keys: options.keys,
      directory: options.directory,
      contracts: options.contracts,
      maxBytes: options.maxBytes,
      payloadSeal: options.payloadSeal,
    });
    this.rejector = new Rejector(this.ctx);
    this.receipts = new ReceiptDesk(this.ctx, this.rejector);
    this.inbound = new Inbound(this.ctx, this.rejector, this.receipts, (type, payload, sendOptions) =>
      this.send(type, payload, sendOptions),
    );
    this.health = new Health(this.ctx, () => [
      receiptConsumerName(this.participant),
      ...(this.inbox ? [inboxConsumerName(this.participant)] : []),
    ]);
    // which cryptography this process runs
    this.logger.info({ crypto: this.ctx.provider.name }, 'exchange connected');
    const receiptLoop = this.receipts.consume(this.health, this.subscriptions);
    // the loop's end is this exchange's failure (readiness, onFailure), not an unhandled rejection
    receiptLoop.closed.catch((err: unknown) =>
      this.logger.error({ err: errorSummary(err) }, 'the receipts loop ended'),
    );
  }

  /** Calls `listener` for every message this participant rejects to DEADLETTER. */
  onRejection(listener: RejectionListener): () => void {
    return this.rejector.listen(listener);
  }

  /**
   * Calls `listener` once, with the reason, when this exchange can no longer work ({@link failure}: its
   * connection closed, or a pull loop ended, without a stop). A process should then stop and be started
   * again by its supervisor; the service processes do.
   */
  onFailure(listener: (reason: string) => void): () => void {
    return this.health.onFailure(listener);
  }

  /** Whether {@link stop} (or {@link close}) has been called. */
  get stopRequested(): boolean {
    return this.health.stopping;
  }

  /**
   * Sends a message: contract check (fails fast, before any crypto), projection per recipient, schema
   * validation, seal, a record in the outbox, publish with `Nats-Msg-Id` = message id, retries through
   * elections. Without `to` it fans out to every recipient the contract names for the dossier context,
   * each receiving its own projection encrypted to it alone. Resolves once every recipient's envelope is
   * stored by the server and recorded by the sender. Rejects with a refusal of the message itself
   * (`isRefusedBeforePublishing`), with `ERR_NOT_SENT` (nothing of it will ever be delivered: safe to
   * send again), or with `ERR_SEND_OUTCOME_UNKNOWN` (send again with `details.messageId`: exactly once).
   *
   * @example
   * ```ts
   * await exchange.send('residence-decided', payload, { dossierId, context });
   * ```
   */
  async send(type: string, payload: unknown, options: SendOptions): Promise<SentMessage[]> {
    if (this.closed.signal.aborted) {
      const closed = new ExchangeError(
        'ERR_EXCHANGE_CLOSED',
        `The exchange of ${this.participant} is closed.`,
      );
      const messageId = options.messageId ?? newMessageId();
      throw new ExchangeError(
        'ERR_NOT_SENT',
        `The ${type} message ${messageId} was not sent (ERR_EXCHANGE_CLOSED): the exchange of ${this.participant} is closed.`,
        { cause: closed, details: { messageId, type, cause: closed.code } },
      );
    }
    const run = this.sender.send(type, payload, options);
    this.sending.add(run);
    try {
      return await run;
    } finally {
      this.sending.delete(run);
    }
  }

  /**
   * Checks a message as {@link send} does before anything is sealed — recipients for the dossier context,
   * the contract, the schema, the message id — and throws what `send` would throw. A service checks what a
   * step decided this way before it records the step, so that a message that can never be sent is refused
   * with the step, not kept and retried.
   */
  check(type: string, payload: unknown, options: Omit<SendOptions, 'dossierId'>): void {
    this.sender.checked(type, payload, options);
  }

  /**
   * Handles this participant's messages (see {@link Inbound.handle}): one subscription per exchange, every
   * handler in one call.
   *
   * @example
   * ```ts
   * exchange.subscribe({ 'application-submitted': async (m) => { … } });
   * ```
   */
  subscribe(handlers: Handlers): Subscription {
    if (this.inbox) {
      // Two loops on one durable consumer would split its messages, each refusing the types it lacks.
      throw new ExchangeError(
        'ERR_ALREADY_SUBSCRIBED',
        `${this.participant} already has a subscription to its inbox; pass every handler to one subscribe call.`,
        { details: { participant: this.participant } },
      );
    }
    // the backlog is read from the server when the metrics are collected
    const probe = async (): Promise<void> => void (await this.pending());
    const inbox = runPullLoop(this.ctx, {
      consumerName: inboxConsumerName(this.participant),
      concurrency: this.options.concurrency ?? 16,
      maxDeliver: this.options.consumer?.maxDeliver ?? DEFAULT_MAX_DELIVER,
      health: this.health,
      subscriptions: this.subscriptions,
      process: (msg, limit, abandoned) => this.inbound.handle(msg, handlers, limit, abandoned),
      ended: () => {
        this.metrics.pendingProbes.delete(probe);
        if (this.inbox === inbox) this.inbox = undefined;
      },
    });
    this.inbox = inbox;
    this.metrics.pendingProbes.add(probe);
    return inbox;
  }

  /** Verifies a receipt's signature against the receiver's key valid at its `receivedAt`. */
  verifyReceipt(jws: string): Promise<ReceiptClaims> {
    return this.receipts.verify(jws);
  }

  /**
   * Resolves with the verified receipt of a sent message, or fails with `ERR_RECEIPT_TIMEOUT`.
   *
   * @example
   * ```ts
   * const [sent] = await exchange.send('visa-issued', payload, { dossierId, to: 'immigration-office' });
   * const receipt = await exchange.awaitReceipt(sent.id, 10_000);
   * ```
   */
  awaitReceipt(messageId: string, timeoutMs: number): Promise<ReceiptClaims> {
    return this.receipts.awaitReceipt(messageId, timeoutMs);
  }

  /** Messages sent more than `olderThanMs` ago that still have no verified receipt. */
  async unreceipted(olderThanMs: number, now = new Date()): Promise<OutboxRecord[]> {
    return this.ctx.outbox.unreceipted(new Date(now.getTime() - olderThanMs));
  }

  /** Messages waiting in this participant's inbox consumer (also published as a metric). */
  async pending(): Promise<number> {
    const info = await this.jsm.consumers.info(StreamNames.exchange, inboxConsumerName(this.participant));
    this.metrics.consumerPending.set({ consumer: info.name }, info.num_pending);
    return info.num_pending + info.num_ack_pending;
  }

  /**
   * Whether this exchange can do its work now, for a readiness probe (`/readyz`): not stopped, its
   * connection open and connected, and JetStream answering within `timeoutMs` (default 2 000) for the
   * consumers it pulls from (its receipts, and its inbox while subscribed), whose loops still run. Never
   * throws: a failing part is the `reason`.
   */
  readiness(timeoutMs = 2_000): Promise<Readiness> {
    return this.health.readiness(timeoutMs);
  }

  /**
   * Why this exchange can no longer work and will not recover by itself, without having been stopped: its
   * connection closed (its reconnection attempts ran out, or its owner closed it), or one of its pull loops
   * ended; `undefined` while it works or once {@link stop} was called. A process in that state should be
   * restarted (`/healthz` answers 503; the service processes exit).
   */
  failure(): string | undefined {
    return this.health.failure();
  }

  /**
   * Stops every subscription after its handlers in flight finish (their sends and receipts retry as
   * usual) or, past `graceMs` (default `stopGraceMs`, 30 s), after abandoning those still running (their
   * `signal` aborts; their messages are delivered again), then ends the sends still waiting to retry a
   * publish, lets an attempt under way get its answer, and refuses new sends. The connection stays open;
   * {@link close} drains it.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    this.health.stopping = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop(options)));
    this.closed.abort();
    // no receipt is consumed any more: callers still waiting for one hear it now, not at their time-out
    this.receipts.rejectAll();
    await Promise.allSettled([...this.sending]);
  }

  /** {@link stop}, then drains the connection if the exchange opened it. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    await this.stop(options);
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain();
  }
}
