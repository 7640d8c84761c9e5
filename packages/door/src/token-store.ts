import { openBucket } from '@passerelle/nats';
import { type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DoorClientInfo } from './client-store.js';
import { DoorError } from './door-error.js';
import { type DoorKeys, randomSecret } from './door-keys.js';
import type { DoorScope } from './scopes.js';

/** What a door knows of an access token (stored under the token's keyed hash, never the token). */
export interface TokenRecord {
  clientId: string;
  scopes: DoorScope[];
  issuedAt: string;
  expiresAt: string;
}

/** An issued token, as the token endpoint answers it. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  scopes: DoorScope[];
}

/** Name of a door's tokens bucket. */
export function tokensBucketName(door: string): string {
  return `door-${door}-tokens`;
}

const TOKEN_PURPOSE = 'access-token';
const TOKEN_SYNTAX = /^pat_[A-Za-z0-9_-]{43}$/;

/**
 * Short-lived opaque bearer tokens of one door, in a JetStream KV bucket whose entries expire (twice the
 * lifetime: for one lifetime after expiry a token is still recognised, and refused as expired rather than
 * unknown). A token is 256 random bits; the bucket holds only its keyed hash, its client, scopes and expiry.
 */
export class TokenStore {
  private constructor(
    private readonly kv: KV,
    private readonly keys: DoorKeys,
    readonly lifetimeMs: number,
    private readonly now: () => Date,
  ) {}

  /**
   * Opens (or creates) the bucket.
   *
   * @example
   * ```ts
   * const tokens = await TokenStore.open(nc, 'region-bruxelles', keys, { lifetimeMs: 10 * 60_000 });
   * ```
   */
  static async open(
    nc: NatsConnection,
    door: string,
    keys: DoorKeys,
    options: { lifetimeMs?: number; replicas?: number; create?: boolean; now?: () => Date } = {},
  ): Promise<TokenStore> {
    const lifetimeMs = options.lifetimeMs ?? 10 * 60_000;
    if (!Number.isInteger(lifetimeMs) || lifetimeMs < 1_000 || lifetimeMs > 24 * 3_600_000) {
      throw new DoorError('ERR_CONFIG_INVALID', 'door setting tokenLifetimeMs must be between 1 s and 24 h', {
        details: { setting: 'tokenLifetimeMs' },
      });
    }
    const kv = await openBucket(nc, tokensBucketName(door), {
      create: options.create !== false,
      ttlMs: 2 * lifetimeMs,
      replicas: options.replicas ?? 1,
    });
    return new TokenStore(kv, keys, lifetimeMs, options.now ?? (() => new Date()));
  }

  /** Issues a token for `client` with `scopes` (already checked against the client's). */
  async issue(client: DoorClientInfo, scopes: readonly DoorScope[]): Promise<IssuedToken> {
    const token = randomSecret('pat');
    const issuedAt = this.now();
    const record: TokenRecord = {
      clientId: client.id,
      scopes: [...scopes],
      issuedAt: issuedAt.toISOString(),
      expiresAt: new Date(issuedAt.getTime() + this.lifetimeMs).toISOString(),
    };
    await this.kv.create(this.keys.hash(TOKEN_PURPOSE, token), JSON.stringify(record));
    return { token, expiresIn: Math.floor(this.lifetimeMs / 1000), scopes: record.scopes };
  }

  /**
   * The record of a presented token; throws `ERR_ACCESS_TOKEN_INVALID` for a malformed or unknown one and
   * `ERR_ACCESS_TOKEN_EXPIRED` past its expiry.
   */
  async resolve(token: string): Promise<TokenRecord> {
    if (!TOKEN_SYNTAX.test(token)) throw invalid();
    const entry = await this.kv.get(this.keys.hash(TOKEN_PURPOSE, token));
    if (!entry || entry.operation !== 'PUT') throw invalid();
    const record = entry.json<TokenRecord>();
    if (Date.parse(record.expiresAt) <= this.now().getTime()) {
      throw new DoorError('ERR_ACCESS_TOKEN_EXPIRED', 'The bearer access token has expired.');
    }
    return record;
  }
}

function invalid(): DoorError {
  return new DoorError('ERR_ACCESS_TOKEN_INVALID', 'The bearer access token is not valid.');
}
