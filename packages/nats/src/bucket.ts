import { type KV, type KvOptions, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** How {@link openBucket} opens a KV bucket. */
export interface BucketOptions {
  /**
   * Create the bucket when it is missing (default). `false` only opens it: on a secured server the
   * operator provisions the buckets, and a participant may open its own but not create one.
   */
  create?: boolean;
  /** Revisions kept per key (default 1). */
  history?: number;
  /** How long a value lives, in ms (default: for ever). */
  ttlMs?: number;
  /** Replicas of a bucket this call creates (default 1). */
  replicas?: number;
  /** How long the JetStream requests may take, in ms (default 30 000: longer than an election). */
  timeoutMs?: number;
}

/**
 * Opens a KV bucket, creating it with these settings when missing: the one way every package opens its
 * buckets, so that provisioning, replicas and time-outs mean the same everywhere.
 *
 * @example
 * ```ts
 * const kv = await openBucket(nc, 'outbox-commune-21004', { ttlMs: 90 * 86_400_000, replicas: 3 });
 * ```
 */
export async function openBucket(nc: NatsConnection, name: string, options: BucketOptions = {}): Promise<KV> {
  const timeout = options.timeoutMs ?? 30_000;
  const kvm = new Kvm(nc);
  if (options.create === false) return kvm.open(name, { timeout });
  const settings: Partial<KvOptions> = {
    history: options.history ?? 1,
    replicas: options.replicas ?? 1,
    timeout,
  };
  if (options.ttlMs !== undefined) settings.ttl = options.ttlMs;
  return kvm.create(name, settings);
}
