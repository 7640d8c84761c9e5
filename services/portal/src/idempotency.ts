import { createHash } from 'node:crypto';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { newMessageId } from '@passerelle/envelope';
import type { StateCipher } from '@passerelle/service-host';
import { errorBody, errorStatus } from './http-errors.js';
import { PortalError } from './portal-error.js';

/** An HTTP answer kept for replay. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

interface IdempotencyEntry {
  /** `failed`: the last run ended in a 5xx, and a retry runs again at once. */
  state: 'pending' | 'failed' | 'done';
  /** SHA-256 of what identifies the request (method, route, body). */
  fingerprint?: string;
  /**
   * Id under which every run of this request publishes (`SendOptions.messageId`), so that a retry after a
   * failure part-way, or after the portal died before it recorded the answer, reaches each recipient once.
   */
  messageId?: string;
  response?: StoredResponse;
  at: string;
}

/** How a request with an `Idempotency-Key` is to be answered. */
export interface IdempotentRequest {
  integrator: string;
  key: string;
  /** Fingerprint known before running (JSON bodies); uploads compute theirs while streaming. */
  fingerprint?: string;
  /** Computes the fingerprint of a replayed request whose body is a stream (reads it). */
  fingerprintLater?: () => Promise<string>;
}

/** Name of a portal's idempotency bucket. */
export function httpIdempotencyBucketName(participant: string): string {
  return `pex-http-idem-${participant}`;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Checks an `Idempotency-Key` header value (1 to 255 visible ASCII characters). */
export function assertIdempotencyKey(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new PortalError(
      'ERR_REQUEST_INVALID',
      'The Idempotency-Key header must hold 1 to 255 visible ASCII characters.',
      { details: { header: 'idempotency-key' } },
    );
  }
}

/** A request fingerprint: SHA-256 over its parts, each length-prefixed so no two requests collide by concatenation. */
export function requestFingerprint(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part}\n`);
  return hash.digest('hex');
}

/**
 * The portal's `Idempotency-Key` records, one per integrator and key, in a KV bucket: a retried POST with
 * the same key gets the first answer and publishes nothing again; the same key on another request is
 * refused with `ERR_IDEMPOTENCY_KEY_REUSED`. A record is first `pending` (created with compare-and-set, so
 * two concurrent retries cannot both run), then `done` with the answer. A 5xx leaves it `failed`, so the
 * client's retry runs again — under the same message id, so that what the failed run published already is
 * not published twice. Records expire after `ttlMs` (default 24 h).
 */
export class HttpIdempotencyStore {
  private constructor(
    private readonly kv: KV,
    private readonly cipher: StateCipher,
    private readonly staleAfterMs: number,
    private readonly now: () => Date,
  ) {}

  /** Creates the bucket (or checks it): what the operator provisions on a secured server. */
  static createBucket(
    nc: NatsConnection,
    participant: string,
    options: { replicas?: number; ttlMs?: number } = {},
  ): Promise<KV> {
    return new Kvm(nc).create(httpIdempotencyBucketName(participant), {
      history: 1,
      ttl: options.ttlMs ?? 24 * 60 * 60 * 1000,
      replicas: options.replicas ?? 1,
      timeout: 30_000,
    });
  }

  /**
   * Opens (or creates) the bucket. Records are encrypted with `cipher`: a recorded upload answer holds a
   * document reference, whose object key is a read capability.
   */
  static async open(
    nc: NatsConnection,
    participant: string,
    cipher: StateCipher,
    options: {
      replicas?: number;
      ttlMs?: number;
      /** How long a `pending` record holds its key before another request takes it over (default 5 min). */
      staleAfterMs?: number;
      create?: boolean;
      /** The clock records are dated with (default the system clock). */
      now?: () => Date;
    } = {},
  ): Promise<HttpIdempotencyStore> {
    const kv =
      options.create === false
        ? await new Kvm(nc).open(httpIdempotencyBucketName(participant), { timeout: 30_000 })
        : await HttpIdempotencyStore.createBucket(nc, participant, options);
    return new HttpIdempotencyStore(
      kv,
      cipher,
      options.staleAfterMs ?? 5 * 60 * 1000,
      options.now ?? (() => new Date()),
    );
  }

  private entryKey(integrator: string, key: string): string {
    // KV keys allow few characters; the client's key is hashed, and scoped by integrator.
    return `${integrator}.${createHash('sha256').update(key, 'utf8').digest('hex')}`;
  }

  /**
   * Runs `run` once per key: the first call runs it and records the answer; a retry gets the recorded answer
   * (`replayed: true`) when its fingerprint matches.
   */
  async run(
    request: IdempotentRequest,
    run: (messageId: string) => Promise<StoredResponse & { fingerprint?: string }>,
  ): Promise<StoredResponse & { replayed: boolean }> {
    const key = this.entryKey(request.integrator, request.key);
    const pending = (messageId: string): IdempotencyEntry => ({
      state: 'pending',
      at: this.now().toISOString(),
      messageId,
      ...(request.fingerprint ? { fingerprint: request.fingerprint } : {}),
    });
    let revision: number;
    let messageId = newMessageId();
    try {
      revision = await this.kv.create(key, this.cipher.seal(pending(messageId), key));
    } catch {
      const existing = await this.kv.get(key);
      // A record that does not decrypt (the portal's key changed) counts as absent.
      const entry =
        existing?.operation === 'PUT'
          ? this.cipher.open<IdempotencyEntry>(existing.string(), key)
          : undefined;
      if (!existing || !entry) {
        // Deleted or expired between the two calls: take it over.
        revision = await this.kv.update(
          key,
          this.cipher.seal(pending(messageId), key),
          existing?.revision ?? 0,
        );
      } else if (entry.state === 'pending' || entry.state === 'failed') {
        if (entry.state === 'pending' && this.now().getTime() - Date.parse(entry.at) < this.staleAfterMs) {
          throw new PortalError(
            'ERR_IDEMPOTENCY_IN_PROGRESS',
            'A request with this Idempotency-Key is in progress.',
          );
        }
        // An earlier run failed or died: this one publishes under its id, and only for the same request.
        if (entry.fingerprint && request.fingerprint && entry.fingerprint !== request.fingerprint) {
          throw new PortalError(
            'ERR_IDEMPOTENCY_KEY_REUSED',
            'This Idempotency-Key was first used with another request.',
          );
        }
        messageId = entry.messageId ?? messageId;
        revision = await this.kv.update(key, this.cipher.seal(pending(messageId), key), existing.revision);
      } else {
        const fingerprint = request.fingerprint ?? (await request.fingerprintLater?.());
        if (!entry.response || fingerprint !== entry.fingerprint) {
          throw new PortalError(
            'ERR_IDEMPOTENCY_KEY_REUSED',
            'This Idempotency-Key was first used with another request.',
          );
        }
        return { ...entry.response, replayed: true };
      }
    }
    let result: StoredResponse & { fingerprint?: string };
    try {
      result = await run(messageId);
    } catch (err) {
      const status = errorStatus(err);
      if (status >= 500) {
        // kept with its message id: the client's retry runs again at once, publishing under the same id
        const failed: IdempotencyEntry = { ...pending(messageId), state: 'failed' };
        await this.kv
          .update(key, this.cipher.seal(failed, key), revision)
          .catch(() => this.kv.delete(key).catch(() => undefined));
      } else {
        const fingerprint = request.fingerprint;
        // A refused request is answered the same way on retry (the body may not have been read: uploads).
        if (fingerprint) {
          await this.record(key, revision, fingerprint, { status, body: errorBody(err) });
        } else {
          await this.kv.delete(key).catch(() => undefined);
        }
      }
      throw err;
    }
    const fingerprint = result.fingerprint ?? request.fingerprint ?? '';
    const response = { status: result.status, body: result.body };
    await this.record(key, revision, fingerprint, response);
    return { ...response, replayed: false };
  }

  private async record(
    key: string,
    revision: number,
    fingerprint: string,
    response: StoredResponse,
  ): Promise<void> {
    const done: IdempotencyEntry = { state: 'done', fingerprint, response, at: this.now().toISOString() };
    await this.kv.update(key, this.cipher.seal(done, key), revision);
  }
}
