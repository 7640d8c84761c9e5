import {
  type ParticipantPublicKeys,
  type PrivateJwk,
  type PublicJwk,
  signCompact,
  toPublicJwk,
  verifyCompact,
} from '@passerelle/envelope';
import { P256_JWK_RULE, isPublicJwk } from '@passerelle/envelope/internal';
import { DirectoryError } from './directory-error.js';
import { type ParticipantKind, isParticipantId, participantKind } from './participant-id.js';

/** `typ` of an entry's JWS, so an entry signature cannot be replayed as another kind of signed object. */
export const ENTRY_TYP = 'pex-directory-entry+jws';

/** One participant as the trust anchor vouches for it. */
export interface ParticipantEntry {
  id: string;
  kind: ParticipantKind;
  /** Name of the body (an administration, not a person). */
  name: string;
  /** ES256 public keys, each with `kid` and optional `notBefore`/`notAfter` (several during a rotation). */
  signing: PublicJwk[];
  /** ECDH-ES P-256 public keys, same rules. */
  encryption: PublicJwk[];
  /** RFC 3339; among entries of one version, a client keeps the latest. */
  updatedAt: string;
  /**
   * Set by the anchor's tooling, one more than the highest it finds for the participant: a client refuses
   * an entry whose version is below the one it has accepted and persisted (rollback). Absent in entries
   * signed before versions existed, which read as version 0 and give way to the next publish.
   */
  version?: number;
}

/** An entry as stored and shipped: the compact JWS (ES256) by the trust anchor over the entry JSON. */
export type SignedEntry = string;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function invalid(id: string, reason: string): never {
  throw new DirectoryError('ERR_DIRECTORY_ENTRY_INVALID', `Directory entry ${id}: ${reason}.`, {
    details: { participantId: id },
  });
}

function checkKeys(id: string, keys: unknown, use: 'signing' | 'encryption'): PublicJwk[] {
  if (!Array.isArray(keys) || keys.length === 0)
    invalid(id, `${use} must be a non-empty list of public keys`);
  const kids = new Set<string>();
  for (const k of keys as unknown[]) {
    if (!isPublicJwk(k))
      invalid(id, `${use} holds something else than a public P-256 JWK (${P256_JWK_RULE})`);
    if (kids.has(k.kid)) invalid(id, `${use} has two keys with kid ${k.kid}`);
    kids.add(k.kid);
    for (const f of ['notBefore', 'notAfter'] as const) {
      const v = k[f];
      if (v !== undefined && (typeof v !== 'string' || !RFC3339.test(v) || Number.isNaN(Date.parse(v)))) {
        invalid(id, `${use} key ${k.kid} has a malformed ${f}`);
      }
    }
  }
  return keys as PublicJwk[];
}

/** Checks an entry's shape (id, kind matching the id, keys public and well-formed) and returns it typed. */
export function assertParticipantEntry(value: unknown): ParticipantEntry {
  const e = value as Record<string, unknown> | null;
  if (typeof e !== 'object' || e === null || Array.isArray(e)) invalid('?', 'not an object');
  const id = typeof e['id'] === 'string' ? e['id'] : '?';
  if (!isParticipantId(id)) invalid(id.slice(0, 64), 'id is not a participant id');
  if (e['kind'] !== participantKind(id)) invalid(id, 'kind does not match the id');
  if (typeof e['name'] !== 'string' || e['name'].length === 0 || e['name'].length > 200)
    invalid(id, 'name must be 1-200 characters');
  checkKeys(id, e['signing'], 'signing');
  checkKeys(id, e['encryption'], 'encryption');
  if (typeof e['updatedAt'] !== 'string' || !RFC3339.test(e['updatedAt']))
    invalid(id, 'updatedAt must be an RFC 3339 date-time');
  const version = e['version'];
  if (version !== undefined && (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0))
    invalid(id, 'version must be a non-negative integer');
  const allowed = new Set(['id', 'kind', 'name', 'signing', 'encryption', 'updatedAt', 'version']);
  for (const k of Object.keys(e)) if (!allowed.has(k)) invalid(id, `unknown member ${k.slice(0, 32)}`);
  return e as unknown as ParticipantEntry;
}

/**
 * Signs a participant entry with the trust anchor's private key. Private members of the keys are
 * refused, so a private key cannot end up in the directory by mistake.
 *
 * @example
 * ```ts
 * const signed = await signEntry({ id: 'commune-21004', kind: 'commune', name: 'Bastogne', signing: [sig], encryption: [enc], updatedAt: new Date().toISOString() }, anchorKey);
 * ```
 */
export async function signEntry(entry: ParticipantEntry, anchorKey: PrivateJwk): Promise<SignedEntry> {
  const checked = assertParticipantEntry(entry);
  return signCompact(checked, anchorKey, { typ: ENTRY_TYP });
}

/**
 * Verifies a signed entry against the trust anchor's public key and returns the entry; throws
 * ERR_DIRECTORY_ENTRY_INVALID when it is not signed by the anchor or is malformed.
 *
 * @example
 * ```ts
 * const entry = await verifyEntry(kvEntry.string(), anchor);
 * ```
 */
export async function verifyEntry(
  signed: SignedEntry,
  anchor: PublicJwk,
  expectedId?: string,
): Promise<ParticipantEntry> {
  let result: { payload: unknown; header: object };
  try {
    result = await verifyCompact(signed, (kid) => {
      if (kid !== anchor.kid) throw new Error('signed by another key than the trust anchor');
      return Promise.resolve(anchor);
    });
  } catch (cause) {
    throw new DirectoryError(
      'ERR_DIRECTORY_ENTRY_INVALID',
      `Directory entry ${expectedId ?? '?'}: not signed by the trust anchor.`,
      {
        cause,
        details: { participantId: expectedId },
      },
    );
  }
  if ((result.header as { typ?: unknown }).typ !== ENTRY_TYP)
    invalid(expectedId ?? '?', `typ must be ${ENTRY_TYP}`);
  const entry = assertParticipantEntry(result.payload);
  if (expectedId !== undefined && entry.id !== expectedId)
    invalid(expectedId, `it is stored under the key of ${entry.id}`);
  return entry;
}

/** An entry's version: its `version`, or 0 for an entry signed before versions existed. */
export function entryVersion(entry: ParticipantEntry): number {
  return entry.version ?? 0;
}

/**
 * Orders two entries of one participant: by version, then by `updatedAt`. Positive when `a` is newer, 0
 * when neither is (the same entry, or two the anchor signed with one version and one date).
 */
export function compareEntries(a: ParticipantEntry, b: ParticipantEntry): number {
  return entryVersion(a) - entryVersion(b) || Date.parse(a.updatedAt) - Date.parse(b.updatedAt);
}

/** The keys of an entry in the shape the envelope's resolvers use. */
export function entryKeys(entry: ParticipantEntry): ParticipantPublicKeys {
  return { participantId: entry.id, signing: entry.signing, encryption: entry.encryption };
}

/**
 * An entry for a participant from its public keys (e.g. `keys generate`'s `public.json`), without a
 * version unless one is given: {@link publishNextEntry} gives it the next one.
 *
 * @example
 * ```ts
 * const entry = makeEntry('region-bruxelles', 'Bruxelles Economie et Emploi', pub.signing, pub.encryption);
 * ```
 */
export function makeEntry(
  id: string,
  name: string,
  signing: PublicJwk[],
  encryption: PublicJwk[],
  updatedAt = new Date(),
  version?: number,
): ParticipantEntry {
  return {
    id,
    kind: participantKind(id),
    name,
    signing: signing.map(toPublicJwk),
    encryption: encryption.map(toPublicJwk),
    updatedAt: updatedAt.toISOString(),
    ...(version !== undefined ? { version } : {}),
  };
}
