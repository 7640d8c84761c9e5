import { DoorError } from './door-error.js';
import { DoorStore } from './door-store.js';
import { randomSecret } from './door-keys.js';
import { type DoorScope, isDoorScope } from './scopes.js';

/** A calling system as the door knows it (never its secret). */
export interface DoorClientInfo {
  /** The system's id: 3 to 63 lower-case letters, digits and hyphens (`portal-wib`, `case-desk`). */
  id: string;
  /** The scopes its tokens may carry. */
  scopes: DoorScope[];
  createdAt: string;
  /** Who created it: an admin client's id, or `bootstrap`. */
  createdBy: string;
  /** Set once revoked: its tokens stop working at once, and it gets no other. */
  revokedAt?: string;
  revokedBy?: string;
}

interface ClientRecord extends DoorClientInfo {
  /** `DoorKeys.hash` of the secret, purpose `client-secret`. */
  secretHash: string;
}

/** The pattern of a client id (a KV key token, never a person's name: it names a system). */
export const CLIENT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{2,62}$/;

/** Name of a door's clients bucket. */
export function clientsBucketName(door: string): string {
  return `door-${door}-clients`;
}

const SECRET_PURPOSE = 'client-secret';

/**
 * The calling systems of one door, in a JetStream KV bucket: each with its scopes and the keyed hash of its
 * secret (see `DoorKeys`), created by an admin client or at bootstrap, revocable. The secret is
 * returned once, at creation, and stored nowhere in the clear.
 */
export class ClientStore extends DoorStore {
  /** Name of a door's bucket of this store. */
  static readonly bucketName = clientsBucketName;

  /**
   * Creates a client and returns its secret, the one time it is shown.
   *
   * @example
   * ```ts
   * const { client, secret } = await clients.create({ id: 'case-desk', scopes: ['read', 'decide'], createdBy: 'bootstrap' });
   * ```
   */
  async create(input: {
    id: string;
    scopes: readonly DoorScope[];
    createdBy: string;
  }): Promise<{ client: DoorClientInfo; secret: string }> {
    if (!CLIENT_ID_PATTERN.test(input.id)) {
      throw new DoorError(
        'ERR_CONFIG_INVALID',
        'A client id is 3 to 63 lower-case letters, digits and hyphens, starting with a letter or a digit.',
        { details: { setting: 'id' } },
      );
    }
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0 || !scopes.every(isDoorScope)) {
      throw new DoorError(
        'ERR_CONFIG_INVALID',
        'A client needs one or more of the scopes read, decide, admin.',
        {
          details: { setting: 'scopes' },
        },
      );
    }
    const secret = randomSecret('pdc');
    const record: ClientRecord = {
      id: input.id,
      scopes,
      createdAt: this.now().toISOString(),
      createdBy: input.createdBy,
      secretHash: this.keys.hash(SECRET_PURPOSE, `${input.id}\n${secret}`),
    };
    try {
      await this.kv.create(input.id, JSON.stringify(record));
    } catch (err) {
      // a revoked id stays taken: tokens and logs that name it must keep meaning one system
      if (await this.kv.get(input.id)) {
        throw new DoorError('ERR_CLIENT_EXISTS', 'A client with this id already exists in this door.');
      }
      throw err;
    }
    return { client: publicInfo(record), secret };
  }

  private async record(id: string): Promise<{ record: ClientRecord; revision: number } | undefined> {
    return this.read<ClientRecord>(CLIENT_ID_PATTERN, id);
  }

  /** The client with this id, revoked or not; `undefined` if there is none. */
  async get(id: string): Promise<DoorClientInfo | undefined> {
    const found = await this.record(id);
    return found ? publicInfo(found.record) : undefined;
  }

  /** Every client of the door, by id. */
  async list(): Promise<DoorClientInfo[]> {
    const clients = await Promise.all((await this.ids()).sort().map((id) => this.get(id)));
    return clients.filter((c): c is DoorClientInfo => c !== undefined);
  }

  /**
   * Checks a client's id and secret; throws `ERR_CLIENT_AUTHENTICATION_FAILED`, the same for an unknown id,
   * a wrong secret and a revoked client.
   */
  async authenticate(id: string, secret: string): Promise<DoorClientInfo> {
    const found = await this.record(id);
    // the hash is computed for an unknown id as well, so that the time taken does not tell ids apart
    const matches = this.keys.hashMatches(
      SECRET_PURPOSE,
      `${id}\n${secret}`,
      found?.record.secretHash ?? '00'.repeat(32),
    );
    if (!found || !matches || found.record.revokedAt) {
      throw new DoorError('ERR_CLIENT_AUTHENTICATION_FAILED', 'The client id or secret is not valid.', {
        details: { oauthError: 'invalid_client' },
      });
    }
    return publicInfo(found.record);
  }

  /**
   * Gives a live client a new secret and returns it, the one time it is shown: the old secret gets no
   * token from then on (tokens already issued run to their expiry, or until the client is revoked). For a
   * set-up script that lost the secret it kept, or a scheduled rotation.
   *
   * @example
   * ```ts
   * const { secret } = await clients.rotateSecret('acme-hr');
   * ```
   */
  async rotateSecret(id: string): Promise<{ client: DoorClientInfo; secret: string }> {
    for (let attempt = 1; ; attempt++) {
      const found = await this.record(id);
      if (!found || found.record.revokedAt) {
        throw new DoorError('ERR_CLIENT_NOT_FOUND', 'No live client of this door has this id.');
      }
      const secret = randomSecret('pdc');
      const record: ClientRecord = {
        ...found.record,
        secretHash: this.keys.hash(SECRET_PURPOSE, `${id}\n${secret}`),
      };
      try {
        await this.kv.update(id, JSON.stringify(record), found.revision);
        return { client: publicInfo(record), secret };
      } catch (err) {
        // changed in between: read it again (a few times: the bucket may be failing instead)
        if (attempt >= 5) throw err;
      }
    }
  }

  /**
   * Revokes a client: from then on its tokens are refused and it gets no other.
   *
   * @example
   * ```ts
   * await clients.revoke('case-desk', 'admin-console');
   * ```
   */
  async revoke(id: string, by: string): Promise<DoorClientInfo> {
    for (let attempt = 1; ; attempt++) {
      const found = await this.record(id);
      if (!found) throw new DoorError('ERR_CLIENT_NOT_FOUND', 'No client of this door has this id.');
      if (found.record.revokedAt) return publicInfo(found.record);
      const record: ClientRecord = { ...found.record, revokedAt: this.now().toISOString(), revokedBy: by };
      try {
        await this.kv.update(id, JSON.stringify(record), found.revision);
        return publicInfo(record);
      } catch (err) {
        // changed in between: read it again (a few times: the bucket may be failing instead)
        if (attempt >= 5) throw err;
      }
    }
  }
}

function publicInfo(record: ClientRecord): DoorClientInfo {
  const { secretHash: _secretHash, ...info } = record;
  return info;
}
