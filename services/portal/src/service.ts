import type { NatsConnection } from '@nats-io/transport-node';
import { payloadRetentionMs } from '@passerelle/contracts';
import { DocumentStore } from '@passerelle/documents';
import {
  Door,
  type EventReadPolicy,
  doorServerOptions,
  idempotencyPlugin,
  provisionDoor,
  registerDoorOpenApi,
} from '@passerelle/door';
import {
  DossierKeys,
  type Exchange,
  type Logger,
  type OperationsProbes,
  type Readiness,
  type Subscription,
  connectExchange,
  connectNats,
  errorSummary,
} from '@passerelle/exchange';
import { type FastifyBaseLogger, type FastifyInstance, fastify } from 'fastify';
import {
  DossierRecordCipher,
  RECORD_PURPOSES,
  type RecordStore,
  StateCipher,
} from '@passerelle/service-host';
import { addApiSchemas } from './api-schemas.js';
import { DEFAULT_MAX_DOCUMENT_BYTES, type PortalConfig, assertPortalConfig } from './config.js';
import { DossierIndex } from './dossier-index.js';
import { DossierStore, keptOfRecord } from './dossier-store.js';
import { createPortalLogger } from './logger.js';
import { MessageBodies } from './message-bodies.js';
import { authPlugin } from './plugins/auth.js';
import { documentsPlugin } from './plugins/documents.js';
import { dossiersPlugin } from './plugins/dossiers.js';
import { eventsPlugin } from './plugins/events.js';
import { healthPlugin } from './plugins/health.js';
import { portalProblemsPlugin } from './plugins/problems.js';
import { statusHandlers } from './status-feed.js';

/** The CloudEvents `service` of every portal's events. */
export const PORTAL_EVENT_SERVICE = 'be.passerelle.portal.v1';

/** The portal's API, as its OpenAPI document names it. */
export const PORTAL_API = {
  title: 'Passerelle portal API',
  version: '2.0.0',
  description:
    "The integrators' door to the Passerelle exchange: file single-permit applications, upload documents (stored encrypted), add documents and fee proof, list and follow each dossier's status, and receive its status changes as CloudEvents (signed webhooks, Server-Sent Events). Request bodies are the exchange's message schemas; errors are RFC 9457 problems typed per the Belgif REST guide, with the Passerelle catalogue code as `code`.",
};

/** The probes of a portal created by {@link createPortalService}, for its operations port. */
const operationsProbes = new WeakMap<FastifyInstance, Required<OperationsProbes>>();

/**
 * The probes of a portal app, with their reasons, for `serveMetrics` on the loopback operations port (the
 * app's own `/healthz` and `/readyz` give the status only).
 */
export function portalOperationsProbes(app: FastifyInstance): Required<OperationsProbes> {
  const probes = operationsProbes.get(app);
  if (!probes) throw new Error('portalOperationsProbes(): not an app created by createPortalService');
  return probes;
}

/** Readiness shared by every request within a second (one JetStream probe), and the exchange's failure. */
function portalProbesOf(ex: Exchange): Required<OperationsProbes> {
  let last: { at: number; result: Promise<Readiness[]> } | undefined;
  return {
    readiness: () => {
      // a failure or a stop is known at once, without JetStream: never hidden behind the cache
      if (ex.failure() !== undefined || ex.stopRequested) return ex.readiness().then((r) => [r]);
      const now = Date.now();
      if (!last || now - last.at >= 1_000) last = { at: now, result: ex.readiness().then((r) => [r]) };
      return last.result;
    },
    failure: () => ex.failure(),
  };
}

/** The door of each portal app, for its set-up (`portalDoor`). */
const doors = new WeakMap<FastifyInstance, Door>();

/**
 * The integrators' door of a portal app: its clients (`door.clients.create`, `rotateSecret`), for a set-up
 * script that makes the first integrators or admin client.
 */
export function portalDoor(app: FastifyInstance): Door {
  const door = doors.get(app);
  if (!door) throw new Error('portalDoor(): not an app created by createPortalService');
  return door;
}

/**
 * Creates the portal: a participant `portal-<name>` on the exchange and the integrators' HTTP API (fastify
 * plugins over `@passerelle/door`). The app is returned without listening (tests use `app.inject`;
 * `main.ts` calls `listen`); closing the app stops the subscription, the webhook deliveries and the
 * exchange connection.
 *
 * The portal subscribes to what the agreement sends it (completeness rulings, fee requests, decisions,
 * permits), keeps each dossier's status in its own KV bucket and logs each change as a CloudEvent, which
 * the integrator that filed the dossier receives by webhook or event stream. Integrators are the door's
 * clients; each sees only its own dossiers; dossier ids are random UUIDs, never derived from personal data.
 *
 * @example
 * ```ts
 * const app = await createPortalService({
 *   participant: 'portal-wib', keys, storageKeys, directory, contracts, servers: 'nats://127.0.0.1:4222',
 *   door: { secret, publicUrl: 'https://portal.example.be' },
 * });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 * ```
 */
export async function createPortalService(config: PortalConfig): Promise<FastifyInstance> {
  assertPortalConfig(config);
  const { contracts, participant } = config;
  const logger = config.logger ?? createPortalLogger();
  const ownsConnection = !config.nc;
  const nc: NatsConnection =
    config.nc ??
    (await connectNats({ ...config.connection, servers: config.servers ?? [], name: participant }));
  let exchange: Exchange | undefined;
  let subscription: Subscription | undefined;
  let door: Door | undefined;
  let index: DossierIndex | undefined;
  try {
    const payloadSeal = config.dossierKeys
      ? DossierKeys.over(() => nc, {
          keys: config.keys,
          directory: config.directory,
          create: config.provision !== false,
          ...(config.replicas !== undefined ? { replicas: config.replicas } : {}),
        })
      : undefined;
    exchange = await connectPortalExchange(config, nc, logger, payloadSeal);
    const replicas = config.replicas ?? 1;
    const create = config.provision !== false;
    const cipher = recordCipher(config, logger);
    // the dossier records under each dossier's key too, when the exchange seals payloads so
    const dossierCipher = payloadSeal
      ? new DossierRecordCipher(cipher('portal-dossiers'), payloadSeal, { keep: keptOfRecord })
      : cipher('portal-dossiers');
    const [documents, dossiers] = await Promise.all([
      DocumentStore.open(nc, { replicas, create, maxAgeMs: payloadRetentionMs(contracts) }),
      DossierStore.open(nc, participant, dossierCipher, { replicas, create }),
    ]);
    const dossierIndex = await DossierIndex.open(
      dossiers,
      (err) =>
        logger.error({ err: errorSummary(err) }, 'dossier index: the watch of the dossier bucket ended'),
      payloadSeal ? (onErased, signal) => payloadSeal.watchErasures(onErased, signal) : undefined,
    );
    index = dossierIndex;
    // an integrator reads the events of the dossiers it filed, and no other
    const canRead: EventReadPolicy = async (client, event) =>
      (dossierIndex.ownerOf(event.subject) ?? (await dossiers.ownerOf(event.subject))) === client.id;
    const integratorsDoor = await Door.open({
      ...config.door,
      name: participant,
      nc,
      service: PORTAL_EVENT_SERVICE,
      api: PORTAL_API,
      canRead,
      replicas,
      create,
      logger: logger.child({ component: 'door' }),
    });
    door = integratorsDoor;
    const ex = exchange;
    const sub = ex.subscribe(statusHandlers({ participant, dossiers, door: integratorsDoor, logger }));
    subscription = sub;

    const baseLogger: FastifyBaseLogger = logger;
    const app = fastify({ ...doorServerOptions(), loggerInstance: baseLogger, bodyLimit: 1024 * 1024 });
    doors.set(app, integratorsDoor);
    addShutdownHooks(app, ex, logger, async () => {
      await sub.stop();
      await integratorsDoor.close();
      await ex.close();
      await dossierIndex.stop();
      if (ownsConnection && !nc.isClosed()) await nc.drain();
    });
    await registerPortalRoutes(app, {
      config,
      exchange: ex,
      door: integratorsDoor,
      canRead,
      documents,
      dossiers,
      index: dossierIndex,
    });
    return app;
  } catch (err) {
    await subscription?.stop().catch(() => undefined);
    await door?.close().catch(() => undefined);
    await exchange?.close().catch(() => undefined);
    await index?.stop().catch(() => undefined);
    if (ownsConnection && !nc.isClosed()) await nc.close();
    throw err;
  }
}

/** The portal's participant on the exchange, over the connection `nc`. */
function connectPortalExchange(
  config: PortalConfig,
  nc: NatsConnection,
  logger: Logger,
  payloadSeal: DossierKeys | undefined,
): Promise<Exchange> {
  return connectExchange({
    participant: config.participant,
    keys: config.keys,
    directory: config.directory,
    contracts: config.contracts,
    nc,
    logger: logger.child({ component: 'exchange' }),
    ...(config.metrics ? { metrics: config.metrics } : {}),
    ...(config.consumer ? { consumer: config.consumer } : {}),
    ...(config.replicas !== undefined ? { replicas: config.replicas } : {}),
    ...(config.provision === false ? { provision: false } : {}),
    ...(config.exchangeApiPrefix ? { exchangeApiPrefix: config.exchangeApiPrefix } : {}),
    ...(payloadSeal ? { payloadSeal } : {}),
  });
}

/**
 * The sealing of each of the portal's record stores: under the storage keys; records of an earlier
 * release, under the signing key, read while legacyState allows it.
 */
function recordCipher(config: PortalConfig, logger: Logger): (store: RecordStore) => StateCipher {
  return (store) => {
    let told = false;
    return StateCipher.fromKeyring(config.storageKeys, RECORD_PURPOSES[store], {
      ...(config.legacyState === false ? {} : { legacySigningKey: config.keys.signing }),
      onLegacyRead: () => {
        if (told) return;
        told = true;
        logger.warn(
          { records: store },
          'LEGACY: a record sealed under the signing key by an earlier release was read; it is sealed under the storage key at its next write (passerelle storage reseal seals them all)',
        );
      },
    });
  };
}

/**
 * Fastify lets the requests in flight end before onClose: one whose send retries through an outage
 * would hold the shutdown for the minute or two of its retries. Stopping the exchange as closing begins
 * ends such a send once the exchange's handlers in flight are done (503 ERR_NOT_SENT, the integrator
 * retries with its key). Not awaited here: Fastify gives a preClose hook 10 s, and the handlers may need
 * longer; onClose waits for it, then runs `release`. Answers given while closing end their connection, or
 * a client's keep-alive would hold the shutdown too.
 */
function addShutdownHooks(
  app: FastifyInstance,
  ex: Exchange,
  logger: Logger,
  release: () => Promise<void>,
): void {
  let stopping: Promise<void> | undefined;
  app.addHook('preClose', (done) => {
    stopping = ex.stop().catch((err: unknown) => {
      logger.warn({ err: errorSummary(err) }, 'exchange stop failed');
    });
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    if (stopping && request.raw.httpVersionMajor !== 2) void reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onClose', async () => {
    await stopping;
    await release();
  });
}

/** What the portal's routes work with. */
interface PortalParts {
  config: PortalConfig;
  exchange: Exchange;
  door: Door;
  canRead: EventReadPolicy;
  documents: DocumentStore;
  dossiers: DossierStore;
  index: DossierIndex;
}

/**
 * Problems first; the OpenAPI document next, to see every route added after it (it is built from their
 * schemas, the message schemas among them); then access (every route after it is covered, and one saying
 * neither a scope nor public is refused), Idempotency-Key, and the routes.
 */
async function registerPortalRoutes(app: FastifyInstance, parts: PortalParts): Promise<void> {
  const { config, exchange, door, canRead, documents, dossiers, index } = parts;
  const { participant } = config;
  await app.register(portalProblemsPlugin, { realm: participant });
  await registerDoorOpenApi(app, { ...PORTAL_API, publicUrl: config.door.publicUrl });
  await app.register(authPlugin, { door });
  await app.register(idempotencyPlugin, { store: door.idempotency });
  const bodies = MessageBodies.of(config.contracts);
  bodies.addTo(app);
  addApiSchemas(app);
  await app.register(eventsPlugin, { door, canRead });
  const probes = portalProbesOf(exchange);
  operationsProbes.set(app, probes);
  await app.register(healthPlugin, { participant, probes });
  const maxDocumentBytes = config.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  await app.register(documentsPlugin, { documents, door, bodies, maxDocumentBytes });
  await app.register(dossiersPlugin, { participant, exchange, dossiers, index, documents, door, bodies });
}

/**
 * Creates, with operator rights, what the portal keeps on a secured server — the documents object store, its
 * dossier bucket, and its integrators' door (clients, tokens, Idempotency-Key records, events, webhooks) —
 * so that it runs with `provision: false`.
 */
export async function provisionPortalStores(
  nc: NatsConnection,
  participant: string,
  options: { replicas?: number } = {},
): Promise<void> {
  await DocumentStore.open(nc, options);
  await DossierStore.createBucket(nc, participant, options);
  await provisionDoor(nc, { name: participant, ...options });
}
