import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** A processing record of one message id. */
export interface IdempotencyRecord {
  state: 'processing' | 'done';
  /** Who holds the lease (process instance), for diagnostics. */
  owner: string;
  at: string;
}

/** Outcome of {@link IdempotencyStore.claim}. */
export type ClaimResult =
  { kind: 'claimed'; revision: number } | { kind: 'done' } | { kind: 'busy'; retryInMs: number };

/** Name of a participant's idempotency bucket. */
export function idempotencyBucketName(participant: string): string {
  return `pex-idem-${participant}`;
}

/**
 * One record per processed message id in a KV bucket, so a redelivered or re-published message runs the
 * handler at most once to completion, beyond the stream's duplicate window. A record is first a lease
 * (`processing`, compare-and-set on the KV revision) and becomes `done` after the handler succeeded; a
 * lease older than `leaseMs` (its holder died) can be taken over.
 */
export class IdempotencyStore {
  private constructor(
    private readonly kv: KV,
    private readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /**
   * Opens (or creates) the bucket of a participant. Records are kept `ttlDays` (default 30): longer than
   * any redelivery and than the envelope freshness window, after which a replay is refused anyway.
   */
  static async open(
    nc: NatsConnection,
    participant: string,
    options: { owner: string; leaseMs?: number; ttlDays?: number; replicas?: number; create?: boolean },
  ): Promise<IdempotencyStore> {
    const kvm = new Kvm(nc);
    const name = idempotencyBucketName(participant);
    // Where the broker's operator provisions buckets (secured deployments), a participant only opens its own.
    const kv =
      options.create === false
        ? await kvm.open(name, { timeout: 30_000 })
        : await kvm.create(name, {
            history: 1,
            ttl: (options.ttlDays ?? 30) * 24 * 60 * 60 * 1000,
            replicas: options.replicas ?? 1,
            timeout: 30_000,
          });
    return new IdempotencyStore(kv, options.owner, options.leaseMs ?? 60_000);
  }

  private key(id: string): string {
    // KV keys allow [-/_=.a-zA-Z0-9]; message ids are UUIDs, but keep any id safe.
    return id.replace(/[^-_=.a-zA-Z0-9]/g, '_');
  }

  /** Takes the lease on a message id, or says it is done or held by someone else. */
  async claim(id: string, now = new Date()): Promise<ClaimResult> {
    const key = this.key(id);
    const record = JSON.stringify({
      state: 'processing',
      owner: this.owner,
      at: now.toISOString(),
    } satisfies IdempotencyRecord);
    // The common case is a first delivery: try to create the record straight away (one round trip).
    try {
      return { kind: 'claimed', revision: await this.kv.create(key, record) };
    } catch {
      // it exists (or existed): look at it
    }
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') {
      // Released after a handler error (a delete marker): take it again.
      try {
        return { kind: 'claimed', revision: await this.kv.create(key, record) };
      } catch {
        return { kind: 'busy', retryInMs: 1_000 };
      }
    }
    const current = entry.json<IdempotencyRecord>();
    if (current.state === 'done') return { kind: 'done' };
    const age = now.getTime() - Date.parse(current.at);
    if (age < this.leaseMs && current.owner !== this.owner) {
      return { kind: 'busy', retryInMs: Math.max(1_000, this.leaseMs - age) };
    }
    try {
      return { kind: 'claimed', revision: await this.kv.update(key, record, entry.revision) };
    } catch {
      return { kind: 'busy', retryInMs: 1_000 };
    }
  }

  /** Extends a lease held by this process; returns the new revision. */
  async renew(id: string, revision: number, now = new Date()): Promise<number> {
    const record: IdempotencyRecord = { state: 'processing', owner: this.owner, at: now.toISOString() };
    return this.kv.update(this.key(id), JSON.stringify(record), revision);
  }

  /** Marks a claimed id done (the handler succeeded). */
  async complete(id: string, revision: number, now = new Date()): Promise<void> {
    const record: IdempotencyRecord = { state: 'done', owner: this.owner, at: now.toISOString() };
    await this.kv.update(this.key(id), JSON.stringify(record), revision);
  }

  /** Gives a lease back after a handler error, so the next delivery can claim it at once. */
  async release(id: string): Promise<void> {
    await this.kv.delete(this.key(id));
  }

  /** The record of an id, if any. */
  async get(id: string): Promise<IdempotencyRecord | undefined> {
    const entry = await this.kv.get(this.key(id));
    return entry && entry.operation === 'PUT' ? entry.json<IdempotencyRecord>() : undefined;
  }
}
