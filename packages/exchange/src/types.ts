import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { Contracts } from '@passerelle/contracts';
import type { CryptoProvider, EnvelopeMeta, KeyResolver, ParticipantKeys } from '@passerelle/envelope';
import type { InboxConsumerOptions } from './consumers.js';
import type { PayloadSeal } from './dossier-keys.js';
import type { Logger } from './logger.js';
import type { ExchangeMetrics } from './metrics.js';
import type { SendOptions, SentMessage } from './send.js';

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
  /**
   * Seals each payload under its dossier's key before it is signed and encrypted, and opens it after, so
   * that one dossier can be erased by destroying its key (`DossierKeys`). Without it payloads are carried
   * as they are.
   */
  payloadSeal?: PayloadSeal;
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
