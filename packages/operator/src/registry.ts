import { existsSync } from 'node:fs';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import type { ParticipantKind } from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';

/** A NATS user the operator issued to a participant. */
export interface IssuedUser {
  /** Public key (`U…`). */
  key: string;
  issuedAt: string;
  /** When its user JWT expires. */
  expiresAt: string;
  /** Set once the user is revoked (a rotation finished, or the participant revoked). */
  revokedAt?: string;
}

/** A message key the directory holds for a participant, as the operator last published it. */
export interface PublishedKey {
  kid: string;
  use: 'sig' | 'enc';
  notAfter?: string;
}

/** What the registry lists of published keys: their ids, uses and ends, never the keys themselves. */
export function publishedKeys(
  signing: readonly { kid: string; notAfter?: string }[],
  encryption: readonly { kid: string; notAfter?: string }[],
): PublishedKey[] {
  const listed = (use: PublishedKey['use']) => (k: { kid: string; notAfter?: string }) => ({
    kid: k.kid,
    use,
    ...(k.notAfter ? { notAfter: k.notAfter } : {}),
  });
  return [...signing.map(listed('sig')), ...encryption.map(listed('enc'))];
}

/** One participant the operator onboarded with the lifecycle (`participants approve`). */
export interface RegistryEntry {
  kind: ParticipantKind;
  name: string;
  state: 'active' | 'revoked';
  approvedAt: string;
  revokedAt?: string;
  /** Every user issued, the newest last. */
  users: IssuedUser[];
  keys: PublishedKey[];
  /** The version of its directory entry the operator last signed. */
  directoryVersion: number;
}

/** The operator's registry: the participants onboarded after the deployment file, and their state. */
export interface Registry {
  participants: Record<string, RegistryEntry>;
}

/** Reads the registry (`registry.json` in the operator's folder); an empty one when there is none yet. */
export async function readRegistry(file: string): Promise<Registry> {
  if (!existsSync(file)) return { participants: {} };
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Registry;
    if (typeof parsed.participants !== 'object' || parsed.participants === null)
      throw new Error('no participants');
    return parsed;
  } catch (cause) {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${file}: not an operator registry.`, {
      details: { file },
      cause,
    });
  }
}

/** Writes the registry whole (write then rename: a crash leaves the old one or the new one). */
export async function writeRegistry(file: string, registry: Registry): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(registry, null, 2) + '\n', { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, file);
}
