/**
 * The local deployment both launchers run (`pnpm start`, `pnpm start --secure`): who takes part, which
 * service hosts whom, their keys under `<home>/keys`, the anchor-signed directory, and the services.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { Contracts } from '@passerelle/contracts';
import {
  ANCHOR_FILES,
  type DirectoryClient,
  KEY_FILES,
  loadAnchorPrivateKey,
  loadParticipantKeys,
  makeEntry,
  participantKind,
  publishEntry,
  signEntry,
  writeAnchor,
  writeParticipantKeys,
} from '@passerelle/directory';
import { type ParticipantKeys, generateParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import type { createLogger } from '@passerelle/exchange';
import { hashToken } from '../services/portal/src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The participants of the local deployment (infra/participants.json lists the same ones). */
export const PORTAL = 'portal-employers';
export const HOSTED: Readonly<Record<string, readonly string[]>> = {
  'regional-authority': ['region-vlaanderen', 'region-wallonie', 'region-bruxelles', 'region-dg'],
  'immigration-office': ['immigration-office'],
  'consular-post': ['post-ankara', 'post-kinshasa'],
  commune: ['commune-21004', 'commune-62063'],
};
/** A post in the directory that no local service hosts: the demo sends an out-of-sequence visa from it. */
export const STRAY_POST = 'post-lagos';
export const PARTICIPANTS = [...Object.values(HOSTED).flat(), PORTAL, 'auditor', STRAY_POST];

/** The administrations' services: package folder and factory, loaded when the folder is there. */
export const SERVICES = [
  { name: 'regional-authority', factory: 'createRegionalAuthorityService' },
  { name: 'immigration-office', factory: 'createImmigrationOfficeService' },
  { name: 'consular-post', factory: 'createConsularPostService' },
  { name: 'commune', factory: 'createCommuneService' },
] as const;

export interface Closable {
  close(): Promise<void>;
}

export interface ServiceEventLike {
  service: string;
  participant: string;
  kind: string;
  code?: string;
  type?: string;
  detail?: string;
}

export type ServiceFactory = (config: {
  participants: ParticipantKeys[];
  directory: DirectoryClient;
  contracts: Contracts;
  servers: string;
  /** On a secured server: each hosted id's connection settings (its credentials file). */
  connectionFor?: (participant: string) => Omit<ConnectionOptions, 'servers'> | undefined;
  provision?: boolean;
  logger: ReturnType<typeof createLogger>;
  onEvent: (e: ServiceEventLike) => void;
}) => Promise<Closable>;

/** Imports a service package by its folder, so the launcher runs with whichever services exist yet. */
export async function loadExport<T>(service: string, name: string): Promise<T | undefined> {
  const entry = join(root, 'services', service, 'src', 'index.ts');
  if (!existsSync(entry)) return undefined;
  const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  return typeof mod[name] === 'function' ? (mod[name] as T) : undefined;
}

/** First start: the trust anchor and each participant's keys; afterwards, only missing ones. */
export async function ensureKeys(keysDir: string): Promise<{ generated: string[] }> {
  const generated: string[] = [];
  if (!existsSync(join(keysDir, ANCHOR_FILES.private))) {
    await writeAnchor(keysDir);
    generated.push('anchor');
  }
  for (const id of PARTICIPANTS) {
    if (existsSync(join(keysDir, id, KEY_FILES.private))) continue;
    await writeParticipantKeys(join(keysDir, id), await generateParticipantKeys(id));
    generated.push(id);
  }
  return { generated };
}

/** Publishes every participant's entry, signed by the anchor, to the directory bucket. */
export async function publishDirectory(
  nc: NatsConnection,
  keysDir: string,
): Promise<{ keys: Map<string, ParticipantKeys>; revision: number }> {
  const anchor = await loadAnchorPrivateKey(join(keysDir, ANCHOR_FILES.private));
  const keys = new Map<string, ParticipantKeys>();
  let revision = 0;
  for (const id of PARTICIPANTS) {
    const k = await loadParticipantKeys(join(keysDir, id));
    keys.set(id, k);
    const entry = makeEntry(
      id,
      `Local ${participantKind(id)} ${id}`,
      [toPublicJwk(k.signing)],
      k.encryption.map(toPublicJwk),
    );
    revision = await publishEntry(nc, await signEntry(entry, anchor));
  }
  return { keys, revision };
}

/** The demo integrator's token: generated once, kept 0600; the portal's configuration holds only its hash. */
export async function ensurePortalToken(home: string): Promise<string> {
  const path = join(home, 'portal-token');
  if (!existsSync(path)) {
    await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  await chmod(path, 0o600);
  const token = (await readFile(path, 'utf8')).trim();
  await writeFile(
    join(home, 'portal-integrators.json'),
    JSON.stringify([{ name: 'demo-employer', tokenSha256: hashToken(token) }], null, 2) + '\n',
  );
  return token;
}

/** Closes `what`, giving up after `ms`. */
export async function closeWithin(what: Closable | undefined, ms: number): Promise<void> {
  if (!what) return;
  await Promise.race([what.close().catch(() => undefined), new Promise((r) => setTimeout(r, ms))]);
}
