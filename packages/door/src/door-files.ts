import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import type { Door } from './door.js';
import { DoorError } from './door-error.js';
import type { DoorScope } from './scopes.js';

/**
 * Reads the door's secret from its file: base64url of at least 32 random bytes (what
 * {@link ensureDoorSecret} writes). It stays outside NATS: whoever holds it and can write the door's
 * buckets could plant a client.
 */
export async function readDoorSecret(file: string): Promise<Buffer> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (cause) {
    throw new DoorError('ERR_CONFIG_INVALID', `The door secret file ${file} cannot be read.`, {
      details: { setting: 'door.secret', file },
      cause,
    });
  }
  const secret = Buffer.from(text, 'base64url');
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text) || secret.byteLength < 32) {
    throw new DoorError(
      'ERR_CONFIG_INVALID',
      `The door secret file ${file} must hold base64url of at least 32 random bytes.`,
      { details: { setting: 'door.secret', file } },
    );
  }
  return secret;
}

/** Creates the door's secret file (mode 0600, 32 random bytes) unless it exists; returns the secret. */
export async function ensureDoorSecret(file: string): Promise<Buffer> {
  if (!existsSync(file)) {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  await chmod(file, 0o600);
  return readDoorSecret(file);
}

/** What a calling system needs to get tokens from a door: the file {@link ensureDoorClient} writes. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  /** `POST` here with HTTP Basic (id, secret) and `grant_type=client_credentials`. */
  tokenUrl: string;
  scopes: DoorScope[];
}

/**
 * Makes sure the door has the client `id` and that `file` (mode 0600) holds credentials that work: kept
 * when they do, else the client is created, or given a new secret if it exists (its dossiers stay its own).
 * For set-up scripts (`pnpm start`'s demo clients, a deployment's first admin client).
 *
 * @example
 * ```ts
 * const creds = await ensureDoorClient(door, '.passerelle/portal-client.json', {
 *   id: 'demo-employer', scopes: ['read', 'decide'],
 * });
 * ```
 */
export async function ensureDoorClient(
  door: Door,
  file: string,
  client: { id: string; scopes: DoorScope[] },
): Promise<ClientCredentials> {
  const tokenUrl = `${door.options.publicUrl.replace(/\/+$/, '')}/oauth2/token`;
  let kept: ClientCredentials | undefined;
  try {
    kept = JSON.parse(await readFile(file, 'utf8')) as ClientCredentials;
  } catch {
    kept = undefined;
  }
  if (kept?.clientId === client.id && typeof kept.clientSecret === 'string') {
    const works = await door.clients.authenticate(client.id, kept.clientSecret).then(
      (info) => client.scopes.every((s) => info.scopes.includes(s)),
      () => false,
    );
    if (works) {
      const current = { ...kept, tokenUrl };
      if (kept.tokenUrl !== tokenUrl) await writeCredentials(file, current);
      return current;
    }
  }
  const existing = await door.clients.get(client.id);
  const { secret } =
    existing && !existing.revokedAt
      ? await door.clients.rotateSecret(client.id)
      : await door.clients.create({ id: client.id, scopes: client.scopes, createdBy: 'bootstrap' });
  const created: ClientCredentials = {
    clientId: client.id,
    clientSecret: secret,
    tokenUrl,
    scopes: existing?.scopes ?? client.scopes,
  };
  await writeCredentials(file, created);
  return created;
}

async function writeCredentials(file: string, credentials: ClientCredentials): Promise<void> {
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
