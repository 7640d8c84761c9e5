import { PasserelleError } from '@passerelle/errors';
import { toPublicJwk } from './keys.js';
import type { KeyResolver, KeyUse, ParticipantKeys, PublicJwk } from './types.js';

/** A participant's public keys, as the directory holds them. */
export interface ParticipantPublicKeys {
  participantId: string;
  signing: PublicJwk[];
  encryption: PublicJwk[];
}

/**
 * The public half of a participant's keys, as the directory publishes it.
 *
 * @example
 * ```ts
 * const resolver = createStaticResolver([publicKeysOf(myKeys), publicKeysOf(peerKeys)]);
 * ```
 */
export function publicKeysOf(keys: ParticipantKeys): ParticipantPublicKeys {
  return {
    participantId: keys.participantId,
    signing: [toPublicJwk(keys.signing)],
    encryption: keys.encryption.map(toPublicJwk),
  };
}

/** Whether `at` lies inside the key's `notBefore`/`notAfter` window (both inclusive; absent = open). */
export function isKeyValidAt(key: PublicJwk, at: Date): boolean {
  const t = at.getTime();
  if (key.notBefore !== undefined && t < Date.parse(key.notBefore)) return false;
  if (key.notAfter !== undefined && t > Date.parse(key.notAfter)) return false;
  return true;
}

/**
 * Picks the key of `use` valid at `at`: the one named by `kid`, or without `kid` the valid key with the
 * latest `notBefore` (the newest during a rotation overlap). Throws ERR_KEY_NOT_FOUND or ERR_KEY_NOT_VALID_AT.
 */
export function selectKey(entry: ParticipantPublicKeys, use: KeyUse, at: Date, kid?: string): PublicJwk {
  const keys = use === 'sig' ? entry.signing : entry.encryption;
  if (kid !== undefined) {
    const key = keys.find((k) => k.kid === kid);
    if (!key) {
      throw new PasserelleError(
        'ERR_KEY_NOT_FOUND',
        `${entry.participantId} has no ${use} key with that kid.`,
        {
          details: { participantId: entry.participantId, use, kid: kid.slice(0, 128) },
        },
      );
    }
    if (!isKeyValidAt(key, at)) {
      throw new PasserelleError(
        'ERR_KEY_NOT_VALID_AT',
        `Key ${key.kid} of ${entry.participantId} is not valid at ${at.toISOString()}.`,
        {
          details: { participantId: entry.participantId, use, kid: key.kid, at: at.toISOString() },
        },
      );
    }
    return key;
  }
  if (keys.length === 0) {
    throw new PasserelleError('ERR_KEY_NOT_FOUND', `${entry.participantId} has no ${use} key.`, {
      details: { participantId: entry.participantId, use },
    });
  }
  const valid = keys.filter((k) => isKeyValidAt(k, at));
  valid.sort(
    (a, b) => (b.notBefore ? Date.parse(b.notBefore) : 0) - (a.notBefore ? Date.parse(a.notBefore) : 0),
  );
  const best = valid[0];
  if (!best) {
    throw new PasserelleError(
      'ERR_KEY_NOT_VALID_AT',
      `No ${use} key of ${entry.participantId} is valid at ${at.toISOString()}.`,
      {
        details: { participantId: entry.participantId, use, at: at.toISOString() },
      },
    );
  }
  return best;
}

/**
 * An in-memory {@link KeyResolver} over a fixed set of participants (tests, offline tools; the directory
 * package builds its resolvers on it).
 *
 * @example
 * ```ts
 * const resolver = createStaticResolver([{ participantId: 'portal-demo', signing: [sigPub], encryption: [encPub] }]);
 * ```
 */
export function createStaticResolver(entries: Iterable<ParticipantPublicKeys>): KeyResolver {
  const byId = new Map<string, ParticipantPublicKeys>();
  for (const e of entries) byId.set(e.participantId, e);
  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- a Promise-returning contract; throws become rejections
    async resolve(participantId: string, use: KeyUse, at: Date, kid?: string): Promise<PublicJwk> {
      const entry = byId.get(participantId);
      if (!entry) {
        throw new PasserelleError(
          'ERR_UNKNOWN_SENDER',
          `${participantId.slice(0, 64)} is not in the directory.`,
          {
            details: { participantId: participantId.slice(0, 64) },
          },
        );
      }
      return selectKey(entry, use, at, kid);
    },
  };
}
