import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createCommuneService } from '@passerelle/commune';
import { createConsularPostService } from '@passerelle/consular-post';
import { type Contracts, loadContracts } from '@passerelle/contracts';
import { generateStorageKeyring } from '@passerelle/directory';
import type { Door, DoorScope } from '@passerelle/door';
import { QUICK_TEST_DOOR_SETTINGS } from '@passerelle/door/testing';
import { createStaticResolver, generateParticipantKeys, publicKeysOf } from '@passerelle/envelope';
import { createLogger } from '@passerelle/exchange';
import { createImmigrationOfficeService } from '@passerelle/immigration-office';
import { createPortalLogger, createPortalService, portalDoor } from '@passerelle/portal';
import type { DocumentRef, DossierRecord } from '@passerelle/procedure';
import { createRegionalAuthorityService } from '@passerelle/regional-authority';
import { type BodyService, backOfficeDoor, createBackOffice } from '@passerelle/service-host';
import { freeLoopbackPort } from '@passerelle/testing';
import { EventSource } from 'eventsource';
import { expect } from 'vitest';
import { type DoorCaller, callerOf } from '../support/door-caller.js';

type FastifyInstance = Awaited<ReturnType<typeof createBackOffice>>;

const root = fileURLToPath(new URL('../..', import.meta.url));

export const PORTAL = 'portal-acme';
export const REGION = 'region-bruxelles';
export const OE = 'immigration-office';
export const POST = 'post-lagos';
export const COMMUNE = 'commune-21004';

/** Door settings the tests shorten: quick webhook retries to loopback, frequent heartbeats. */
export const DOOR_SETTINGS = {
  ...QUICK_TEST_DOOR_SETTINGS,
  tokenRateLimit: { max: 10_000, windowMs: 60_000 },
};

/** A fresh `Idempotency-Key`. */
export const newKey = (): string => `k-${randomBytes(8).toString('hex')}`;

/** Uploads a PDF document numbered `n` through a door's `/v1/documents`; the reference the door gives it. */
export async function uploadDocument(caller: DoorCaller, n: number): Promise<DocumentRef> {
  const res = await caller.call('POST', '/v1/documents', Buffer.from(`%PDF-1.7 document ${n} ${newKey()}`), {
    'content-type': 'application/pdf',
    'idempotency-key': newKey(),
  });
  expect(res.status, res.text).toBe(201);
  return res.json.document as DocumentRef;
}

/**
 * Files `application` through a door as a new dossier, then its fee of 358 EUR with a proof uploaded as
 * document `fee.proof`; the dossier's id.
 */
export async function fileWithFee(
  caller: DoorCaller,
  application: unknown,
  fee: { proof: number; paidOn: string; paymentReference: string },
): Promise<string> {
  const filed = await caller.call('POST', '/v1/dossiers', application, { 'idempotency-key': newKey() });
  expect(filed.status, filed.text).toBe(201);
  const dossierId = filed.json.dossierId as string;
  const paid = await caller.call(
    'POST',
    `/v1/dossiers/${dossierId}/fee-proof`,
    {
      proof: await uploadDocument(caller, fee.proof),
      amount: { amountCents: 35_800, currency: 'EUR' },
      paidOn: fee.paidOn,
      paymentReference: fee.paymentReference,
      submittedAt: new Date().toISOString(),
    },
    { 'idempotency-key': newKey() },
  );
  expect(paid.status, paid.text).toBe(202);
  return dossierId;
}

/** An SSE client of a door's `/events`, collecting the CloudEvents it receives. */
export function listenEvents(caller: DoorCaller) {
  const received: { id: string; event: { id: string; subject: string; type: string; subjectseq: number } }[] =
    [];
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const source = new EventSource(`${caller.origin}/events`, {
    fetch: (input, init) =>
      fetch(input, { ...init, headers: { ...init?.headers, authorization: `Bearer ${caller.token}` } }),
  });
  source.onopen = () => opened();
  source.onmessage = (e) => received.push({ id: e.lastEventId, event: JSON.parse(e.data as string) });
  return { source, received, open };
}

/** A body's service with its back office listening on loopback, and a client per scope set. */
export interface BackOffice {
  service: BodyService<DossierRecord>;
  app: FastifyInstance;
  door: Door;
  origin: string;
  /** A client with read, decide and admin. */
  officer: DoorCaller;
  /** A client with read only. */
  viewer: DoorCaller;
}

/** Registers a client with `scopes` on `door` and returns it calling the door at `origin`. */
export async function clientOf(
  door: Door,
  origin: string,
  id: string,
  scopes: DoorScope[],
): Promise<DoorCaller> {
  const { secret } = await door.clients.create({ id, scopes, createdBy: 'bootstrap' });
  return callerOf(origin, id, secret);
}

/** Signing, encryption and storage keys for `ids`, the directory that resolves them, and the contracts. */
export async function participantsOf(ids: string[]) {
  const keys = new Map(
    await Promise.all(ids.map(async (id) => [id, await generateParticipantKeys(id)] as const)),
  );
  const storage = new Map(ids.map((id) => [id, generateStorageKeyring(id)] as const));
  const directory = createStaticResolver([...keys.values()].map(publicKeysOf));
  const contracts = await loadContracts({ root });
  return { keys, storage, directory, contracts };
}

/** The portal on loopback for `url`, with the integrator acme-hr as its client (read, decide); added to `running`. */
export async function startPortal(
  url: string,
  { keys, storage, directory, contracts }: Awaited<ReturnType<typeof participantsOf>>,
  running: { close(): Promise<void> }[],
): Promise<World['portal']> {
  const port = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const app = await createPortalService({
    participant: PORTAL,
    keys: keys.get(PORTAL)!,
    storageKeys: storage.get(PORTAL)!,
    directory,
    contracts,
    servers: url,
    consumer: TEST_CONSUMER,
    logger: createPortalLogger({ level: 'silent' }),
    door: { secret: randomBytes(32), publicUrl: origin, ...DOOR_SETTINGS },
  });
  running.push(app);
  await app.listen({ host: '127.0.0.1', port });
  const integrator = await clientOf(portalDoor(app), origin, 'acme-hr', ['read', 'decide']);
  return { app, origin, integrator };
}

/**
 * The back office of `service` on loopback, with its clients `<prefix>-cms` (read, decide, admin) and
 * `<prefix>-viewer` (read); the back office is added to `running`.
 */
export async function startBackOffice(
  service: BodyService<DossierRecord>,
  contracts: Contracts,
  prefix: string,
  running: { close(): Promise<void> }[],
): Promise<BackOffice> {
  const port = await freeLoopbackPort();
  const origin = `http://127.0.0.1:${port}`;
  const app = await createBackOffice(service, {
    contracts,
    secret: randomBytes(32),
    publicUrl: origin,
    door: DOOR_SETTINGS,
  });
  running.push(app);
  await app.listen({ host: '127.0.0.1', port });
  const door = backOfficeDoor(app);
  return {
    service,
    app,
    door,
    origin,
    officer: await clientOf(door, origin, `${prefix}-cms`, ['read', 'decide', 'admin']),
    viewer: await clientOf(door, origin, `${prefix}-viewer`, ['read']),
  };
}

/** Consumer settings the tests shorten: quick redelivery, few attempts. */
export const TEST_CONSUMER = { ackWaitMs: 5_000, backoffMs: [200, 2_000], maxDeliver: 3 };

/** Everything the back-office scenario runs: four services without any policy, their doors, the portal. */
export interface World {
  contracts: Contracts;
  region: BackOffice;
  office: BackOffice;
  post: BackOffice;
  commune: BackOffice;
  portal: { app: FastifyInstance; origin: string; integrator: DoorCaller };
  close(): Promise<void>;
}

export async function startWorld(url: string): Promise<World> {
  const { keys, storage, directory, contracts } = await participantsOf([PORTAL, REGION, OE, POST, COMMUNE]);
  const consumer = TEST_CONSUMER;
  const hosted = (id: string, name: string) => ({
    participants: [keys.get(id)!],
    storageKeys: [storage.get(id)!],
    directory,
    contracts,
    servers: url,
    consumer,
    outboxRetryMs: 250,
    logger: createLogger(name, { level: 'silent' }),
  });
  const running: { close(): Promise<void> }[] = [];
  const backOffice = async (service: BodyService<DossierRecord>, prefix: string): Promise<BackOffice> => {
    running.push(service);
    return startBackOffice(service, contracts, prefix, running);
  };
  try {
    // no policy anywhere: every action a person takes comes through a back office, over HTTP
    const region = await backOffice(await createRegionalAuthorityService(hosted(REGION, 'region')), 'region');
    const office = await backOffice(await createImmigrationOfficeService(hosted(OE, 'office')), 'office');
    const post = await backOffice(await createConsularPostService(hosted(POST, 'post')), 'post');
    const commune = await backOffice(await createCommuneService(hosted(COMMUNE, 'commune')), 'commune');
    const portal = await startPortal(url, { keys, storage, directory, contracts }, running);
    return {
      contracts,
      region,
      office,
      post,
      commune,
      portal,
      async close() {
        // the doors before the services they read, the portal last
        for (const r of running.reverse()) await r.close().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const r of running.reverse()) await r.close().catch(() => undefined);
    throw err;
  }
}
