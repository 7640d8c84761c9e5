import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import {
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { Contracts } from '@passerelle/contracts';
import {
  type CryptoProvider,
  type EnvelopeMeta,
  defaultProvider,
  type KeyResolver,
  type ParticipantKeys,
  isWellFormedMetaField,
  newMessageId,
  openEnvelope,
  sha256Hex,
  signCompact,
  verifyCompact,
} from '@passerelle/envelope';
import { type ErrorCode, PasserelleError, isPasserelleError } from '@passerelle/errors';
import { assertJetStreamApiLevel, connectNats } from './connection.js';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_DELIVER,
  RECEIPT_MAX_DELIVER,
  SERVER_MAX_DELIVER,
  type InboxConsumerOptions,
  backoffDelay,
  ensureConsumers,
  inboxConsumerName,
  receiptConsumerName,
} from './consumers.js';
import { REPLAY_HEADER, writeDeadLetter } from './dead-letters.js';
import { ExchangeError } from './exchange-error.js';
import { IdempotencyStore, idempotencyBucketName } from './idempotency.js';
import { type Logger, createLogger } from './logger.js';
import { type ExchangeMetrics, createExchangeMetrics } from './metrics.js';
import { type RetryOptions, publishWithRetry } from './publish.js';
import {
  Outbox,
  type OutboxRecord,
  RECEIPT_TYP,
  type ReceiptClaims,
  assertReceiptClaims,
  outboxBucketName,
} from './receipts.js';
import { JetStreamApiCodes, StreamNames, Subjects, provisionStreams } from './streams.js';
import { classifyNatsFailure } from './nats-failure.js';
import { RetriesEnded, retrying } from './retry.js';
import { type SendOptions, type SentMessage, Sender } from './send.js';
import { parseMessageSubject, receiptSubject } from './subjects.js';

/** Settings of {@link connectExchange}. */
export interface ExchangeOptions {
  /** This process's participant id (e.g. `commune-21004`). */
  participant: string;
  /** The participant's private keys. */
  keys: ParticipantKeys;
  /** Public keys of every participant, verified against the trust anchor (a directory client). */
  directory: KeyResolver;
  /** The exchange agreement and schemas. */
  contracts: Contracts;
  /** NATS servers; or pass `nc` to share a connection. */
  servers?: string | string[];
  /** Extra connection settings: credentials, TLS, name (hardening). */
  connection?: Omit<ConnectionOptions, 'servers'>;
  /** An existing connection; the exchange then does not close it. */
  nc?: NatsConnection;
  /**
   * On a server where the participant has its own account (`LoadedCredentials.accounts`): the prefix under
   * which that account imports the shared streams' JetStream API. Its buckets stay on its own `$JS.API`.
   */
  exchangeApiPrefix?: string;
  /** Inbox consumer delivery settings. */
  consumer?: InboxConsumerOptions;
  /**
   * Create what is missing — streams, this participant's consumers and buckets (default true). False in
   * secured deployments, where the operator provisions everything with {@link provisionParticipant} and
   * a participant's credentials allow it only to use its own consumers and buckets.
   */
  provision?: boolean;
  /** Stream and bucket replicas (1 on one server, 3 in a cluster). */
  replicas?: number;
  /** Freshness window of `issuedAt`, in ms, against the time the server stored the message. */
  freshnessMs?: number;
  /** Largest envelope accepted or sent, in bytes. */
  maxBytes?: number;
  /**
   * The JOSE implementation. Default: the envelope's `defaultProvider` (node:crypto, no JOSE library;
   * signatures inline where at most two cores are usable, a container's CPU quota counted, on libuv's
   * thread pool beyond), which passes the envelope's conformance suite and tamper corpus, interoperates
   * both ways with jose and node-jose, and costs less CPU per message than jose (figures in
   * BENCHMARKS.md); `joseProvider` uses jose.
   */
  provider?: CryptoProvider;
  /** Handler calls in flight at once per subscription (default 16). */
  concurrency?: number;
  /**
   * How a send's requests (outbox records, publishes) are retried through elections and reconnections:
   * attempts in all (default 10) and the first delay (default 100 ms, doubled up to 5 s, with jitter), that
   * is 20–40 s of waiting before a send gives up. An interactive caller may prefer to give up sooner.
   */
  sendRetry?: { attempts?: number; baseDelayMs?: number };
  /** How long one JetStream request may go unanswered before it counts as failed (default 10 000 ms). */
  requestTimeoutMs?: number;
  logger?: Logger;
  metrics?: ExchangeMetrics;
  /**
   * Name of this process instance in idempotency leases (default: the participant id and a random suffix,
   * new for each process). A process finding a lease under its own name takes it back at once (a restarted
   * process resumes its previous life's messages without waiting for their leases to expire), so give a
   * fixed name only where at most one live process carries it at a time (e.g. a stateful set's pod name);
   * two live processes sharing one name could run a handler twice.
   */
  instanceId?: string;
  /**
   * How long {@link Exchange.stop} waits for handlers in flight, in ms (default 30 000; `Infinity`: no
   * limit). Past it, their `signal` aborts, their leases and ack deadlines stop being extended, and `stop()`
   * returns; whatever such a handler then does, its outcome is not recorded and no receipt goes out: its
   * message, not acknowledged, is delivered again once the ack wait has passed (to this participant's other
   * instances, or after a restart), and its lease is taken over once expired. A handler that hangs cannot
   * hold a shutdown for ever.
   */
  stopGraceMs?: number;
}

/** A verified, validated message handed to a handler. */
export interface IncomingMessage<P = unknown> {
  meta: EnvelopeMeta;
  /** The recipient's projection of the payload, schema-valid. */
  payload: P;
  envelopeSha256: string;
  streamSeq: number;
  deliveryCount: number;
  /**
   * Aborted when the exchange stops and this handler has not finished within the grace period
   * (`stopGraceMs`). From then on, whatever the handler does, its message is left for another delivery
   * (no outcome recorded, no receipt, no acknowledgement): a handler that can be cancelled should stop
   * (returning or throwing alike), and must not count on what it did being kept.
   */
  signal: AbortSignal;
  /** Sends a follow-up in the same conversation (correlation kept, causation = this message). */
  reply(
    type: string,
    payload: unknown,
    options?: Omit<SendOptions, 'dossierId' | 'correlationId' | 'causationId'>,
  ): Promise<SentMessage[]>;
}

/** A handler; throwing a non-retryable {@link PasserelleError} dead-letters the message at once. */
export type MessageHandler = (message: IncomingMessage) => Promise<void>;

/** Handlers by message type, or one handler for every type. */
export type Handlers = MessageHandler | Readonly<Record<string, MessageHandler>>;

/** A running subscription. */
export interface Subscription {
  /**
   * Stops pulling, waits for handlers in flight, keeps the durable consumer. Waits at most `graceMs`
   * (default: the exchange's `stopGraceMs`); past it, abandons the handlers still running (see
   * `stopGraceMs`) and returns.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Settles when the subscription ends. */
  readonly closed: Promise<void>;
}

/**
 * Whether an exchange can do its work now ({@link Exchange.readiness}). `reason` is one of a few fixed
 * phrases naming the failing part (never a message, a dossier or a person).
 */
export type Readiness =
  { participant: string; ready: true } | { participant: string; ready: false; reason: string };

/** Hook called for each rejected message (service dashboards, demo output). */
export type RejectionListener = (rejection: {
  code: string;
  reason: string;
  subject: string;
  messageId?: string;
}) => void;

/**
 * Connects a participant to the exchange: checks the server version, provisions (or checks) the streams,
 * creates the participant's durable consumers, opens its idempotency and outbox buckets.
 *
 * @example
 * ```ts
 * const exchange = await connectExchange({ participant: 'immigration-office', keys, directory, contracts, servers });
 * await exchange.subscribe({ 'application-submitted': async (m) => { … } });
 * await exchange.send('residence-decided', payload, { dossierId, context });
 * ```
 */
export async function connectExchange(options: ExchangeOptions): Promise<Exchange> {
  const owned = !options.nc;
  const nc =
    options.nc ??
    (await connectNats({
      name: options.participant,
      // Every JetStream publish and KV operation is a request; capturing a stack for each costs ~8% of the
      // runtime's CPU. Errors still carry their message and code.
      noAsyncTraces: true,
      ...options.connection,
      ...(options.servers ? { servers: options.servers } : {}),
    }));
  try {
    // Stream creation right after a restart can exceed the default 5 s on two cores.
    const jsm = await retrying(() =>
      jetstreamManager(nc, {
        timeout: 30_000,
        ...(options.exchangeApiPrefix ? { apiPrefix: options.exchangeApiPrefix, checkAPI: false } : {}),
      }),
    );
    // The API level is the server's: a participant with an account of its own asks its own JetStream.
    const own = options.exchangeApiPrefix
      ? await retrying(() => jetstreamManager(nc, { timeout: 30_000, checkAPI: false }))
      : jsm;
    // every step rides out an election (a cluster restarting with the service): a service process starts
    await retrying(() => assertJetStreamApiLevel(own));
    const provision = options.provision !== false;
    if (provision) {
      await retrying(() => provisionStreams(jsm, { replicas: options.replicas ?? 1 }));
      await retrying(() => ensureConsumers(jsm, options.participant, options.consumer));
    } else {
      await retrying(() => assertProvisioned(jsm, nc, options.participant));
    }
    const instanceId = options.instanceId ?? `${options.participant}/${randomUUID().slice(0, 8)}`;
    const idempotency = await retrying(() =>
      IdempotencyStore.open(nc, options.participant, {
        owner: instanceId,
        replicas: options.replicas ?? 1,
        // A lease outlives no more than one ack_wait: the server redelivers only after it passed unrenewed.
        leaseMs: options.consumer?.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
        create: provision,
      }),
    );
    const outbox = await retrying(() =>
      Outbox.open(nc, options.participant, {
        replicas: options.replicas ?? 1,
        create: provision,
      }),
    );
    return new Exchange(options, nc, owned, jsm, idempotency, outbox);
  } catch (err) {
    if (owned) await nc.close();
    // the caller sees what failed last, not the retries around it
    throw err instanceof RetriesEnded ? err.end.cause : err;
  }
}

/**
 * Provisions, with administrative credentials, everything a participant needs: the streams, its durable
 * consumers, its idempotency and outbox buckets. Idempotent.
 */
export async function provisionParticipant(
  nc: NatsConnection,
  participant: string,
  options: { replicas?: number; consumer?: InboxConsumerOptions } = {},
): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  await provisionStreams(jsm, { replicas: options.replicas ?? 1 });
  await ensureConsumers(jsm, participant, options.consumer);
  await IdempotencyStore.open(nc, participant, { owner: 'provisioning', replicas: options.replicas ?? 1 });
  await Outbox.open(nc, participant, { replicas: options.replicas ?? 1 });
}

/** Fails with ERR_NOT_PROVISIONED naming what the operator has not created for a participant. */
async function assertProvisioned(
  jsm: JetStreamManager,
  nc: NatsConnection,
  participant: string,
): Promise<void> {
  const missing: string[] = [];
  // not found, or not readable with these credentials: missing; anything passing is thrown, to be retried
  const orMissing =
    (what: string) =>
    (err: unknown): void => {
      if (classifyNatsFailure(err) !== 'refused') throw err;
      missing.push(what);
    };
  for (const name of [inboxConsumerName(participant), receiptConsumerName(participant)]) {
    await jsm.consumers.info(StreamNames.exchange, name).catch(orMissing(`consumer EXCHANGE/${name}`));
  }
  const kvm = new Kvm(nc);
  for (const bucket of [idempotencyBucketName(participant), outboxBucketName(participant)]) {
    await kvm
      .open(bucket)
      .then((kv) => kv.status())
      .catch(orMissing(`bucket ${bucket}`));
  }
  if (missing.length) {
    throw new ExchangeError(
      'ERR_NOT_PROVISIONED',
      `${participant} is not provisioned: missing ${missing.join(', ')}. Run the provisioning with operator credentials.`,
      { details: { participant, missing } },
    );
  }
}

/**
 * How far `issuedAt` may be from when the server stored a message: the time from sealing to storing, which
 * a send keeps under a day (kept bytes older than 23 hours are sealed anew, send.ts). A
 * replay of captured bytes is refused past it, whatever the idempotency records say (SECURITY.md).
 */
const DEFAULT_FRESHNESS_MS = 24 * 60 * 60 * 1000;
/** How long a stop waits for handlers in flight by default (`stopGraceMs`). */
export const DEFAULT_STOP_GRACE_MS = 30_000;

/** A grace period: whole ms from 0 to 2^31 - 1 (a timer's range), or `Infinity` for no limit. */
function checkedGraceMs(ms: number, setting: string): number {
  if (ms === Infinity || (Number.isSafeInteger(ms) && ms >= 0 && ms <= 2_147_483_647)) return ms;
  throw new ExchangeError(
    'ERR_CONFIG_INVALID',
    `${setting} must be a whole number of ms from 0 to 2147483647, or Infinity to wait without limit.`,
    { details: { setting } },
  );
}

/** Whether `promise` settles (either way) within `ms` (`Infinity`: waits); the timer does not outlive the answer. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
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

/** A participant's connection to the exchange. Create it with {@link connectExchange}. */
export class Exchange {
  readonly participant: string;
  readonly metrics: ExchangeMetrics;
  readonly logger: Logger;
  readonly js: JetStreamClient;
  private readonly ackWaitMs: number;
  private readonly stopGraceMs: number;
  private readonly provider: CryptoProvider;
  private readonly subscriptions = new Set<Subscription>();
  /** The subscription to this participant's inbox, while it runs. */
  private inbox: Subscription | undefined;
  /** Aborted by {@link stop} once the subscriptions have stopped: sends end instead of retrying. */
  private readonly closed = new AbortController();
  /** How sends retry: as configured, and no longer once the exchange closes. */
  private readonly retry: Readonly<RetryOptions>;
  /** Sends under way, which {@link stop} lets finish: each ends at its next wait once it is aborted. */
  private readonly sending = new Set<Promise<SentMessage[]>>();
  /** Callers of {@link awaitReceipt} by message id: settled by the receipt, their time-out or {@link stop}. */
  private readonly receiptWaiters = new Map<string, Set<ReceiptWaiter>>();
  private readonly rejectionListeners = new Set<RejectionListener>();
  /** Consumers whose pull loop ended without being asked to (for {@link readiness}). */
  private readonly loopsEnded = new Set<string>();
  /** Set as {@link stop} begins: not ready from then on. */
  private stopping = false;
  private readonly failureListeners = new Set<(reason: string) => void>();
  private failureReported = false;
  private readonly sender: Sender;

  /** @internal use {@link connectExchange} */
  constructor(
    private readonly options: ExchangeOptions,
    readonly nc: NatsConnection,
    private readonly ownsConnection: boolean,
    readonly jsm: JetStreamManager,
    private readonly idempotency: IdempotencyStore,
    private readonly outbox: Outbox,
  ) {
    this.participant = options.participant;
    this.metrics = options.metrics ?? createExchangeMetrics(options.participant);
    this.logger = options.logger ?? createLogger(`exchange:${options.participant}`);
    this.js = jetstream(nc, {
      timeout: options.requestTimeoutMs ?? 10_000,
      ...(options.exchangeApiPrefix ? { apiPrefix: options.exchangeApiPrefix } : {}),
    });
    this.retry = { ...options.sendRetry, signal: this.closed.signal };
    this.provider = options.provider ?? defaultProvider;
    this.ackWaitMs = options.consumer?.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    this.sender = new Sender({
      participant: options.participant,
      keys: options.keys,
      directory: options.directory,
      contracts: options.contracts,
      provider: this.provider,
      maxBytes: options.maxBytes,
      js: this.js,
      outbox,
      metrics: this.metrics,
      logger: this.logger,
      retry: this.retry,
    });
    this.stopGraceMs =
      options.stopGraceMs === undefined
        ? DEFAULT_STOP_GRACE_MS
        : checkedGraceMs(options.stopGraceMs, 'stopGraceMs');
    // every publish waiting to retry listens on it; more than ten at once is normal during an outage
    setMaxListeners(0, this.closed.signal);
    // which cryptography this process runs
    this.logger.info({ crypto: this.provider.name }, 'exchange connected');
    this.consumeReceipts();
    void nc.closed().then(() => this.reportFailure());
  }

  /** Calls `listener` for every message this participant rejects to DEADLETTER. */
  onRejection(listener: RejectionListener): () => void {
    this.rejectionListeners.add(listener);
    return () => this.rejectionListeners.delete(listener);
  }

  /**
   * Calls `listener` once, with the reason, when this exchange can no longer work ({@link failure}: its
   * connection closed, or a pull loop ended, without a stop). A process should then stop and be started
   * again by its supervisor; the service processes do.
   */
  onFailure(listener: (reason: string) => void): () => void {
    this.failureListeners.add(listener);
    // failed already, before this listener came (e.g. while its owner was still starting): told at once
    if (this.failureReported) {
      queueMicrotask(() => {
        const reason = this.failure();
        if (reason !== undefined && this.failureListeners.has(listener)) this.tell(listener, reason);
      });
    }
    return () => this.failureListeners.delete(listener);
  }

  /** Whether {@link stop} (or {@link close}) has been called. */
  get stopRequested(): boolean {
    return this.stopping;
  }

  private reportFailure(): void {
    const reason = this.failure();
    if (reason === undefined || this.failureReported) return;
    this.failureReported = true;
    this.logger.error({ reason }, 'the exchange can no longer work');
    for (const listener of this.failureListeners) this.tell(listener, reason);
  }

  private tell(listener: (reason: string) => void, reason: string): void {
    try {
      listener(reason);
    } catch (err) {
      this.logger.error({ err: errorSummary(err) }, 'a failure listener threw');
    }
  }

  /**
   * Sends a message: contract check (fails fast, before any crypto), projection per recipient, schema
   * validation, seal, a record in the outbox, publish with `Nats-Msg-Id` = message id, retries through
   * elections. Without `to` it fans out to every recipient the contract names for the dossier context,
   * each receiving its own projection encrypted to it alone. Resolves once every recipient's envelope is
   * stored by the server and recorded by the sender. Rejects with a refusal of the message itself
   * ({@link isRefusedBeforePublishing}), with `ERR_NOT_SENT` (nothing of it will ever be delivered: safe to
   * send again), or with `ERR_SEND_OUTCOME_UNKNOWN` (send again with `details.messageId`: exactly once).
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
   * the contract, the schema, the message id — and throws what `send` would throw
   * ({@link isRefusedBeforePublishing}). A service checks what a step decided this way before it records
   * the step, so that a message that can never be sent is refused with the step, not kept and retried.
   */
  check(type: string, payload: unknown, options: Omit<SendOptions, 'dossierId'>): void {
    this.sender.checked(type, payload, options);
  }

  /**
   * Handles this participant's messages: every envelope check, sender allowed by the contract, schema,
   * idempotency (a record per id, so the handler completes at most once), handler, signed receipt, ack.
   * A handler error naks with backoff; after `maxDeliver`, or at once for a permanent error, the raw
   * message goes to DEADLETTER with its code and reason.
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
    const consumerName = inboxConsumerName(this.participant);
    const concurrency = this.options.concurrency ?? 16;
    const maxDeliver = this.options.consumer?.maxDeliver ?? DEFAULT_MAX_DELIVER;
    // the backlog is read from the server when the metrics are collected
    const probe = async (): Promise<void> => void (await this.pending());
    const inbox = this.runLoop(
      consumerName,
      concurrency,
      maxDeliver,
      (msg, limit, abandoned) => this.handleInbound(msg, handlers, limit, abandoned),
      () => {
        this.metrics.pendingProbes.delete(probe);
        if (this.inbox === inbox) this.inbox = undefined;
      },
    );
    this.inbox = inbox;
    this.metrics.pendingProbes.add(probe);
    return inbox;
  }

  /**
   * Pulls from a durable consumer and processes up to `concurrency` messages at once. `maxDeliver` is the
   * runtime's count of deliveries before a message is dead-lettered, lowered to the consumer's own
   * `max_deliver` where an operator provisioned one (with a warning: see {@link SERVER_MAX_DELIVER}).
   * `ended` runs when the loop ends, however it ends (its `closed` is left to the caller, and a loop that
   * fails is not hidden: it rejects `closed`, and nothing here handles that).
   */
  private runLoop(
    consumerName: string,
    concurrency: number,
    maxDeliver: number,
    process: (msg: JsMsg, maxDeliver: number, abandoned: AbortSignal) => Promise<void>,
    ended?: () => void,
  ): Subscription {
    let messages: ConsumerMessages | undefined;
    let stopping = false;
    const inFlight = new Set<Promise<void>>();
    // aborted when a stop gives up waiting for the handlers in flight: theirs is `IncomingMessage.signal`
    // (one signal for all of them: every handler may listen to it)
    const abandon = new AbortController();
    setMaxListeners(0, abandon.signal);
    let endedOnce = false;
    this.loopsEnded.delete(consumerName);
    const end = (): void => {
      if (endedOnce) return;
      endedOnce = true;
      if (!stopping) {
        this.loopsEnded.add(consumerName);
        this.reportFailure();
      }
      ended?.();
    };
    // woken when a message's processing ends, if the loop waits for room (one waiter, not a race over all
    // the messages in flight, which would add a reaction to each of them for every message)
    let room: (() => void) | undefined;
    const loop = async (): Promise<void> => {
      const consumer: Consumer = await this.js.consumers.get(StreamNames.exchange, consumerName);
      const serverMaxDeliver = (await consumer.info(true)).config.max_deliver ?? SERVER_MAX_DELIVER;
      let limit = maxDeliver;
      if (serverMaxDeliver > 0) {
        limit = Math.min(maxDeliver, serverMaxDeliver);
        this.logger.warn(
          { consumer: consumerName, maxDeliver: serverMaxDeliver },
          'the consumer limits deliveries itself: a message whose last delivery fails before it reaches DEADLETTER is not delivered again; provision it with max_deliver -1 (provisionParticipant does)',
        );
      }
      // Short pull expiry: a pull left open by a killed client keeps waiting until it expires (DESIGN.md).
      messages = await consumer.consume({ max_messages: concurrency, expires: 5_000 });
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
            this.logger.error(
              { code: (err as { code?: string }).code, err: errorSummary(err) },
              'message processing failed',
            );
            try {
              // with the handlers' backoff: a store that is down for a while does not use up the deliveries
              msg.nak(backoffDelay(msg.info.deliveryCount, this.options.consumer?.backoffMs));
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
        await loop();
      } finally {
        end();
      }
    })();
    const subscription: Subscription = {
      closed,
      stop: async (options = {}) => {
        stopping = true;
        // a loop that had ended by itself is now stopped on purpose: no longer a failure
        this.loopsEnded.delete(consumerName);
        messages?.stop();
        const graceMs =
          options.graceMs === undefined ? this.stopGraceMs : checkedGraceMs(options.graceMs, 'graceMs');
        if (!(await settlesWithin(closed, graceMs))) {
          this.logger.warn(
            { consumer: consumerName, handlers: inFlight.size, graceMs },
            'handlers still running after the grace period: abandoned, their messages will be delivered again',
          );
          abandon.abort();
          // the subscription has ended for its owner, who may subscribe again
          end();
        }
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  private async handleInbound(
    msg: JsMsg,
    handlers: Handlers,
    maxDeliver: number,
    abandoned: AbortSignal,
  ): Promise<void> {
    const { contracts, directory, keys } = this.options;
    const deliveryCount = msg.info.deliveryCount;
    const streamSeq = msg.info.streamSequence;
    if (deliveryCount > 1) this.metrics.redeliveries.inc();
    // when the server stored it; a replayed dead letter, when the server first stored its bytes
    const firstStored = await this.firstStored(msg);
    const rejectAs = { deliveryCount, maxDeliver, firstStored };

    let opened: Awaited<ReturnType<typeof openEnvelope>>;
    let handler: MessageHandler;
    let openedId: string | undefined;
    try {
      const subjectTokens = parseMessageSubject(msg.subject);
      opened = await openEnvelope(msg.data, {
        recipient: keys,
        resolver: directory,
        now: firstStored,
        freshnessMs: this.options.freshnessMs ?? DEFAULT_FRESHNESS_MS,
        // a key revoked since signs nothing the server stored after: the storage time, never later than now
        keyValidAt: new Date(Math.min(firstStored.getTime(), Date.now())),
        provider: this.provider,
        ...(this.options.maxBytes !== undefined ? { maxBytes: this.options.maxBytes } : {}),
      });
      const { meta } = opened;
      openedId = meta.id;
      if (
        !subjectTokens ||
        subjectTokens.type !== meta.type ||
        subjectTokens.sender !== meta.sender ||
        subjectTokens.recipient !== meta.recipient
      ) {
        throw new ExchangeError(
          'ERR_SUBJECT_MISMATCH',
          `Subject ${msg.subject} does not match the envelope's meta.`,
          {
            details: { subject: msg.subject, messageId: meta.id },
          },
        );
      }
      contracts.authorize(meta.sender, meta.type, this.participant);
      contracts.validate(meta.type, meta.schemaVersion, opened.payload);
      const found = typeof handlers === 'function' ? handlers : handlers[meta.type];
      if (!found) {
        throw new ExchangeError('ERR_NO_HANDLER', `${this.participant} has no handler for ${meta.type}.`, {
          details: { type: meta.type, messageId: meta.id },
        });
      }
      handler = found;
    } catch (err) {
      await this.reject(msg, err, { ...rejectAs, ...(openedId ? { messageId: openedId } : {}) });
      return;
    }

    const { meta, payload } = opened;
    const envelopeSha256 = sha256Hex(msg.data);
    const claim = await this.idempotency.claim(meta.id);
    if (claim.kind === 'busy') {
      msg.nak(claim.retryInMs);
      return;
    }
    if (claim.kind === 'done') {
      this.metrics.duplicates.inc();
      await this.sendReceipt(meta, envelopeSha256);
      msg.ack();
      return;
    }
    if (deliveryCount > EXHAUSTED_AFTER * maxDeliver) {
      // Delivered far more often than handler failures allow and still without an outcome: the processes
      // handling it stopped part-way, or its idempotency record or receipt could not be written for long.
      // Kept in DEADLETTER, where it can be replayed, rather than tried for ever.
      await this.idempotency.release(meta.id, claim.revision).catch(() => undefined);
      await this.reject(
        msg,
        new ExchangeError(
          'ERR_DELIVERIES_EXHAUSTED',
          `Message ${meta.id} was delivered ${deliveryCount} times without an outcome.`,
          { details: { messageId: meta.id, deliveries: deliveryCount, maxDeliver } },
        ),
        { ...rejectAs, messageId: meta.id },
      );
      return;
    }

    const started = performance.now();
    // Tell the server the message is being worked on, and renew the idempotency lease, well within ack_wait.
    let revision = claim.revision;
    const working = setInterval(() => {
      // abandoned by a stop: no longer extended, so the message and its lease go to another delivery
      if (abandoned.aborted) {
        clearInterval(working);
        return;
      }
      msg.working();
      this.idempotency.renew(meta.id, revision).then(
        (r) => (revision = r),
        () => undefined,
      );
    }, this.ackWaitMs / 3);
    try {
      await handler({
        meta,
        payload,
        envelopeSha256,
        streamSeq,
        deliveryCount,
        signal: abandoned,
        reply: (type, replyPayload, replyOptions) =>
          this.send(type, replyPayload, {
            ...replyOptions,
            dossierId: meta.dossierId,
            correlationId: meta.correlationId,
            causationId: meta.id,
          }),
      });
    } catch (err) {
      clearInterval(working);
      if (abandoned.aborted) return this.leaveAbandoned(meta, 'threw');
      // the lease goes back first (if still this delivery's): a next delivery, or a replay of the dead
      // letter, claims it at once
      await this.idempotency.release(meta.id, revision).catch(() => undefined);
      await this.reject(msg, err, { ...rejectAs, messageId: meta.id, fromHandler: true });
      return;
    }
    clearInterval(working);
    if (abandoned.aborted) return this.leaveAbandoned(meta, 'returned');
    this.metrics.handlerSeconds.observe({ type: meta.type }, (performance.now() - started) / 1000);
    await this.idempotency.complete(meta.id, revision);
    await this.sendReceipt(meta, envelopeSha256);
    msg.ack();
    this.metrics.received.inc({ type: meta.type });
    this.logger.debug({ id: meta.id, type: meta.type, sender: meta.sender, seq: streamSeq }, 'handled');
  }

  /**
   * A handler that settled after a stop abandoned it: whatever it did, its outcome is not recorded, no
   * receipt goes out and the message is not acknowledged, so it is delivered again (to another instance,
   * or after the restart) once its ack wait and lease have expired. Returning early on the signal thus
   * loses nothing; a handler that finished its work late runs again, which one keyed by the message id
   * (as the service host's dossier steps are) absorbs.
   */
  private leaveAbandoned(meta: EnvelopeMeta, how: 'returned' | 'threw'): void {
    this.logger.warn(
      { id: meta.id, type: meta.type, how },
      'an abandoned handler ended after the stop: its message is left for another delivery',
    );
  }

  /**
   * The time an envelope's freshness is measured against: when the server stored it; for a replay of a
   * dead letter, when the server first stored those very bytes, as this recipient noted when it
   * dead-lettered them (the id read here unchecked only finds the note; the bytes must be the same).
   */
  private async firstStored(msg: JsMsg): Promise<Date> {
    const storedAt = new Date(Math.floor(msg.info.timestampNanos / 1_000_000));
    if (!msg.headers?.get(REPLAY_HEADER)) return storedAt;
    let id: unknown;
    try {
      id = (JSON.parse(new TextDecoder().decode(msg.data)) as { meta?: { id?: unknown } }).meta?.id;
    } catch {
      return storedAt; // the envelope checks refuse it
    }
    if (!isWellFormedMetaField('id', id)) return storedAt;
    const note = await this.idempotency.deadLetterNote(id as string);
    return note && note.envelopeSha256 === sha256Hex(msg.data) ? new Date(note.storedAt) : storedAt;
  }

  /**
   * Dead-letters at once for a permanent error or after the last delivery; otherwise naks with backoff
   * ({@link retries}). Of a dead-lettered message it opened, the recipient notes the bytes and when they
   * were first stored, for its replay ({@link IdempotencyStore.noteDeadLetter}).
   */
  private async reject(msg: JsMsg, err: unknown, how: Rejecting): Promise<void> {
    const { deliveryCount, maxDeliver, messageId, fromHandler = false } = how;
    const typed = isPasserelleError(err);
    if (retries(err, deliveryCount, maxDeliver)) {
      const delay = backoffDelay(deliveryCount, this.options.consumer?.backoffMs ?? DEFAULT_BACKOFF_MS);
      this.logger.warn(
        { code: typed ? err.code : undefined, seq: msg.info.streamSequence, deliveryCount, delay },
        'will retry',
      );
      msg.nak(delay);
      return;
    }
    const code: string = typed ? err.code : fromHandler ? 'ERR_HANDLER_FAILED' : 'ERR_INTERNAL';
    // Only catalogue messages are free of personal data by construction; a foreign error keeps its class name.
    const reason = typed
      ? err.message
      : `${fromHandler ? 'handler' : 'processing'} threw ${errorSummary(err)} on delivery ${deliveryCount} of ${maxDeliver}`;
    await writeDeadLetter(this.js, msg.data, {
      participant: this.participant,
      code,
      reason,
      originalSubject: msg.subject,
      originalSeq: msg.info.streamSequence,
      deliveries: deliveryCount,
      ...(messageId ? { messageId } : {}),
    });
    if (messageId && how.firstStored && msg.subject.startsWith(`${Subjects.message}.`)) {
      await this.idempotency.noteDeadLetter(messageId, sha256Hex(msg.data), how.firstStored);
    }
    // the reason reaches the server's MSG_TERMINATED advisory: operators' tooling sees the code too
    msg.term(code);
    this.metrics.rejected.inc({ code });
    this.logger.warn(
      { code, seq: msg.info.streamSequence, subject: msg.subject, messageId },
      'dead-lettered',
    );
    for (const listener of this.rejectionListeners) {
      listener({ code, reason, subject: msg.subject, ...(messageId ? { messageId } : {}) });
    }
  }

  private async sendReceipt(meta: EnvelopeMeta, envelopeSha256: string): Promise<void> {
    const claims: ReceiptClaims = {
      messageId: meta.id,
      type: meta.type,
      dossierId: meta.dossierId,
      sender: meta.sender,
      receiver: this.participant,
      envelopeSha256,
      receivedAt: new Date().toISOString(),
      status: 'accepted',
    };
    const jws = await signCompact(claims, this.options.keys.signing, { typ: RECEIPT_TYP }, this.provider);
    await publishWithRetry(
      this.js,
      receiptSubject(this.participant, meta.sender),
      jws,
      { msgID: `rcpt-${meta.id}` },
      this.retry,
    );
  }

  /** Verifies a receipt's signature against the receiver's key valid at its `receivedAt`. */
  async verifyReceipt(jws: string): Promise<ReceiptClaims> {
    let claimed: ReceiptClaims | undefined;
    const { payload } = await verifyCompact(
      jws,
      async (kid, header) => {
        // The receiver and time are read from the unverified payload only to find the key; the signature
        // check that follows is what makes them trustworthy.
        claimed = decodeJwsPayload(jws);
        if ((header as { typ?: string }).typ !== RECEIPT_TYP) {
          throw new ExchangeError('ERR_RECEIPT_INVALID', 'The receipt has the wrong JWS type.');
        }
        return this.options.directory.resolve(claimed.receiver, 'sig', new Date(claimed.receivedAt), kid);
      },
      this.provider,
    );
    const claims = payload as ReceiptClaims;
    if (!claimed || claims.messageId !== claimed.messageId) {
      throw new ExchangeError('ERR_RECEIPT_INVALID', 'The receipt payload changed during verification.');
    }
    // Receipts have a schema in the catalogue like every other message; and what the outbox records is
    // what the ledger accepts (exactly the claims of an accepted receipt, identifiers only).
    this.options.contracts.validate('receipt', this.options.contracts.latestVersion('receipt'), claims);
    return assertReceiptClaims(claims);
  }

  private consumeReceipts(): Subscription {
    const receipts = this.runLoop(
      receiptConsumerName(this.participant),
      64,
      RECEIPT_MAX_DELIVER,
      async (msg, limit) => {
        const jws = new TextDecoder().decode(msg.data);
        let claims: ReceiptClaims;
        try {
          claims = await this.verifyReceipt(jws);
          if (claims.sender !== this.participant) {
            throw new ExchangeError('ERR_RECEIPT_INVALID', `The receipt is addressed to ${claims.sender}.`);
          }
          if (msg.subject !== receiptSubject(claims.receiver, claims.sender)) {
            throw new ExchangeError(
              'ERR_RECEIPT_INVALID',
              `Subject ${msg.subject} does not match the receipt's parties.`,
            );
          }
        } catch (err) {
          // A refusal (bad signature, wrong parties, malformed) is final; anything else (a directory or
          // store time-out) is retried with backoff, and dead-lettered after `limit` deliveries.
          await this.reject(msg, err, { deliveryCount: msg.info.deliveryCount, maxDeliver: limit });
          return;
        }
        const outcome = await this.outbox.recordReceipt(claims, jws);
        if (outcome.kind !== 'recorded' && msg.info.deliveryCount < 5) {
          // the outbox record may still be on its way, or about to follow bytes sent again under its id
          msg.nak(250 * msg.info.deliveryCount);
          return;
        }
        if (outcome.kind !== 'recorded') {
          const why =
            outcome.kind === 'mismatch'
              ? `The receipt for ${claims.messageId} does not match the message sent: its ${outcome.field} differs.`
              : `The receipt names message ${claims.messageId}, which ${this.participant} never sent.`;
          await this.reject(msg, new ExchangeError('ERR_RECEIPT_INVALID', why), {
            deliveryCount: msg.info.deliveryCount,
            maxDeliver: 1,
          });
          return;
        }
        this.metrics.receiptsReceived.inc();
        msg.ack();
        this.settleWaiters(claims.messageId, (w) => w.resolve(claims));
      },
    );
    // the loop's end is this exchange's failure (readiness, onFailure), not an unhandled rejection
    receipts.closed.catch((err: unknown) =>
      this.logger.error({ err: errorSummary(err) }, 'the receipts loop ended'),
    );
    return receipts;
  }

  /** Settles every {@link awaitReceipt} caller of a message id. */
  private settleWaiters(messageId: string, settle: (waiter: ReceiptWaiter) => void): void {
    const waiters = this.receiptWaiters.get(messageId);
    this.receiptWaiters.delete(messageId);
    for (const w of waiters ?? []) {
      clearTimeout(w.timer);
      settle(w);
    }
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
  async awaitReceipt(messageId: string, timeoutMs: number): Promise<ReceiptClaims> {
    if (this.closed.signal.aborted) {
      throw new ExchangeError('ERR_EXCHANGE_CLOSED', `The exchange of ${this.participant} is closed.`, {
        details: { messageId },
      });
    }
    let waiter: ReceiptWaiter | undefined;
    const waiting = new Promise<ReceiptClaims>((resolve, reject) => {
      const set = this.receiptWaiters.get(messageId) ?? new Set<ReceiptWaiter>();
      const w: ReceiptWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(w);
          if (set.size === 0 && this.receiptWaiters.get(messageId) === set)
            this.receiptWaiters.delete(messageId);
          reject(
            new ExchangeError(
              'ERR_RECEIPT_TIMEOUT',
              `No receipt for message ${messageId} within ${timeoutMs} ms.`,
              { details: { messageId, timeoutMs } },
            ),
          );
        }, timeoutMs),
      };
      waiter = w;
      set.add(w);
      this.receiptWaiters.set(messageId, set);
    });
    // The time-out may fire while the outbox is read below, before the caller holds `waiting`: it is
    // handled here, and the caller still sees it when it awaits.
    waiting.catch(() => undefined);
    try {
      // The receipt may have arrived before the call.
      const record = await this.outbox.get(messageId);
      if (record?.receipt) {
        const claims = await this.verifyReceipt(record.receipt.jws);
        this.settleWaiters(messageId, (w) => w.resolve(claims));
      }
    } catch (err) {
      // this caller gets the error; its waiter goes, so that no time-out rejects later with no one to see it
      const set = this.receiptWaiters.get(messageId);
      if (waiter) {
        clearTimeout(waiter.timer);
        set?.delete(waiter);
      }
      if (set?.size === 0) this.receiptWaiters.delete(messageId);
      throw err;
    }
    return waiting;
  }

  /** Messages sent more than `olderThanMs` ago that still have no verified receipt. */
  async unreceipted(olderThanMs: number, now = new Date()): Promise<OutboxRecord[]> {
    return this.outbox.unreceipted(new Date(now.getTime() - olderThanMs));
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
  async readiness(timeoutMs = 2_000): Promise<Readiness> {
    const participant = this.participant;
    const notReady = (reason: string): Readiness => ({ participant, ready: false, reason });
    if (this.closed.signal.aborted) return notReady('exchange stopped');
    if (this.stopping) return notReady('exchange stopping');
    const failure = this.failure();
    if (failure) return notReady(failure);
    const consumers = [
      receiptConsumerName(participant),
      ...(this.inbox ? [inboxConsumerName(participant)] : []),
    ];
    const probe = async (): Promise<string | undefined> => {
      try {
        // fails at once while the client is disconnected (a request would wait for the reconnection)
        await this.nc.rtt();
      } catch {
        return 'not connected to NATS';
      }
      for (const consumer of consumers) {
        try {
          await this.jsm.consumers.info(StreamNames.exchange, consumer);
        } catch (err) {
          if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)
            return `consumer ${consumer} not found`;
          return `JetStream did not answer for consumer ${consumer}`;
        }
      }
      return undefined;
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`JetStream did not answer within ${timeoutMs} ms`), timeoutMs);
    });
    try {
      const reason = await Promise.race([probe(), late]);
      return reason === undefined ? { participant, ready: true } : notReady(reason);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Why this exchange can no longer work and will not recover by itself, without having been stopped: its
   * connection closed (its reconnection attempts ran out, or its owner closed it), or one of its pull loops
   * ended; `undefined` while it works or once {@link stop} was called. A process in that state should be
   * restarted (`/healthz` answers 503; the service processes exit).
   */
  failure(): string | undefined {
    if (this.stopping || this.closed.signal.aborted) return undefined;
    if (this.nc.isClosed()) return 'connection closed';
    const ended = [...this.loopsEnded][0];
    return ended ? `consumer ${ended} is no longer pulled` : undefined;
  }

  /**
   * Stops every subscription after its handlers in flight finish (their sends and receipts retry as
   * usual) or, past `graceMs` (default `stopGraceMs`, 30 s), after abandoning those still running (their
   * `signal` aborts; their messages are delivered again), then ends the sends still waiting to retry a
   * publish (`ERR_EXCHANGE_CLOSED`), lets an attempt under way get its answer, and refuses new sends. The
   * connection stays open; {@link close} drains it.
   */
  async stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop(options)));
    this.closed.abort();
    // no receipt is consumed any more: callers still waiting for one hear it now, not at their time-out
    for (const messageId of [...this.receiptWaiters.keys()]) {
      this.settleWaiters(messageId, (w) =>
        w.reject(
          new ExchangeError(
            'ERR_EXCHANGE_CLOSED',
            `The exchange of ${this.participant} closed before the receipt of ${messageId} arrived.`,
            { details: { messageId } },
          ),
        ),
      );
    }
    await Promise.allSettled([...this.sending]);
  }

  /** {@link stop}, then drains the connection if the exchange opened it. */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    await this.stop(options);
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain();
  }
}

/** The unverified payload of a compact JWS, to find the key that verifies it; a malformed one is refused. */
function decodeJwsPayload(jws: string): ReceiptClaims {
  const part = jws.split('.')[1] ?? '';
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new ExchangeError('ERR_RECEIPT_INVALID', 'The receipt payload is not JSON.', { cause });
  }
  const claims = payload as Partial<ReceiptClaims> | null;
  if (typeof claims?.receiver !== 'string' || typeof claims.receivedAt !== 'string') {
    throw new ExchangeError('ERR_RECEIPT_INVALID', 'The receipt names no receiver or time of receipt.');
  }
  return claims as ReceiptClaims;
}

/** How {@link Exchange} rejects one delivery. */
interface Rejecting {
  deliveryCount: number;
  maxDeliver: number;
  /** The id of the message, once its envelope opened. */
  messageId?: string;
  /** The handler threw (rather than the checks before it). */
  fromHandler?: boolean;
  /** When the server first stored the message's bytes (an inbox message). */
  firstStored?: Date;
}

/**
 * Deliveries without an outcome (no handler result: a process that stopped, a store that failed), as a
 * multiple of `maxDeliver`, after which a message is dead-lettered as `ERR_DELIVERIES_EXHAUSTED`.
 */
const EXHAUSTED_AFTER = 2;

/** Whether a failed delivery is tried again (nak with backoff) rather than dead-lettered. */
function retries(err: unknown, deliveryCount: number, maxDeliver: number): boolean {
  const retryable = isPasserelleError(err) ? err.retryable : true;
  return retryable && deliveryCount < maxDeliver;
}

/** A caller of {@link Exchange.awaitReceipt} waiting for one message's receipt. */
interface ReceiptWaiter {
  resolve(claims: ReceiptClaims): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * What may be logged of an error whose message could carry anything: its class, and its code when it is a
 * catalogue error (whose messages are free of personal data by construction).
 */
export function errorSummary(err: unknown): string {
  if (err instanceof PasserelleError) return `${err.name}(${err.code as ErrorCode})`;
  if (err instanceof Error) return err.name;
  return typeof err;
}
