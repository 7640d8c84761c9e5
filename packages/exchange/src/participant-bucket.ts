import { openBucket } from '@passerelle/nats';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** How a participant's own bucket opens: `ttlDays` its entries' lifetime, `create: false` where provisioned. */
export interface ParticipantBucketOptions {
  ttlDays?: number;
  replicas?: number;
  create?: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Opens (or creates) a KV bucket of one participant (its idempotency records, its outbox), whose entries
 * last `options.ttlDays`, else `defaultTtlDays`. Where the broker's operator provisions buckets (secured
 * deployments), a participant only opens its own.
 */
export function openParticipantBucket(
  nc: NatsConnection,
  name: string,
  options: ParticipantBucketOptions,
  defaultTtlDays: number,
): Promise<KV> {
  return openBucket(nc, name, {
    create: options.create !== false,
    ttlMs: (options.ttlDays ?? defaultTtlDays) * DAY_MS,
    replicas: options.replicas ?? 1,
  });
}
