import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { CryptoProvider } from '@passerelle/envelope';
import type { IdempotencyStore } from './idempotency.js';
import type { Logger } from './logger.js';
import type { ExchangeMetrics } from './metrics.js';
import type { Outbox } from './receipts.js';
import type { RetryOptions } from '@passerelle/nats';
import type { ExchangeOptions } from './types.js';

/** What the parts of one participant's exchange share: its settings, connection, stores and signals. */
export interface ExchangeContext {
  readonly participant: string;
  readonly options: ExchangeOptions;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly provider: CryptoProvider;
  readonly metrics: ExchangeMetrics;
  readonly logger: Logger;
  readonly idempotency: IdempotencyStore;
  readonly outbox: Outbox;
  /** How sends retry: as configured, and no longer once the exchange closes (its `signal`). */
  readonly retry: Readonly<RetryOptions>;
  /** The consumers' ack wait: leases and progress acks are renewed well within it. */
  readonly ackWaitMs: number;
  /** How long a stop waits for handlers in flight by default. */
  readonly stopGraceMs: number;
}
