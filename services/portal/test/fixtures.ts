import { randomBytes } from 'node:crypto';
import { QUICK_TEST_DOOR_SETTINGS } from '@passerelle/door/testing';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Contracts, loadContracts, readExample } from '@passerelle/contracts';
import {
  type DirectoryClient,
  type StorageKeyring,
  createDirectoryClient,
  generateStorageKeyring,
  makeEntry,
} from '@passerelle/directory';
import { publishEntry, signEntry } from '@passerelle/directory/internal';
import {
  type ParticipantKeys,
  generateKey,
  generateParticipantKeys,
  toPublicJwk,
} from '@passerelle/envelope';
import type { Door, DoorScope } from '@passerelle/door';
import {
  type Exchange,
  type IncomingMessage,
  connectExchange,
  connectNats,
  createLogger,
} from '@passerelle/exchange';
import { freeLoopbackPort } from '@passerelle/testing';
import type { FastifyInstance } from 'fastify';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  type PortalConfig,
  type PortalDoorSettings,
  createPortalLogger,
  createPortalService,
  portalDoor,
} from '../src/index.js';

/** The portal under test and the bodies it files with, as the portal tests name them. */
export const PORTAL = 'portal-wib';
export const REGION = 'region-bruxelles';
export const OE = 'immigration-office';
/** The applicant's family name in the example applications: personal data events, lists and logs must not carry. */
export const FAMILY_NAME = 'Moreau-Okafor';

/** A real anchor, real keys for each participant, a published and signed directory, and the contracts. */
export interface World {
  nc: NatsConnection;
  keys: Map<string, ParticipantKeys>;
  /** Each participant's storage keyring. */
  storage: Map<string, StorageKeyring>;
  directory: DirectoryClient;
  contracts: Contracts;
  /** Connects `participant`'s exchange to the world's server, logging nothing. */
  exchange(participant: string): Promise<Exchange>;
  close(): Promise<void>;
}

export async function makeWorld(url: string, ids: readonly string[]): Promise<World> {
  const nc = await connectNats({ servers: url, name: 'portal-test' });
  const anchor = await generateKey('sig', { kidPrefix: 'anchor' });
  const keys = new Map<string, ParticipantKeys>();
  const storage = new Map(ids.map((id) => [id, generateStorageKeyring(id)] as const));
  let revision = 0;
  for (const id of ids) {
    const k = await generateParticipantKeys(id);
    keys.set(id, k);
    const entry = makeEntry(id, `Test ${id}`, [toPublicJwk(k.signing)], k.encryption.map(toPublicJwk));
    revision = await publishEntry(nc, await signEntry(entry, anchor));
  }
  const directory = await createDirectoryClient({ nc, anchor: toPublicJwk(anchor) });
  await directory.waitForRevision(revision, 10_000);
  const contracts = await loadContracts();
  return {
    nc,
    keys,
    storage,
    directory,
    contracts,
    exchange: (participant) =>
      connectExchange({
        participant,
        keys: keys.get(participant)!,
        directory,
        contracts,
        servers: url,
        logger: createLogger(participant, { level: 'silent' }),
      }),
    close: async () => {
      await directory.close();
      await nc.close();
    },
  };
}

/** A writable that keeps everything written (pino destination), to inspect log output. */
export function captureStream(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** How long a test waits for what crosses the exchange (`vi.waitUntil` options). */
export const SETTLE = { timeout: 15_000, interval: 50 } as const;

/** A portal under test: the app (listening on loopback unless told not to), its door and its URL. */
export interface TestPortal {
  app: FastifyInstance;
  door: Door;
  /** The door's secret (tests open its stores beside the portal). */
  secret: Buffer;
  port: number;
  origin: string;
}

/**
 * Creates a portal of `participant` in `world` with a fresh door secret, its public URL on the loopback
 * port it listens on, webhooks allowed to loopback over http, and a token rate limit no test reaches.
 */
export async function startPortal(
  world: World,
  url: string,
  participant: string,
  overrides: Partial<Omit<PortalConfig, 'door'>> & {
    listen?: boolean;
    door?: Partial<PortalDoorSettings>;
  } = {},
): Promise<TestPortal> {
  const { listen = true, door: doorOverrides, ...rest } = overrides;
  const port = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const secret = randomBytes(32);
  const app = await createPortalService({
    participant,
    keys: world.keys.get(participant)!,
    storageKeys: world.storage.get(participant)!,
    directory: world.directory,
    contracts: world.contracts,
    servers: url,
    logger: createPortalLogger({ level: 'silent' }),
    ...rest,
    door: {
      secret,
      publicUrl: origin,
      tokenRateLimit: { max: 10_000, windowMs: 60_000 },
      ...QUICK_TEST_DOOR_SETTINGS,
      heartbeatMs: 500,
      ...doorOverrides,
    },
  });
  if (listen) await app.listen({ host: '127.0.0.1', port });
  return { app, door: portalDoor(app), secret, port, origin };
}

/** An integrator of a portal: a door client with its scopes, its secret and a token. */
export interface TestIntegrator {
  id: string;
  secret: string;
  token: string;
  /** `authorization: Bearer <token>`. */
  auth: { authorization: string };
}

/**
 * Creates a door client of the portal (or gives it a new secret) and issues it a token, through the door
 * rather than the token endpoint.
 */
export async function integrator(
  portal: { door: Door },
  id: string,
  scopes: DoorScope[] = ['read', 'decide'],
): Promise<TestIntegrator> {
  // a client of the same id made by an earlier test of the same door gets a new secret
  const { secret } = (await portal.door.clients.get(id))
    ? await portal.door.clients.rotateSecret(id)
    : await portal.door.clients.create({ id, scopes, createdBy: 'bootstrap' });
  const { token } = await portal.door.access.issueToken(id, secret, undefined);
  return { id, secret, token, auth: { authorization: `Bearer ${token}` } };
}

/** A fresh `Idempotency-Key`. */
export const newKey = (): string => `k-${randomBytes(8).toString('hex')}`;

/** An example payload of the exchange's schemas. */
export function example(type: string, name: string): Record<string, unknown> {
  return readExample(fileURLToPath(new URL('../../..', import.meta.url)), type, name) as Record<
    string,
    unknown
  >;
}

/** An HTTP answer: status, headers and the JSON body. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers member by member
  json: any;
  text: string;
}

/** An integrator's system calling a listening portal over HTTP (fetch), as it would. */
export function portalClient(origin: string, who: TestIntegrator) {
  const call = async (
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> => {
    const res = await fetch(path.startsWith('http') ? path : `${origin}${path}`, {
      method,
      headers: { ...who.auth, ...headers },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  };
  const upload = async (): Promise<Record<string, unknown>> => {
    const res = await call('POST', '/v1/documents', Buffer.from(`%PDF-1.7 ${newKey()}`), {
      'content-type': 'application/pdf',
      'idempotency-key': newKey(),
    });
    if (res.status !== 201) throw new Error(`upload refused: ${res.status} ${res.text}`);
    return res.json.document as Record<string, unknown>;
  };
  return {
    call,
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown) =>
      call('POST', path, JSON.stringify(body), {
        'content-type': 'application/json',
        'idempotency-key': newKey(),
      }),
    upload,
    /** An example application whose every document slot names a fresh upload of this integrator. */
    async application(
      name = 'valid-ict-first-application',
      changes: Record<string, unknown> = {},
    ): Promise<Record<string, unknown>> {
      const body = { ...example('application-submitted', name), ...changes };
      const documents = body['documents'] as Record<string, unknown>;
      for (const [slot, value] of Object.entries(documents)) {
        if (slot === 'healthInsurance') documents[slot] = { ...(value as object), document: await upload() };
        else if (slot === 'other') documents[slot] = [await upload()];
        else documents[slot] = await upload();
      }
      return body;
    },
  };
}

/** An integrator's HTTP client, as {@link portalClient} makes it. */
export type PortalClient = ReturnType<typeof portalClient>;

/** A portal started for a `describe` by {@link usePortal}, with the world and the NATS server it runs on. */
export interface RunningPortal {
  /** The NATS server's URL. */
  url: string;
  world: World;
  portal: TestPortal;
  app: FastifyInstance;
}

/**
 * An object whose members are read from what `current()` gives, so that a hook can hand it out before its
 * beforeAll ran; reading a member before then throws rather than giving `undefined`.
 */
function readyLater<T extends object>(hook: string, current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_target, member) {
      const value = current();
      if (!value) throw new Error(`${hook}: ${String(member)} is read before beforeAll ran`);
      return value[member as keyof T];
    },
  });
}

/**
 * For the enclosing `describe`: a nats-server, a world of `ids` and a portal of `ids[0]` in it
 * ({@link startPortal} with `options`), started before its tests and closed after them.
 */
export function usePortal(
  ids: readonly [string, ...string[]],
  options: Parameters<typeof startPortal>[3] = {},
): RunningPortal {
  const nats = useNatsServer();
  let world: World | undefined;
  let portal: TestPortal | undefined;
  beforeAll(async () => {
    world = await makeWorld(nats.url, ids);
    portal = await startPortal(world, nats.url, ids[0], options);
  });
  afterAll(async () => {
    await portal?.app.close();
    await world?.close();
  });
  return readyLater(
    'usePortal()',
    () => world && portal && { url: nats.url, world, portal, app: portal.app },
  );
}

/** What {@link useFilingPortal} gives. */
export type FilingPortal = Awaited<ReturnType<typeof startFiling>>;

/**
 * For the enclosing `describe`, as {@link usePortal} does: a listening portal of {@link PORTAL} with two
 * integrators, acme-hr and beta-payroll, filing with the region and the Immigration Office, whose exchanges
 * keep each application they receive by dossier.
 */
export function useFilingPortal(): FilingPortal {
  const running = usePortal([PORTAL, REGION, OE]);
  let filing: FilingPortal | undefined;
  beforeAll(async () => {
    filing = await startFiling(running);
  });
  afterAll(async () => {
    await filing?.region.close();
    await filing?.oe.close();
  });
  return readyLater('useFilingPortal()', () => filing);
}

/** The integrators and the bodies' exchanges of {@link useFilingPortal}, beside its running portal. */
async function startFiling({ url, world, portal, app }: RunningPortal) {
  const acmeWho = await integrator(portal, 'acme-hr');
  const betaWho = await integrator(portal, 'beta-payroll');
  const region = await world.exchange(REGION);
  const oe = await world.exchange(OE);
  const atRegion = new Map<string, IncomingMessage>();
  const atOe = new Map<string, IncomingMessage>();
  region.subscribe({ 'application-submitted': async (m) => void atRegion.set(m.meta.dossierId, m) });
  oe.subscribe({ 'application-submitted': async (m) => void atOe.set(m.meta.dossierId, m) });
  return {
    url,
    world,
    portal,
    app,
    acmeWho,
    betaWho,
    acme: portalClient(portal.origin, acmeWho),
    beta: portalClient(portal.origin, betaWho),
    region,
    oe,
    atRegion,
    atOe,
    /** Files an application made by `client.application(name, changes)`: the new dossier's id. */
    file: async (client: PortalClient, name?: string, changes?: Record<string, unknown>): Promise<string> => {
      const res = await client.post('/v1/dossiers', await client.application(name, changes));
      expect(res.status, res.text).toBe(201);
      return res.json.dossierId as string;
    },
  };
}
