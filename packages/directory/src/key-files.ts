import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ParticipantKeys,
  type PrivateJwk,
  type PublicJwk,
  generateKey,
  toPublicJwk,
  publicKeysOf,
} from '@passerelle/envelope';
import { P256_JWK_RULE, isPrivateJwk, isPublicJwk } from '@passerelle/envelope/internal';
import { DirectoryError } from './directory-error.js';
import { ensureStorageKeys } from './storage-keys.js';

/** File names inside a participant's key folder. */
export const KEY_FILES = { private: 'private.json', public: 'public.json' } as const;
/** File names of the trust anchor's key folder. */
export const ANCHOR_FILES = { private: 'anchor.private.json', public: 'anchor.public.json' } as const;

/** The public half of a participant's keys, as `keys generate` writes it to `public.json`. */
export interface ParticipantPublicFile {
  participantId: string;
  signing: PublicJwk[];
  encryption: PublicJwk[];
}

async function writeSecret(path: string, data: unknown, force: boolean): Promise<void> {
  // 0600 from creation (mode on open), never widened; 'wx' refuses to overwrite a key by accident
  await writeFile(path, JSON.stringify(data, null, 2) + '\n', { mode: 0o600, flag: force ? 'w' : 'wx' });
}

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (cause) {
    // the cause names the path and the parse position, never the file content
    throw new DirectoryError('ERR_KEY_FILE_INVALID', `${what} ${path} cannot be read as JSON.`, {
      cause: cause instanceof SyntaxError ? undefined : cause,
    });
  }
}

/**
 * Writes a participant's keys to `dir`: `private.json` (mode 0600) and `public.json`, and its storage
 * keyring `storage.json` (mode 0600) when there is none yet. An existing keyring is kept, with `force`
 * too: replacing the signing and encryption keys must leave the records sealed at rest readable.
 *
 * @example
 * ```ts
 * await writeParticipantKeys('keys/commune-21004', await generateParticipantKeys('commune-21004'));
 * ```
 */
export async function writeParticipantKeys(
  dir: string,
  keys: ParticipantKeys,
  options: { force?: boolean } = {},
): Promise<{ privatePath: string; publicPath: string; storagePath: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privatePath = join(dir, KEY_FILES.private);
  const publicPath = join(dir, KEY_FILES.public);
  await writeSecret(privatePath, keys, options.force ?? false);
  const pub: ParticipantPublicFile = publicKeysOf(keys);
  await writeFile(publicPath, JSON.stringify(pub, null, 2) + '\n');
  const { path: storagePath } = await ensureStorageKeys(dir, keys.participantId);
  return { privatePath, publicPath, storagePath };
}

async function assertPrivateMode(path: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) {
    throw new DirectoryError(
      'ERR_KEY_FILE_INVALID',
      `${path} is readable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it.`,
    );
  }
}

/**
 * Loads a participant's private keys from a folder written by {@link writeParticipantKeys}; refuses a
 * `private.json` readable by group or others.
 *
 * @example
 * ```ts
 * const me = await loadParticipantKeys('keys/commune-21004');
 * ```
 */
export async function loadParticipantKeys(dir: string): Promise<ParticipantKeys> {
  const path = join(dir, KEY_FILES.private);
  const data = (await readJson(path, 'Key file')) as Partial<ParticipantKeys> | null;
  await assertPrivateMode(path);
  if (
    typeof data !== 'object' ||
    data === null ||
    typeof data.participantId !== 'string' ||
    !isPrivateJwk(data.signing) ||
    !Array.isArray(data.encryption) ||
    data.encryption.length === 0 ||
    !data.encryption.every(isPrivateJwk)
  ) {
    throw new DirectoryError(
      'ERR_KEY_FILE_INVALID',
      `${path} is not a participant key file (participantId, signing, encryption[]; keys: ${P256_JWK_RULE}, and d).`,
    );
  }
  return data as ParticipantKeys;
}

/** Loads a `public.json` written by {@link writeParticipantKeys}. */
export async function loadPublicKeysFile(path: string): Promise<ParticipantPublicFile> {
  const data = (await readJson(path, 'Public key file')) as Partial<ParticipantPublicFile> | null;
  if (
    typeof data !== 'object' ||
    data === null ||
    typeof data.participantId !== 'string' ||
    !Array.isArray(data.signing) ||
    !data.signing.every(isPublicJwk) ||
    !Array.isArray(data.encryption) ||
    !data.encryption.every(isPublicJwk)
  ) {
    throw new DirectoryError(
      'ERR_KEY_FILE_INVALID',
      `${path} is not a public key file (participantId, signing[], encryption[] without private members; keys: ${P256_JWK_RULE}).`,
    );
  }
  return data as ParticipantPublicFile;
}

/**
 * Generates the trust anchor's key pair into `dir`: `anchor.private.json` (0600, kept offline by
 * governance) and `anchor.public.json` (distributed to every participant out of band).
 *
 * @example
 * ```ts
 * const { publicKey } = await writeAnchor('anchor');
 * ```
 */
export async function writeAnchor(
  dir: string,
  options: { force?: boolean } = {},
): Promise<{ privatePath: string; publicPath: string; publicKey: PublicJwk }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = await generateKey('sig', { kidPrefix: 'anchor' });
  const privatePath = join(dir, ANCHOR_FILES.private);
  const publicPath = join(dir, ANCHOR_FILES.public);
  await writeSecret(privatePath, key, options.force ?? false);
  const publicKey = toPublicJwk(key);
  await writeFile(publicPath, JSON.stringify(publicKey, null, 2) + '\n');
  return { privatePath, publicPath, publicKey };
}

/** Loads the anchor's public key (a private file is accepted and reduced to its public half). */
export async function loadAnchor(path: string): Promise<PublicJwk> {
  const data = await readJson(path, 'Anchor file');
  if (!isPublicJwk(data) && !isPrivateJwk(data)) {
    throw new DirectoryError('ERR_KEY_FILE_INVALID', `${path} is not a P-256 JWK (${P256_JWK_RULE}).`);
  }
  return toPublicJwk(data);
}

/** Loads the anchor's private key (0600 required), to sign directory entries. */
export async function loadAnchorPrivateKey(path: string): Promise<PrivateJwk> {
  const data = await readJson(path, 'Anchor key file');
  await assertPrivateMode(path);
  if (!isPrivateJwk(data))
    throw new DirectoryError(
      'ERR_KEY_FILE_INVALID',
      `${path} is not a private P-256 JWK (${P256_JWK_RULE}, and d).`,
    );
  return data;
}
