import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { DirectoryError } from './directory-error.js';

/** File name of a participant's storage keyring inside its key folder (beside `private.json`). */
export const STORAGE_KEY_FILE = 'storage.json';

/** One storage key: 32 random bytes as a JWK of type `oct`, named by its `kid`. */
export interface StorageKey {
  kty: 'oct';
  kid: string;
  /** The key, base64url (32 bytes). */
  k: string;
  createdAt: string;
}

/**
 * A participant's storage keys: the secret its services seal their records at rest under (dossier state,
 * HTTP idempotency records, decision documents), apart from its signing key so that each is rotated on its
 * own. Records are sealed under `current` and name the key they were sealed with; older keys stay to read.
 */
export interface StorageKeyring {
  participantId: string;
  /** `kid` of the key new records are sealed under. */
  current: string;
  keys: StorageKey[];
  /**
   * The secret pseudonyms of personal identifiers are derived from (a passport number keying a commune's
   * register), base64url (32 bytes). Kept through rotations: a register keyed by pseudonyms cannot be
   * keyed again without the identifiers it hides.
   */
  pseudonym: string;
}

const KID = /^[A-Za-z0-9_-]{1,64}$/;

function invalid(path: string, reason: string): DirectoryError {
  return new DirectoryError('ERR_KEY_FILE_INVALID', `${path} is not a storage keyring: ${reason}.`);
}

/** A new storage key (node:crypto's random bytes), named `storage-<date>-<random>`. */
export function generateStorageKey(now = new Date()): StorageKey {
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  return {
    kty: 'oct',
    kid: `storage-${day}-${randomBytes(4).toString('hex')}`,
    k: randomBytes(32).toString('base64url'),
    createdAt: now.toISOString(),
  };
}

/** A keyring with one new key, current. */
export function generateStorageKeyring(participantId: string, now = new Date()): StorageKeyring {
  const key = generateStorageKey(now);
  return { participantId, current: key.kid, keys: [key], pseudonym: randomBytes(32).toString('base64url') };
}

/** Checks a keyring's shape; `path` names it in the error (never its content). */
export function assertStorageKeyring(data: unknown, path: string): StorageKeyring {
  const r = data as Partial<StorageKeyring> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw invalid(path, 'not an object');
  if (typeof r.participantId !== 'string' || r.participantId === '')
    throw invalid(path, 'participantId is missing');
  if (!Array.isArray(r.keys) || r.keys.length === 0) throw invalid(path, 'keys must be a non-empty list');
  const kids = new Set<string>();
  for (const k of r.keys as unknown[]) {
    const key = k as Partial<StorageKey> | null;
    if (typeof key !== 'object' || key === null || key.kty !== 'oct' || typeof key.kid !== 'string')
      throw invalid(path, 'each key must be { kty: "oct", kid, k, createdAt }');
    if (!KID.test(key.kid)) throw invalid(path, 'a kid must be 1-64 letters, digits, - or _');
    if (kids.has(key.kid)) throw invalid(path, `kid ${key.kid} appears twice`);
    kids.add(key.kid);
    if (typeof key.k !== 'string' || Buffer.from(key.k, 'base64url').length !== 32)
      throw invalid(path, `key ${key.kid} must hold 32 bytes`);
    if (typeof key.createdAt !== 'string') throw invalid(path, `key ${key.kid} has no createdAt`);
  }
  if (typeof r.current !== 'string' || !kids.has(r.current))
    throw invalid(path, 'current must name one of its keys');
  if (typeof r.pseudonym !== 'string' || Buffer.from(r.pseudonym, 'base64url').length !== 32)
    throw invalid(path, 'pseudonym must hold 32 bytes');
  return r as StorageKeyring;
}

/**
 * Writes a participant's storage keyring to `<dir>/storage.json`, mode 0600 from creation; refuses to
 * replace one unless `force` (a replaced keyring makes every record sealed under it unreadable).
 */
export async function writeStorageKeys(
  dir: string,
  ring: StorageKeyring,
  options: { force?: boolean } = {},
): Promise<string> {
  const path = join(dir, STORAGE_KEY_FILE);
  const text = JSON.stringify(assertStorageKeyring(ring, path), null, 2) + '\n';
  if (options.force) await writeFileAtomic(path, text, 0o600);
  else await writeFile(path, text, { mode: 0o600, flag: 'wx' });
  return path;
}

/**
 * Generates `<dir>/storage.json` for `participantId` when it is missing, and leaves an existing one as it
 * is: writing a participant's keys again (a signing-key rotation) keeps the records it sealed readable.
 */
export async function ensureStorageKeys(
  dir: string,
  participantId: string,
): Promise<{ path: string; created: boolean }> {
  const path = join(dir, STORAGE_KEY_FILE);
  try {
    await writeFile(path, JSON.stringify(generateStorageKeyring(participantId), null, 2) + '\n', {
      mode: 0o600,
      flag: 'wx',
    });
    return { path, created: true };
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') return { path, created: false };
    throw err;
  }
}

/**
 * Loads `<dir>/storage.json`; refuses a file readable by group or others, or one of another participant
 * when `participantId` is given. Errors name the file, never a key.
 *
 * @example
 * ```ts
 * const ring = await loadStorageKeys('keys/commune-21004', 'commune-21004');
 * ```
 */
export async function loadStorageKeys(dir: string, participantId?: string): Promise<StorageKeyring> {
  const path = join(dir, STORAGE_KEY_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new DirectoryError('ERR_KEY_FILE_INVALID', `Storage keyring ${path} cannot be read.`, { cause });
  }
  if (process.platform !== 'win32') {
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) {
      throw new DirectoryError(
        'ERR_KEY_FILE_INVALID',
        `${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it.`,
      );
    }
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(path, 'not JSON');
  }
  const ring = assertStorageKeyring(data, path);
  if (participantId !== undefined && ring.participantId !== participantId)
    throw invalid(path, `it belongs to ${ring.participantId.slice(0, 64)}, not ${participantId}`);
  return ring;
}

/**
 * Rotates a participant's storage key: a new key becomes current, the older ones stay to read what they
 * sealed (the pseudonym secret stays as it is). The file is rewritten atomically, mode 0600. Returns the
 * new current kid.
 *
 * @example
 * ```ts
 * const { current } = await rotateStorageKey('keys/commune-21004');
 * ```
 */
export async function rotateStorageKey(dir: string): Promise<{ path: string; current: string }> {
  const ring = await loadStorageKeys(dir);
  const key = generateStorageKey();
  const path = await writeStorageKeys(
    dir,
    { ...ring, current: key.kid, keys: [...ring.keys, key] },
    { force: true },
  );
  return { path, current: key.kid };
}

/**
 * Removes an older storage key from the keyring, once no record names it any more (`passerelle storage
 * reseal` seals them under the current key). The current key cannot be retired.
 */
export async function retireStorageKey(dir: string, kid: string): Promise<{ path: string }> {
  const ring = await loadStorageKeys(dir);
  const path = join(dir, STORAGE_KEY_FILE);
  if (kid === ring.current) throw invalid(path, `${kid} is the current key: rotate first`);
  if (!ring.keys.some((k) => k.kid === kid)) throw invalid(path, `it has no key ${kid.slice(0, 64)}`);
  await writeStorageKeys(dir, { ...ring, keys: ring.keys.filter((k) => k.kid !== kid) }, { force: true });
  return { path };
}
