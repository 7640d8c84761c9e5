import { openBucket } from '@passerelle/nats';
import { createHash } from 'node:crypto';
import { type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { DoorError } from './door-error.js';
import type { DoorKeys } from './door-keys.js';
import { uuidV7 } from './uuid-v7.js';

/** An HTTP answer kept to be given again to a retry. */
export interface StoredAnswer {
  status: number;
  /** The headers worth replaying (`content-type`, `location`). */
  headers: Record<string, string>;
  body: string;
}

interface IdempotencyEntry {
  /** `failed`: the last run ended in a 5xx, and a retry of the same request runs again at once. */
  state: 'pending' | 'failed' | 'done';
  fingerprint: string;
  /**
   * Stable across the runs of one request: what a handler derives its ids from, so a rerun repeats nothing.
   * A UUID v7, so that it can be an exchange message id (or the base of one).
   */
  runId: string;
  answer?: StoredAnswer;
  at: string;
}

/** A run the caller must do, then {@link IdempotencyStore.complete} or {@link IdempotencyStore.fail}. */
export interface IdempotentRun {
  kind: 'run';
  /** The same for every run of one request (same client, key and fingerprint). */
  runId: string;
  entryKey: string;
  fingerprint: string;
  revision: number;
}

/** The recorded answer of a request already run. */
export interface IdempotentReplay {
  kind: 'replay';
  answer: StoredAnswer;
}

/** Name of a door's idempotency bucket. */
export function idempotencyBucketName(door: string): string {
  return `door-${door}-idempotency`;
}

const KEY_SYNTAX = /^[\x21-\x7e]{1,255}$/;

/**
 * Checks an `Idempotency-Key` header: one value of 1 to 255 visible ASCII characters; throws
 * `ERR_IDEMPOTENCY_KEY_MISSING` (a `badRequest` naming the header) otherwise.
 */
export function assertIdempotencyKey(value: string | string[] | undefined): string {
  if (typeof value === 'string' && KEY_SYNTAX.test(value)) return value;
  throw new DoorError(
    'ERR_IDEMPOTENCY_KEY_MISSING',
    'This action needs an Idempotency-Key header of 1 to 255 visible ASCII characters.',
    { details: { in: 'header', name: 'Idempotency-Key' } },
  );
}

/**
 * `Idempotency-Key` records of one door in a KV bucket whose entries expire (default 24 h), one per caller
 * and key, each holding the request's fingerprint and, once run, its answer (encrypted: answers may hold
 * what only their caller may read). A record is first `pending` (created with compare-and-set, so that two
 * concurrent retries cannot both run), then `done` with the answer; the same key with another request is
 * `ERR_IDEMPOTENCY_KEY_REUSED` (422), one still running `ERR_IDEMPOTENCY_IN_PROGRESS` (409). A 5xx leaves
 * it `failed`: the retry runs again, under the same `runId`; a run that died while `pending` is taken
 * over once stale.
 */
export class IdempotencyStore {
  private constructor(
    private readonly kv: KV,
    private readonly keys: DoorKeys,
    private readonly staleAfterMs: number,
    private readonly now: () => Date,
  ) {}

  /**
   * Opens (or creates) the bucket.
   *
   * @example
   * ```ts
   * const idempotency = await IdempotencyStore.open(nc, 'region-bruxelles', keys, { ttlMs: 24 * 3_600_000 });
   * ```
   */
  static async open(
    nc: NatsConnection,
    door: string,
    keys: DoorKeys,
    options: {
      ttlMs?: number;
      staleAfterMs?: number;
      replicas?: number;
      create?: boolean;
      now?: () => Date;
    } = {},
  ): Promise<IdempotencyStore> {
    const kv = await openBucket(nc, idempotencyBucketName(door), {
      create: options.create !== false,
      ttlMs: options.ttlMs ?? 24 * 3_600_000,
      replicas: options.replicas ?? 1,
    });
    return new IdempotencyStore(
      kv,
      keys,
      options.staleAfterMs ?? 5 * 60_000,
      options.now ?? (() => new Date()),
    );
  }

  private seal(entry: IdempotencyEntry, entryKey: string): string {
    return this.keys.seal(JSON.stringify(entry), `idempotency\n${entryKey}`);
  }

  private open(sealed: string, entryKey: string): IdempotencyEntry | undefined {
    const text = this.keys.open(sealed, `idempotency\n${entryKey}`);
    return text === undefined ? undefined : (JSON.parse(text) as IdempotencyEntry);
  }

  /**
   * Starts a request: a run to do, or the recorded answer to give again.
   *
   * @example
   * ```ts
   * const start = await store.begin(request.client.id, key, requestFingerprint(…));
   * if (start.kind === 'replay') return start.answer;
   * ```
   */
  async begin(caller: string, key: string, fingerprint: string): Promise<IdempotentRun | IdempotentReplay> {
    // KV keys allow few characters: the caller's key is hashed, under the caller's id
    const entryKey = `${caller}.${createHash('sha256').update(key, 'utf8').digest('hex')}`;
    const pending = (runId: string): IdempotencyEntry => ({
      state: 'pending',
      fingerprint,
      runId,
      at: this.now().toISOString(),
    });
    const fresh = uuidV7(this.now());
    try {
      const revision = await this.kv.create(entryKey, this.seal(pending(fresh), entryKey));
      return { kind: 'run', runId: fresh, entryKey, fingerprint, revision };
    } catch (err) {
      const existing = await this.kv.get(entryKey);
      if (!existing) throw err;
      const entry = existing.operation === 'PUT' ? this.open(existing.string(), entryKey) : undefined;
      if (!entry) {
        // deleted, or sealed under another secret: as good as absent
        const revision = await this.kv.update(
          entryKey,
          this.seal(pending(fresh), entryKey),
          existing.revision,
        );
        return { kind: 'run', runId: fresh, entryKey, fingerprint, revision };
      }
      if (entry.fingerprint !== fingerprint) {
        throw new DoorError(
          'ERR_IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was first used with another request.',
        );
      }
      if (entry.state === 'done' && entry.answer) return { kind: 'replay', answer: entry.answer };
      if (entry.state === 'pending' && this.now().getTime() - Date.parse(entry.at) < this.staleAfterMs) {
        throw new DoorError(
          'ERR_IDEMPOTENCY_IN_PROGRESS',
          'A request with this Idempotency-Key is in progress.',
        );
      }
      // an earlier run failed or died: this one runs under its id
      const revision = await this.kv.update(
        entryKey,
        this.seal(pending(entry.runId), entryKey),
        existing.revision,
      );
      return { kind: 'run', runId: entry.runId, entryKey, fingerprint, revision };
    }
  }

  /** Records a run's answer (a 2xx, or a 4xx refusal that a retry must get again). */
  async complete(run: IdempotentRun, answer: StoredAnswer): Promise<void> {
    const done: IdempotencyEntry = {
      state: 'done',
      fingerprint: run.fingerprint,
      runId: run.runId,
      answer,
      at: this.now().toISOString(),
    };
    await this.kv.update(run.entryKey, this.seal(done, run.entryKey), run.revision);
  }

  /** Marks a run failed (a 5xx): the next retry of the same request runs again under the same id. */
  async fail(run: IdempotentRun): Promise<void> {
    const failed: IdempotencyEntry = {
      state: 'failed',
      fingerprint: run.fingerprint,
      runId: run.runId,
      at: this.now().toISOString(),
    };
    try {
      await this.kv.update(run.entryKey, this.seal(failed, run.entryKey), run.revision);
    } catch {
      // taken over meanwhile, or the bucket fails: leave it to its new owner or to its staleness
    }
  }
}
