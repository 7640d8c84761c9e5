import {
  AckPolicy,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerInfo,
  DeliverPolicy,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { JetStreamApiCodes, StreamNames } from './streams.js';
import { inboxFilter, receiptFilter } from './subjects.js';

/** Delivery settings of a participant's inbox consumer. */
export interface InboxConsumerOptions {
  /**
   * Deliveries before a message goes to DEADLETTER (default 5). The runtime counts them: the consumer
   * itself is created with no server-side limit (`max_deliver: -1`), because once the server's limit is
   * reached a message is never delivered again, and one whose last delivery could not be dead-lettered
   * (a NATS outage, a process killed) would stay in EXCHANGE unhandled and unreported.
   */
  maxDeliver?: number;
  /**
   * Delays before redelivery after a handler error, in ms, by delivery count (default 1 s, 5 s, 15 s, 30 s;
   * the last step repeats). The runtime naks with these delays itself rather than setting the consumer's
   * `backoff`, because a server-side backoff also replaces `ack_wait` with its first step and would
   * redeliver a slow handler's message after one second.
   */
  backoffMs?: number[];
  /** How long a delivery may stay unacknowledged (default 30 s; kept modest, see DESIGN.md). */
  ackWaitMs?: number;
  /** Messages in flight at most (default 256). */
  maxAckPending?: number;
}

/** Deliveries before a message is dead-lettered, by default. */
export const DEFAULT_MAX_DELIVER = 5;

/** Deliveries before a receipt that cannot be recorded (a directory or store failure) is dead-lettered. */
export const RECEIPT_MAX_DELIVER = 10;

/**
 * The server-side `max_deliver` of the runtime's consumers: none. The runtime dead-letters a message once
 * its own count is reached; a server-side limit would end a message whose last delivery failed to reach
 * DEADLETTER, silently.
 */
export const SERVER_MAX_DELIVER = -1;

/** Default ack_wait of the inbox consumer (ms). */
export const DEFAULT_ACK_WAIT_MS = 30_000;

/** Default redelivery delays after handler errors (ms), by delivery count. */
export const DEFAULT_BACKOFF_MS = [1_000, 5_000, 15_000, 30_000];

/** The redelivery delay for a delivery count (1-based), the last step repeating. */
export function backoffDelay(
  deliveryCount: number,
  backoffMs: readonly number[] = DEFAULT_BACKOFF_MS,
): number {
  return backoffMs[Math.min(Math.max(deliveryCount, 1), backoffMs.length) - 1] ?? 1_000;
}

/** Durable name of a participant's inbox consumer. */
export function inboxConsumerName(participant: string): string {
  return `inbox-${participant}`;
}

/** Durable name of a participant's receipt consumer. */
export function receiptConsumerName(participant: string): string {
  return `receipts-${participant}`;
}

/**
 * The inbox consumer of DESIGN.md: durable, pull, explicit ack, max_deliver (counted by the runtime, see
 * {@link SERVER_MAX_DELIVER}) with backoff.
 */
export function inboxConsumerConfig(
  participant: string,
  options: InboxConsumerOptions = {},
): Partial<ConsumerConfig> {
  return {
    durable_name: inboxConsumerName(participant),
    description: `Messages addressed to ${participant}`,
    filter_subject: inboxFilter(participant),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: SERVER_MAX_DELIVER,
    ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    max_ack_pending: options.maxAckPending ?? 256,
  };
}

/** The consumer of receipts coming back to a participant. */
export function receiptConsumerConfig(participant: string): Partial<ConsumerConfig> {
  return {
    durable_name: receiptConsumerName(participant),
    description: `Receipts for messages sent by ${participant}`,
    filter_subject: receiptFilter(participant),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: SERVER_MAX_DELIVER,
    ack_wait: nanos(30_000),
    max_ack_pending: 1_000,
  };
}

/**
 * Creates the participant's consumers, or updates the settings that may change on an existing durable
 * (a durable's filter subject cannot change, so it is created with the right one from the start).
 */
export async function ensureConsumers(
  jsm: JetStreamManager,
  participant: string,
  options: InboxConsumerOptions = {},
): Promise<{ inbox: ConsumerInfo; receipts: ConsumerInfo }> {
  const ensure = async (config: Partial<ConsumerConfig>): Promise<ConsumerInfo> => {
    const name = config.durable_name as string;
    try {
      await jsm.consumers.info(StreamNames.exchange, name);
      return await jsm.consumers.update(StreamNames.exchange, name, {
        max_deliver: config.max_deliver,
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
        description: config.description,
      });
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
      return jsm.consumers.add(StreamNames.exchange, config);
    }
  };
  // independent of each other: both at once, one round trip's wait instead of two
  const [inbox, receipts] = await Promise.all([
    ensure(inboxConsumerConfig(participant, options)),
    ensure(receiptConsumerConfig(participant)),
  ]);
  return { inbox, receipts };
}
