import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DossierContext } from '@passerelle/contracts';
import { deriveMessageId } from '@passerelle/envelope';
import {
  type Exchange,
  type OperationsProbes,
  type Readiness,
  type SentMessage,
  type Subscription,
  connectExchange,
  connectNats,
  errorSummary,
  isRefusedBeforePublishing,
} from '@passerelle/exchange';
import {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  fastify,
} from 'fastify';
import { PasserelleError, isPasserelleError } from '@passerelle/errors';
import { RECORD_PURPOSES, type RecordStore, StateCipher } from '@passerelle/service-host';
import { DEFAULT_MAX_DOCUMENT_BYTES, type PortalConfig, assertPortalConfig } from './config.js';
import { DocumentStore, type DocumentRef } from '@passerelle/documents';
import { DossierStore } from './dossier-store.js';
import {
  type DossierEvent,
  type DossierRecord,
  RECEIVED_TYPES,
  applyReceived,
  isClosed,
} from './dossier-status.js';
import {
  HttpIdempotencyStore,
  type StoredResponse,
  assertIdempotencyKey,
  requestFingerprint,
} from './idempotency.js';
import { createPortalLogger } from './logger.js';
import { buildOpenApiDocument } from './openapi.js';
import { authPlugin } from './plugins/auth.js';
import { errorsPlugin, frameworkErrors } from './plugins/errors.js';
import { PortalError } from './portal-error.js';

type Json = Record<string, unknown>;

/** A document slot's JSON pointers and references inside a `DossierDocuments` object. */
function documentRefs(documents: unknown, base: string): { path: string; ref: DocumentRef }[] {
  const out: { path: string; ref: DocumentRef }[] = [];
  if (typeof documents !== 'object' || documents === null) return out;
  for (const [slot, value] of Object.entries(documents as Json)) {
    if (slot === 'other' && Array.isArray(value)) {
      value.forEach((ref: DocumentRef, i) => out.push({ path: `${base}/other/${i}`, ref }));
    } else if (slot === 'healthInsurance') {
      out.push({
        path: `${base}/healthInsurance/document`,
        ref: (value as { document: DocumentRef }).document,
      });
    } else {
      out.push({ path: `${base}/${slot}`, ref: value as DocumentRef });
    }
  }
  return out;
}

/** The routing facts of an application (no personal data): what the contract needs to name recipients. */
export function dossierContextOf(application: Json, portalId: string): DossierContext {
  const ict = application['ict'] as { scheme?: string } | undefined;
  const scheme: DossierContext['scheme'] =
    application['category'] === 'ict' ? (ict?.scheme === 'mobility' ? 'ict-mobility' : 'ict') : 'standard';
  const context: DossierContext = {
    procedure: application['procedure'] === 'renewal' ? 'renewal' : 'first',
    scheme,
    regionId: String(application['regionId']),
    portalId,
  };
  if (typeof application['consularPostId'] === 'string')
    context.consularPostId = application['consularPostId'];
  if (typeof application['residenceCommuneId'] === 'string')
    context.communeId = application['residenceCommuneId'];
  return context;
}

/** The answer to `GET /v1/dossiers/{id}`. */
function statusView(record: DossierRecord): Json {
  const { integrator: _integrator, context, ...rest } = record;
  return { ...rest, procedure: context.procedure, closed: isClosed(record) };
}

function sentEvents(sent: readonly SentMessage[], type: string, at: string): DossierEvent[] {
  return sent.map((s) => ({ at, type, direction: 'sent', party: s.recipient, messageId: s.id }));
}

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

/**
 * Creates the portal: a participant `portal-<name>` on the exchange and the integrators' HTTP API (fastify).
 * The app is returned without listening (tests use `app.inject`; `main.ts` calls `listen`); closing the app
 * stops the subscription and the exchange connection.
 *
 * The portal subscribes to what the agreement sends it (completeness rulings, fee requests, decisions,
 * permits) and keeps each dossier's status in its own KV bucket. An integrator sees only its own dossiers;
 * dossier ids are random UUIDs, never derived from personal data.
 *
 * @example
 * ```ts
 * const app = await createPortalService({
 *   participant: 'portal-wib', keys, directory, contracts, servers: 'nats://127.0.0.1:4222',
 *   integrators: [{ name: 'acme-hr', tokenSha256: hashToken(token) }],
 * });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 * ```
 */
export async function createPortalService(config: PortalConfig): Promise<FastifyInstance> {
  assertPortalConfig(config);
  const { contracts, participant } = config;
  const logger = config.logger ?? createPortalLogger();
  const maxDocumentBytes = config.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  const ownsConnection = !config.nc;
  const nc: NatsConnection =
    config.nc ??
    (await connectNats({ ...config.connection, servers: config.servers ?? [], name: participant }));
  let exchange: Exchange | undefined;
  let subscription: Subscription | undefined;
  try {
    exchange = await connectExchange({
      participant,
      keys: config.keys,
      directory: config.directory,
      contracts,
      nc,
      logger: logger.child({ component: 'exchange' }),
      ...(config.metrics ? { metrics: config.metrics } : {}),
      ...(config.consumer ? { consumer: config.consumer } : {}),
      ...(config.replicas !== undefined ? { replicas: config.replicas } : {}),
      ...(config.provision === false ? { provision: false } : {}),
      ...(config.exchangeApiPrefix ? { exchangeApiPrefix: config.exchangeApiPrefix } : {}),
    });
    const replicas = config.replicas ?? 1;
    const create = config.provision !== false;
    // sealed under the storage keys; records of an earlier release, under the signing key, read while
    // legacyState allows it
    const cipher = (store: RecordStore): StateCipher => {
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
    const [documents, idempotency, dossiers] = await Promise.all([
      DocumentStore.open(nc, { replicas, create }),
      HttpIdempotencyStore.open(nc, participant, cipher('portal-idempotency'), { replicas, create }),
      DossierStore.open(nc, participant, cipher('portal-dossiers'), { replicas, create }),
    ]);
    const ex = exchange;

    const handlers = Object.fromEntries(
      RECEIVED_TYPES.map((type) => [
        type,
        async (m: {
          meta: { type: string; sender: string; id: string; dossierId: string };
          payload: unknown;
        }) => {
          // The portal records a dossier before its application leaves, so an unknown one is out of
          // sequence: a permanent error, straight to the dead letters.
          const next = await dossiers
            .update(m.meta.dossierId, (record) =>
              applyReceived(record, {
                type: m.meta.type,
                sender: m.meta.sender,
                id: m.meta.id,
                at: new Date().toISOString(),
                payload: m.payload,
              }),
            )
            .catch((err: unknown) => {
              if (!isPasserelleError(err, 'ERR_DOSSIER_NOT_FOUND')) throw err;
              throw new PasserelleError(
                'ERR_UNKNOWN_DOSSIER',
                `${participant} has no dossier with this id.`,
                {
                  details: { dossierId: m.meta.dossierId, type: m.meta.type },
                },
              );
            });
          logger.info(
            { dossierId: m.meta.dossierId, type: m.meta.type, sender: m.meta.sender, state: next.state },
            'dossier updated',
          );
        },
      ]),
    );
    subscription = ex.subscribe(handlers);

    const baseLogger: FastifyBaseLogger = logger;
    const app = fastify({ loggerInstance: baseLogger, bodyLimit: 1024 * 1024, frameworkErrors });
    const openapi = buildOpenApiDocument(contracts);
    await app.register(errorsPlugin);
    // every route below needs a bearer token unless its config says `public: true`
    await app.register(authPlugin, { integrators: config.integrators });

    // Fastify lets the requests in flight end before onClose: one whose send retries through an outage
    // would hold the shutdown for the minute or two of its retries. Stopping the exchange as closing begins
    // ends such a send once the exchange's handlers in flight are done (503 ERR_EXCHANGE_CLOSED, the dossier
    // kept and named: the integrator retries with its key). Not awaited here: Fastify gives a preClose hook
    // 10 s, and the handlers may need longer; onClose waits for it. Answers given while closing end their
    // connection, or a client's keep-alive would hold the shutdown too.
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
      await subscription?.stop();
      await ex.close();
      if (ownsConnection && !nc.isClosed()) await nc.drain();
    });

    /** Runs a POST through the Idempotency-Key store when the header is present. */
    const idempotent = async (
      request: FastifyRequest,
      reply: FastifyReply,
      fingerprint: string | undefined,
      /** `messageId`: the id to publish under, the same for every run of one Idempotency-Key. */
      run: (messageId?: string) => Promise<StoredResponse & { fingerprint?: string }>,
      fingerprintLater?: () => Promise<string>,
    ): Promise<FastifyReply> => {
      const header = request.headers['idempotency-key'];
      if (header === undefined) {
        const result = await run();
        return reply.status(result.status).send(result.body);
      }
      const key = Array.isArray(header) ? '' : header;
      assertIdempotencyKey(key);
      const result = await idempotency.run(
        {
          integrator: request.integrator,
          key,
          ...(fingerprint ? { fingerprint } : {}),
          ...(fingerprintLater ? { fingerprintLater } : {}),
        },
        run,
      );
      if (result.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.status(result.status).send(result.body);
    };

    const checkDocuments = async (docs: unknown, integrator: string, base: string): Promise<void> => {
      for (const { path, ref } of documentRefs(docs, base)) await documents.check(ref, integrator, path);
    };

    const publish = async (
      record: DossierRecord,
      type: string,
      payload: unknown,
      messageId: string | undefined,
    ): Promise<{ sent: SentMessage[]; record: DossierRecord }> => {
      const sent = await ex.send(type, payload, {
        dossierId: record.dossierId,
        context: record.context,
        ...(messageId ? { messageId } : {}),
      });
      const at = new Date().toISOString();
      const updated = await dossiers.update(record.dossierId, (r) => ({
        ...r,
        updatedAt: at,
        events: [...r.events, ...sentEvents(sent, type, at)],
      }));
      logger.info({ dossierId: record.dossierId, type, messages: sent.length }, 'published');
      return { sent, record: updated };
    };

    const accepted = (record: DossierRecord, type: string, sent: readonly SentMessage[]): Json => ({
      dossierId: record.dossierId,
      state: record.state,
      messages: sent.map((s) => ({ id: s.id, type, recipient: s.recipient })),
    });

    app.get('/openapi.json', { config: { public: true } }, (_request, reply) => reply.send(openapi));
    // Public and unauthenticated: the status only (the reasons, which name internal consumers, are on the
    // loopback operations port), and one readiness probe of JetStream per second at most, however many ask.
    const probes = portalProbesOf(ex);
    operationsProbes.set(app, probes);
    app.get('/healthz', { config: { public: true } }, (_request, reply) => {
      const failed = probes.failure() !== undefined;
      return reply
        .code(failed ? 503 : 200)
        .header('cache-control', 'no-store')
        .send({ status: failed ? 'failed' : 'ok', participant });
    });
    app.get('/readyz', { config: { public: true } }, async (_request, reply) => {
      const [readiness] = await probes.readiness();
      const ready = readiness?.ready === true;
      return reply
        .code(ready ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({ status: ready ? 'ready' : 'not ready', participant });
    });

    app.post('/v1/dossiers', async (request, reply) => {
      const body = request.body;
      return idempotent(
        request,
        reply,
        requestFingerprint('POST', '/v1/dossiers', JSON.stringify(body ?? null)),
        async (messageId) => {
          const type = 'application-submitted';
          contracts.validate(type, contracts.latestVersion(type), body);
          const application = body as Json;
          await checkDocuments(application['documents'], request.integrator, '/documents');
          const now = new Date().toISOString();
          // a retry of the same Idempotency-Key opens the same dossier, as it publishes the same message
          const dossierId = messageId ? deriveMessageId(messageId, 'dossier') : randomUUID();
          // a run of this request that died after opening the dossier left it: this one goes on with it
          const earlier = messageId ? await dossiers.get(dossierId) : undefined;
          const record: DossierRecord = earlier ?? {
            dossierId,
            integrator: request.integrator,
            category: String(application['category']),
            context: dossierContextOf(application, participant),
            state: 'submitted',
            createdAt: now,
            updatedAt: now,
            decisions: {},
            events: [],
          };
          // The record exists before the application leaves, so an early ruling finds it.
          if (!earlier) await dossiers.create(record);
          // From here a 5xx answer names the dossier: it stays, as the application may have left (the
          // server's answer lost on the way back, the record's update failing after the publish), and a
          // region's ruling must find it; a retry with the same Idempotency-Key goes on with it.
          request.openedDossier = dossierId;
          try {
            const { sent, record: updated } = await publish(record, type, body, messageId);
            return { status: 201, body: accepted(updated, type, sent) };
          } catch (err) {
            // Only a dossier this run opened, whose application was refused or not sent at all, goes.
            const nothingSent = isPasserelleError(err, 'ERR_NOT_SENT');
            if (!earlier && (isRefusedBeforePublishing(err) || nothingSent)) {
              await dossiers.remove(dossierId).catch(() => undefined);
              request.openedDossier = '';
            }
            throw err;
          }
        },
      );
    });

    const addToDossier = (route: string, type: string, documentsAt?: string): void => {
      app.post<{ Params: { dossierId: string } }>(route, async (request, reply) => {
        const body = request.body;
        const { dossierId } = request.params;
        const fingerprint = requestFingerprint('POST', type, dossierId, JSON.stringify(body ?? null));
        return idempotent(request, reply, fingerprint, async (messageId) => {
          const record = await dossiers.getOwned(dossierId, request.integrator);
          if (isClosed(record)) {
            throw new PortalError(
              'ERR_DOSSIER_CLOSED',
              `The dossier is ${record.state} and takes no more input.`,
              {
                details: { dossierId, state: record.state },
              },
            );
          }
          contracts.validate(type, contracts.latestVersion(type), body);
          if (documentsAt)
            await checkDocuments((body as Json)[documentsAt], request.integrator, `/${documentsAt}`);
          else await documents.check((body as { proof: DocumentRef }).proof, request.integrator, '/proof');
          const { sent, record: updated } = await publish(record, type, body, messageId);
          return { status: 202, body: accepted(updated, type, sent) };
        });
      });
    };
    addToDossier('/v1/dossiers/:dossierId/documents', 'documents-added', 'documents');
    addToDossier('/v1/dossiers/:dossierId/fee-proof', 'fee-proof-submitted');

    app.get<{ Params: { dossierId: string } }>('/v1/dossiers/:dossierId', async (request) =>
      statusView(await dossiers.getOwned(request.params.dossierId, request.integrator)),
    );

    // Uploads take the raw body as a stream, whatever its type: the handler checks the allow-list itself.
    await app.register((scope, _options, registered) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      scope.post('/v1/documents', async (request, reply) => {
        const mediaType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        const declared = request.headers['content-length'];
        const body = (request.body ?? request.raw) as Readable;
        const fingerprintOf = (sha256: string): string =>
          requestFingerprint('POST', '/v1/documents', mediaType, sha256);
        return idempotent(
          request,
          reply,
          undefined,
          async () => {
            const document = await documents.put({
              owner: request.integrator,
              mediaType,
              body,
              maxBytes: maxDocumentBytes,
              ...(declared !== undefined ? { declaredLength: Number(declared) } : {}),
            });
            request.log.info({ size: document.size, mediaType }, 'document stored');
            return { status: 201, body: { document }, fingerprint: fingerprintOf(document.sha256) };
          },
          async () => {
            const hash = createHash('sha256');
            let size = 0;
            for await (const chunk of body as AsyncIterable<Buffer>) {
              size += chunk.length;
              if (size > maxDocumentBytes) break;
              hash.update(chunk);
            }
            return fingerprintOf(hash.digest('hex'));
          },
        );
      });
      registered();
    });

    return app;
  } catch (err) {
    await subscription?.stop().catch(() => undefined);
    await exchange?.close().catch(() => undefined);
    if (ownsConnection && !nc.isClosed()) await nc.close();
    throw err;
  }
}

/**
 * Creates, with operator rights, what the portal keeps on a secured server — the documents object store,
 * its HTTP idempotency and dossier buckets — so that it runs with `provision: false`.
 */
export async function provisionPortalStores(
  nc: NatsConnection,
  participant: string,
  options: { replicas?: number } = {},
): Promise<void> {
  await DocumentStore.open(nc, options);
  await HttpIdempotencyStore.createBucket(nc, participant, options);
  await DossierStore.createBucket(nc, participant, options);
}
