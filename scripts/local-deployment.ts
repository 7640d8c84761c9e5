/**
 * The local deployment both launchers run (`pnpm start`, `pnpm start --secure`): who takes part, which
 * service hosts whom, their keys under `<home>/keys`, the anchor-signed directory, and the services.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { Contracts } from '@passerelle/contracts';
import {
  ANCHOR_FILES,
  type DirectoryClient,
  KEY_FILES,
  type StorageKeyring,
  ensureStorageKeys,
  loadAnchorPrivateKey,
  loadParticipantKeys,
  loadStorageKeys,
  makeEntry,
  participantKind,
  publishNextEntry,
  writeAnchor,
  writeParticipantKeys,
} from '@passerelle/directory';
import { type ParticipantKeys, generateParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import { type AccountSettings, createLogger } from '@passerelle/exchange';
import {
  type BodyService,
  DEFAULT_SCAN_INTERVAL_MS,
  type DeadlineScanned,
  backOfficeDoor,
  createBackOffice,
  scheduleDeadlineScans,
} from '@passerelle/service-host';
import {
  type ClientCredentials,
  createPortalLogger,
  createPortalService,
  ensureDoorClient,
  ensureDoorSecret,
  portalDoor,
} from '../services/portal/src/index.js';
import { startAuditor } from './start-auditor.js';

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

/**
 * The administrations' services: package folder, factory and, openly, the automatic policy the local
 * deployment gives it (what a case officer decides otherwise: the work authorisation, residence, the
 * visa), loaded when the folder is there. The communes have none: the demo takes their desk actions.
 */
export const SERVICES: readonly { name: string; factory: string; policy?: string; port: number }[] = [
  {
    name: 'regional-authority',
    factory: 'createRegionalAuthorityService',
    policy: 'automaticRegionPolicy',
    port: 8101,
  },
  {
    name: 'immigration-office',
    factory: 'createImmigrationOfficeService',
    policy: 'automaticOfficePolicy',
    port: 8102,
  },
  { name: 'consular-post', factory: 'createConsularPostService', policy: 'automaticPostPolicy', port: 8103 },
  { name: 'commune', factory: 'createCommuneService', port: 8104 },
];

/** The demo's case-management system: a client of every back office, reading and acting, managing webhooks. */
export const DEMO_BACK_OFFICE_CLIENT = {
  id: 'demo-case-system',
  scopes: ['read', 'decide', 'admin'],
} as const;

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
  storageKeys: StorageKeyring[];
  directory: DirectoryClient;
  contracts: Contracts;
  servers: string;
  /** On a secured server: each hosted id's connection settings (its credentials file). */
  connectionFor?: (participant: string) => Omit<ConnectionOptions, 'servers'> | undefined;
  /** On a secured server: how each hosted id's own account reaches the shared streams and others' stores. */
  accountsFor?: (participant: string) => AccountSettings | undefined;
  provision?: boolean;
  logger: ReturnType<typeof createLogger>;
  onEvent: (e: ServiceEventLike) => void;
  /** Automatic decisions, by action name. */
  policy?: Readonly<Record<string, unknown>>;
}) => Promise<Closable>;

/** An automatic policy's decision for one action. */
type Decide = (input: { dossierId: string }) => unknown;

/** Imports a service package's export by its folder, so the launcher runs with whichever services exist yet. */
async function loadMember(service: string, name: string): Promise<unknown> {
  const entry = join(root, 'services', service, 'src', 'index.ts');
  if (!existsSync(entry)) return undefined;
  const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  return mod[name];
}

/** A function a service package exports, or undefined when the package (or the export) is not there. */
export async function loadExport<T>(service: string, name: string): Promise<T | undefined> {
  const member = await loadMember(service, name);
  return typeof member === 'function' ? (member as T) : undefined;
}

/**
 * First start: the trust anchor and each participant's keys (signing, encryption and storage); afterwards,
 * only missing ones (a key folder of an earlier release gets its storage keyring).
 */
export async function ensureKeys(keysDir: string): Promise<{ generated: string[] }> {
  const generated: string[] = [];
  if (!existsSync(join(keysDir, ANCHOR_FILES.private))) {
    await writeAnchor(keysDir);
    generated.push('anchor');
  }
  for (const id of PARTICIPANTS) {
    if (existsSync(join(keysDir, id, KEY_FILES.private))) {
      if ((await ensureStorageKeys(join(keysDir, id), id)).created) generated.push(`${id} (storage)`);
      continue;
    }
    await writeParticipantKeys(join(keysDir, id), await generateParticipantKeys(id));
    generated.push(id);
  }
  return { generated };
}

/** Each participant's storage keyring, from its key folder. */
export async function loadStorageKeyrings(keysDir: string): Promise<Map<string, StorageKeyring>> {
  const rings = new Map<string, StorageKeyring>();
  for (const id of PARTICIPANTS) rings.set(id, await loadStorageKeys(join(keysDir, id), id));
  return rings;
}

/**
 * Publishes every participant's entry, signed by the anchor under its next version, to the directory
 * bucket; returns the last KV revision written.
 */
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
    ({ revision } = await publishNextEntry(nc, entry, anchor));
  }
  return { keys, revision };
}

/** The demo integrator: a client of the portal's door that may read and act on its own dossiers. */
export const DEMO_INTEGRATOR = { id: 'demo-employer', scopes: ['read', 'decide'] } as const;

/** A free TCP port on loopback, for a portal whose public URL must be known before it listens. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Closes `what`, giving up after `ms`. */
export async function closeWithin(what: Closable | undefined, ms: number): Promise<void> {
  if (!what) return;
  await Promise.race([what.close().catch(() => undefined), new Promise((r) => setTimeout(r, ms))]);
}

/** How a launcher stops on a signal: once, whatever signals follow. */
export interface LauncherStop {
  /** Set once a stop began: the demo and the start-up stop reporting. */
  readonly stopping: boolean;
  stop(why: string): Promise<void>;
}

/**
 * Stops a launcher on SIGINT or SIGTERM: the demo is aborted, then everything in `running` closes at
 * once (each waits for its handlers in flight) but the directory, its first, which closes last; then
 * `last` (the server), and the process exits.
 */
export function stopOnSignals(
  running: Closable[],
  demoAbort: AbortController,
  last: () => Promise<void>,
): LauncherStop {
  const state = {
    stopping: false,
    async stop(why: string): Promise<void> {
      if (state.stopping) return;
      state.stopping = true;
      demoAbort.abort();
      console.log(`\nstopping (${why})…`);
      const [directory, ...others] = running;
      await Promise.all(others.map((r) => closeWithin(r, 5_000)));
      await closeWithin(directory, 2_000);
      await last();
      console.log('stopped');
      process.exit(0);
    },
  };
  process.on('SIGINT', () => void state.stop('SIGINT'));
  process.on('SIGTERM', () => void state.stop('SIGTERM'));
  return state;
}

/** What {@link startStack} needs: where the exchange is, who is who, and how each participant connects. */
export interface StackOptions {
  home: string;
  servers: string;
  keys: ReadonlyMap<string, ParticipantKeys>;
  /** Each participant's storage keyring ({@link loadStorageKeyrings}). */
  storageKeys: ReadonlyMap<string, StorageKeyring>;
  directory: DirectoryClient;
  contracts: Contracts;
  logLevel: string;
  /** Viewer port of the auditor when PASSERELLE_AUDITOR_PORT is not set (0: any free one). */
  auditorPort: number;
  portalPort: number;
  /** Back offices on their default ports (8101 to 8104), or on free ones (false). */
  backOfficeDefaultPorts: boolean;
  /** On a secured server: each participant's connection settings; everyone then runs with `provision: false`. */
  connectionFor?: (participant: string) => Omit<ConnectionOptions, 'servers'> | undefined;
  /** On a secured server: each participant's account settings (its credentials file). */
  accountsFor?: (participant: string) => AccountSettings | undefined;
  /** What started so far, in order, for the launcher to close (filled as they start, failure or not). */
  running: Closable[];
  /** Where service events are printed (rejections, deadlines). */
  print: (line: string) => void;
  /** Time between two deadline scans of each service (default 60 s, as a service alone; 0: none). */
  scanIntervalMs?: number;
}

/** A back office of the stack: where it listens and the demo system's credentials there. */
export interface BackOfficeEndpoint {
  url: string;
  participants: readonly string[];
  /** The demo case-management system's client credentials (also in `credentialsFile`, 0600). */
  client: ClientCredentials;
  credentialsFile: string;
}

/** The running stack: the services by name, those missing from this checkout, the auditor, the portal. */
export interface Stack {
  /** The back offices by service name (none on a secured exchange). */
  backOffices: Record<string, BackOfficeEndpoint>;
  /**
   * The dossiers the automatic policies leave to case officers (the demo drives them through the back
   * offices): the policies decide every other one.
   */
  byHand: Set<string>;
  services: Record<string, Closable>;
  /** The actions each service decides automatically, by its policy (`service: action, …`). */
  automatic: string[];
  /** The services whose deadlines are scanned (as each runs alone), and how often. */
  scans: { services: string[]; intervalMs: number };
  missing: string[];
  auditorViewerUrl: string;
  auditorTokenFile: string;
  portalUrl: string;
  /** The demo integrator's client credentials (also in `<home>/portal-client.json`, 0600). */
  client: ClientCredentials;
}

/** Starts the administrations' services, the auditor and the portal, each hosted id on its own connection. */
export async function startStack(o: StackOptions): Promise<Stack> {
  const secured = o.connectionFor
    ? {
        connectionFor: o.connectionFor,
        ...(o.accountsFor ? { accountsFor: o.accountsFor } : {}),
        provision: false as const,
      }
    : ({} as Record<string, never>);
  // every party seals payloads under each dossier's key (passerelle dossier erase); the secured accounts
  // have no share of the dossier-key bucket yet
  const dossierKeys = o.connectionFor ? {} : { dossierKeys: true as const };
  const services: Record<string, Closable> = {};
  const missing: string[] = [];
  const automatic: string[] = [];
  const backOffices: Record<string, BackOfficeEndpoint> = {};
  const byHand = new Set<string>();
  const scanned: string[] = [];
  const intervalMs = o.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS;
  for (const { name, factory, policy: policyName, port: defaultPort } of SERVICES) {
    const create = await loadExport<ServiceFactory>(name, factory);
    if (!create) {
      missing.push(name);
      continue;
    }
    const automaticPolicy = policyName
      ? ((await loadMember(name, policyName)) as Record<string, Decide> | undefined)
      : undefined;
    // every dossier but those handed to case officers
    const policy = automaticPolicy
      ? Object.fromEntries(
          Object.entries(automaticPolicy).map(([action, decide]) => [
            action,
            (input: { dossierId: string }) => (byHand.has(input.dossierId) ? undefined : decide(input)),
          ]),
        )
      : undefined;
    if (policy) automatic.push(`${name}: ${Object.keys(policy).join(', ')}`);
    const service = await create({
      ...(policy ? { policy } : {}),
      participants: (HOSTED[name] ?? []).map((id) => o.keys.get(id)!),
      storageKeys: (HOSTED[name] ?? []).map((id) => o.storageKeys.get(id)!),
      directory: o.directory,
      contracts: o.contracts,
      servers: o.servers,
      ...secured,
      ...dossierKeys,
      logger: createLogger(name, { level: o.logLevel }),
      onEvent: (e) => {
        if (e.kind === 'rejected') {
          o.print(
            `  ! ${e.participant} rejected ${e.type ?? 'a message'}: ${e.code ?? '?'} ${e.detail ?? ''}`,
          );
        } else if (e.kind === 'deadline') {
          o.print(`  ! ${e.participant} deadline: ${e.type ?? ''} ${e.detail ?? ''}`);
        }
      },
    });
    services[name] = service;
    o.running.push(service);
    // the deadline scans each service runs alone (`runServiceMain`), by the same code
    const scans = scheduleDeadlineScans(service as DeadlineScanned, {
      intervalMs,
      logger: createLogger(name, { level: o.logLevel }),
    });
    if (scans) {
      o.running.push(scans);
      scanned.push(name);
    }
    // its back office (on a secured exchange the doors' streams are not provisioned: none)
    if (!o.connectionFor) {
      const port = o.backOfficeDefaultPorts ? defaultPort : await freePort();
      const url = `http://127.0.0.1:${port}`;
      const app = await createBackOffice(service as unknown as BodyService<never>, {
        contracts: o.contracts,
        secret: await ensureDoorSecret(join(o.home, 'keys', `backoffice-${name}.secret`)),
        publicUrl: url,
        logger: createLogger(`${name}-back-office`, { level: o.logLevel }),
      });
      o.running.push(app);
      const credentialsFile = join(o.home, `backoffice-${name}-client.json`);
      const client = await ensureDoorClient(backOfficeDoor(app), credentialsFile, {
        id: DEMO_BACK_OFFICE_CLIENT.id,
        scopes: [...DEMO_BACK_OFFICE_CLIENT.scopes],
      });
      await app.listen({ host: '127.0.0.1', port });
      backOffices[name] = { url, participants: HOSTED[name] ?? [], client, credentialsFile };
    }
  }
  const auditorConnection = o.connectionFor?.('auditor');
  const auditor = await startAuditor({
    home: o.home,
    servers: o.servers,
    signingKey: o.keys.get('auditor')!.signing,
    directory: o.directory,
    defaultPort: o.auditorPort,
    logLevel: o.logLevel,
    ...(auditorConnection ? { connection: auditorConnection, provision: false } : {}),
  });
  o.running.push(auditor);
  const portalConnection = o.connectionFor?.(PORTAL);
  const portalPort = o.portalPort === 0 ? await freePort() : o.portalPort;
  const portal = await createPortalService({
    participant: PORTAL,
    keys: o.keys.get(PORTAL)!,
    storageKeys: o.storageKeys.get(PORTAL)!,
    directory: o.directory,
    contracts: o.contracts,
    servers: o.servers,
    ...(portalConnection ? { connection: portalConnection, provision: false } : {}),
    ...dossierKeys,
    ...(o.accountsFor?.(PORTAL) ? { exchangeApiPrefix: o.accountsFor(PORTAL)!.exchangeApiPrefix } : {}),
    // the door's secret beside the portal's keys (0600), made on first start
    door: {
      secret: await ensureDoorSecret(join(o.home, 'keys', PORTAL, 'door.secret')),
      publicUrl: `http://127.0.0.1:${portalPort}`,
    },
    logger: createPortalLogger({ level: o.logLevel }),
  });
  o.running.push(portal);
  // the integrator's credentials, made on first start (or given a new secret if the file was lost); the
  // bearer tokens of earlier releases are gone
  const client = await ensureDoorClient(portalDoor(portal), join(o.home, 'portal-client.json'), {
    id: DEMO_INTEGRATOR.id,
    scopes: [...DEMO_INTEGRATOR.scopes],
  });
  await rm(join(o.home, 'portal-token'), { force: true });
  await rm(join(o.home, 'portal-integrators.json'), { force: true });
  const portalUrl = await portal.listen({ host: '127.0.0.1', port: portalPort });
  return {
    backOffices,
    byHand,
    services,
    automatic,
    scans: { services: scanned, intervalMs },
    missing,
    auditorViewerUrl: auditor.viewerUrl,
    auditorTokenFile: auditor.tokenFile,
    portalUrl,
    client,
  };
}

/** One line naming each running service and the ids it hosts. */
export function servicesLine(services: Record<string, Closable>): string {
  const names = Object.keys(services);
  return names.length ? names.map((s) => `${s} (${(HOSTED[s] ?? []).join(', ')})`).join('; ') : 'none';
}

/**
 * Every door of the stack, as `endpoints.json` in the state folder lists it: each URL, its OpenAPI
 * document, its token endpoint and where its client credentials are (files of mode 0600; never the
 * secrets themselves).
 */
export function endpointsOf(natsUrl: string, stack: Stack, portalCredentialsFile: string): unknown {
  const door = (url: string, credentials: string) => ({
    url,
    openapi: `${url}/openapi.json`,
    tokenUrl: `${url}/oauth2/token`,
    events: `${url}/events`,
    credentials,
  });
  return {
    nats: natsUrl,
    portal: { participant: PORTAL, ...door(stack.portalUrl, portalCredentialsFile) },
    backOffices: Object.fromEntries(
      Object.entries(stack.backOffices).map(([name, bo]) => [
        name,
        { participants: bo.participants, ...door(bo.url, bo.credentialsFile) },
      ]),
    ),
    auditor: { viewer: stack.auditorViewerUrl, token: stack.auditorTokenFile },
  };
}
