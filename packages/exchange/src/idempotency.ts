import { type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ParticipantBucketOptions, openParticipantBucket } from './participant-bucket.js';

/** A processing record of one message id. */
export interface IdempotencyRecord {
  state: 'processing' | 'done';
  /** Who holds the lease (process instance), for diagnostics. */
  owner: string;
  at: string;
}

/**
 * What a recipient notes of a message it dead-lettered after opening it, under its own key beside the
 * message's record: the exact bytes (their SHA-256) and when the server first stored them.
 */
export interface DeadLetterNote {
  envelopeSha256: string;
  storedAt: string;
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
  /** Ids whose lease this instance holds right now (a handler is running for them here). */
  private readonly held = new Set<string>();
  /**
   * Ids whose handler succeeded here but whose `done` record could not be written (the bucket was
   * unreachable longer than {@link complete} retries): their next delivery writes it, and never runs the
   * handler again.
   */
  private readonly unrecorded = new Set<string>();

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
    options: { owner: string; leaseMs?: number } & ParticipantBucketOptions,
  ): Promise<IdempotencyStore> {
    const kv = await openParticipantBucket(nc, idempotencyBucketName(participant), options, 30);
    return new IdempotencyStore(kv, options.owner, options.leaseMs ?? 60_000);
  }

  private key(id: string): string {
    // KV keys allow [-/_=.a-zA-Z0-9]; message ids are UUIDs, but keep any id safe.
    return id.replace(/[^-_=.a-zA-Z0-9]/g, '_');
  }

  /** The record this instance writes, serialised. */
  private record(state: IdempotencyRecord['state'], now: Date): string {
    return JSON.stringify({ state, owner: this.owner, at: now.toISOString() } satisfies IdempotencyRecord);
  }

  /** Takes the lease on a message id, or says it is done or held by someone else. */
  async claim(id: string, now = new Date()): Promise<ClaimResult> {
    const key = this.key(id);
    const record = this.record('processing', now);
    // A redelivery while this instance still runs the handler (its progress acks were lost, e.g. while
    // the consumer's leader changed) must wait: taking back its own lease would run the handler twice.
    // The id is reserved before the first await, so that two deliveries of one id in flight at once (the
    // same envelope stored twice) cannot both reach the takeover of this instance's own lease below.
    if (this.held.has(id)) return { kind: 'busy', retryInMs: 1_000 };
    this.held.add(id);
    try {
      const result = this.unrecorded.has(id)
        ? await this.recordUnrecorded(id, now)
        : await this.claimRecord(key, record, now);
      if (result.kind !== 'claimed') this.held.delete(id);
      return result;
    } catch (err) {
      this.held.delete(id);
      throw err;
    }
  }

  private async claimRecord(key: string, record: string, now: Date): Promise<ClaimResult> {
    // The common case is a first delivery: try to create the record straight away (one round trip).
    try {
      const revision = await this.kv.create(key, record);
      return { kind: 'claimed', revision };
    } catch {
      // it exists (or existed): look at it
    }
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') {
      // Released after a handler error (a delete marker): take it again.
      try {
        const revision = await this.kv.create(key, record);
        return { kind: 'claimed', revision };
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
      const revision = await this.kv.update(key, record, entry.revision);
      return { kind: 'claimed', revision };
    } catch {
      return { kind: 'busy', retryInMs: 1_000 };
    }
  }

  /** Writes the `done` record of a message whose handler ran here before the bucket failed. */
  private async recordUnrecorded(id: string, now: Date): Promise<ClaimResult> {
    try {
      if (await this.writeDone(id, undefined, now)) {
        this.unrecorded.delete(id);
        return { kind: 'done' };
      }
      // taken over by another instance once our lease expired: its outcome, not ours, from now on
      this.unrecorded.delete(id);
      return { kind: 'busy', retryInMs: 1_000 };
    } catch {
      return { kind: 'busy', retryInMs: 5_000 };
    }
  }

  /**
   * Sets the record of `id` to `done` by this instance, with compare-and-set: at `revision` when given,
   * else (or when that is stale) at the revision read back while the record is still this instance's
   * lease (a renewal whose answer was lost moved it on), or by creating it when it is gone. True once the
   * record says done; false when another instance holds the lease. Throws when the bucket does not answer.
   */
  private async writeDone(id: string, revision: number | undefined, now: Date): Promise<boolean> {
    const key = this.key(id);
    const record = this.record('done', now);
    if (revision !== undefined) {
      try {
        await this.kv.update(key, record, revision);
        return true;
      } catch {
        // stale revision, lost answer or no answer: look at the record
      }
    }
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== 'PUT') {
      await this.kv.create(key, record);
      return true;
    }
    const current = entry.json<IdempotencyRecord>();
    // done already (by this instance's lost answer, or by another that took the lease over): the message
    // is handled; its receipt and acknowledgement follow
    if (current.state === 'done') return true;
    if (current.owner !== this.owner) return false;
    await this.kv.update(key, record, entry.revision);
    return true;
  }

  /** Extends a lease held by this process; returns the new revision. */
  async renew(id: string, revision: number, now = new Date()): Promise<number> {
    return this.kv.update(this.key(id), this.record('processing', now), revision);
  }

  /**
   * Marks a claimed id done (the handler succeeded). Retried for up to `retryMs` (default 30 s): if the
   * record stayed `processing`, the next delivery would find this instance's own lease, take it back and
   * run the handler a second time. A stale `revision` (a renewal whose answer was lost) is recovered by
   * reading the record back while it is still this instance's lease. When the bucket stays unreachable past
   * `retryMs`, the id is remembered: its next delivery writes the record instead of running the handler
   * (a process that dies meanwhile forgets it, and the lease, once expired, is taken over).
   */
  async complete(id: string, revision: number, now = new Date(), retryMs = 30_000): Promise<void> {
    const deadline = Date.now() + retryMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const ours = await this.writeDone(id, attempt === 1 ? revision : undefined, now);
        this.held.delete(id);
        if (!ours) {
          // the lease expired and another instance took it over: not ours to finish
          throw new Error(`the lease of ${id} was taken over before its handler's outcome was recorded`);
        }
        return;
      } catch (err) {
        if (!this.held.has(id)) throw err; // taken over (above)
        if (Date.now() > deadline) {
          this.held.delete(id);
          this.unrecorded.add(id);
          throw err;
        }
        await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * attempt)));
      }
    }
  }

  /**
   * Notes that the message `id` went to DEADLETTER, with the SHA-256 of its bytes and the time the server
   * first stored them, under a key of its own (the message's lease record is left to its holder). A
   * replay of these very bytes is then fresh against that time ({@link deadLetterNote}). An earlier note
   * of the same bytes is kept: it holds the first storage.
   */
  async noteDeadLetter(id: string, envelopeSha256: string, storedAt: Date, now = new Date()): Promise<void> {
    const key = this.deadKey(id);
    const earlier = await this.deadLetterNote(id);
    if (earlier?.envelopeSha256 === envelopeSha256) return;
    const note: DeadLetterNote = { envelopeSha256, storedAt: storedAt.toISOString(), at: now.toISOString() };
    await this.kv.put(key, JSON.stringify(note));
  }

  /** The note of a dead-lettered message ({@link noteDeadLetter}), if any. */
  async deadLetterNote(id: string): Promise<DeadLetterNote | undefined> {
    const entry = await this.kv.get(this.deadKey(id));
    return entry && entry.operation === 'PUT' ? entry.json<DeadLetterNote>() : undefined;
  }

  private deadKey(id: string): string {
    return `dead.${this.key(id)}`;
  }

  /**
   * Gives a lease back after a handler error, so the next delivery can claim it at once. With the lease's
   * `revision`, only while the record is still at it: a lease another instance took over (or a record it
   * marked done) is left alone.
   */
  async release(id: string, revision?: number): Promise<void> {
    this.held.delete(id);
    await this.kv.delete(this.key(id), revision === undefined ? undefined : { previousSeq: revision });
  }

  /** The record of an id, if any. */
  async get(id: string): Promise<IdempotencyRecord | undefined> {
    const entry = await this.kv.get(this.key(id));
    return entry && entry.operation === 'PUT' ? entry.json<IdempotencyRecord>() : undefined;
  }
}
