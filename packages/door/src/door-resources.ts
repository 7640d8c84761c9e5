import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import { ClientStore, clientsBucketName } from './client-store.js';
import { DoorKeys } from './door-keys.js';
import { EventLog, eventHeadsBucketName, eventStreamName } from './event-log.js';
import { IdempotencyStore, idempotencyBucketName } from './idempotency-store.js';
import { TokenStore, tokensBucketName } from './token-store.js';
import { DeliveryLog, deliveryLogStreamName } from './webhook-delivery-log.js';
import { SubscriptionStore, subscriptionsBucketName } from './webhook-subscriptions.js';

/** The NATS resources of one door: what an operator provisions, and what the door's connection may use. */
export interface DoorResources {
  /** Its KV buckets (clients, tokens, idempotency records, event counters, webhook subscriptions). */
  buckets: string[];
  /** Its streams (events, webhook deliveries) and the subjects the door publishes on to each. */
  streams: { name: string; subjects: string[] }[];
}

/**
 * The streams and buckets a door named `name` uses. Besides writing its buckets and publishing on its
 * streams' subjects, the door reads both streams through consumers it creates (ordered ones for the event
 * stream's readers, a durable one per webhook subscription), pulls from and acknowledges them.
 *
 * @example
 * ```ts
 * doorResources('portal-wib').streams[0]; // { name: 'door-portal-wib-events', subjects: ['door.portal-wib.events.>'] }
 * ```
 */
export function doorResources(name: string): DoorResources {
  return {
    buckets: [
      clientsBucketName(name),
      tokensBucketName(name),
      idempotencyBucketName(name),
      eventHeadsBucketName(name),
      subscriptionsBucketName(name),
    ],
    streams: [
      { name: eventStreamName(name), subjects: [`door.${name}.events.>`] },
      { name: deliveryLogStreamName(name), subjects: [`door.${name}.wh.>`] },
    ],
  };
}

/**
 * Creates (or checks) a door's streams and buckets with operator rights, so that the door itself runs with
 * `create: false` on a connection that may only use them. Nothing is written in them: the keys the stores
 * are opened with here are thrown away.
 *
 * @example
 * ```ts
 * await provisionDoor(operatorConnection, { name: 'portal-wib', replicas: 3 });
 * ```
 */
export async function provisionDoor(
  nc: NatsConnection,
  options: {
    name: string;
    replicas?: number;
    tokenLifetimeMs?: number;
    idempotencyTtlMs?: number;
    eventMaxAgeMs?: number;
    deliveryLogMaxAgeMs?: number;
  },
): Promise<void> {
  const { name } = options;
  const keys = DoorKeys.fromSecret(randomBytes(32));
  const replicas = options.replicas !== undefined ? { replicas: options.replicas } : {};
  await ClientStore.open(nc, name, keys, replicas);
  await TokenStore.open(nc, name, keys, {
    ...replicas,
    ...(options.tokenLifetimeMs !== undefined ? { lifetimeMs: options.tokenLifetimeMs } : {}),
  });
  await IdempotencyStore.open(nc, name, keys, {
    ...replicas,
    ...(options.idempotencyTtlMs !== undefined ? { ttlMs: options.idempotencyTtlMs } : {}),
  });
  // the stream's settings only: the service and source are those of the events, not of the stream
  await EventLog.open(nc, {
    ...replicas,
    door: name,
    service: 'be.passerelle.door.v1',
    source: `urn:passerelle:door:${name}`,
    ...(options.eventMaxAgeMs !== undefined ? { maxAgeMs: options.eventMaxAgeMs } : {}),
  });
  await SubscriptionStore.open(nc, name, keys, replicas);
  await DeliveryLog.open(nc, name, {
    ...replicas,
    ...(options.deliveryLogMaxAgeMs !== undefined ? { maxAgeMs: options.deliveryLogMaxAgeMs } : {}),
  });
}
