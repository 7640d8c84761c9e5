import type { DocumentStore } from '@passerelle/documents';
import { type Door, CursorCodec, collectionPage } from '@passerelle/door';
import { deriveMessageId } from '@passerelle/envelope';
import { isPasserelleError } from '@passerelle/errors';
import { type Exchange, type SentMessage, isRefusedBeforePublishing } from '@passerelle/exchange';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { dossierListPage, dossierListQuery, dossierParams } from '../api-schemas.js';
import { checkDocuments } from '../document-refs.js';
import type { DossierIndex, DossierPosition } from '../dossier-index.js';
import { type DossierEvent, type DossierRecord, isClosed } from '../dossier-status.js';
import type { DossierStore } from '../dossier-store.js';
import { dossierContextOf } from '../dossier-context.js';
import type { MessageBodies, PostedType } from '../message-bodies.js';
import { PortalError } from '../portal-error.js';
import { markOpenedDossier } from './problems.js';

type Json = Record<string, unknown>;

/** Options of {@link dossiersPlugin}. */
export interface DossiersPluginOptions {
  participant: string;
  exchange: Exchange;
  dossiers: DossierStore;
  index: DossierIndex;
  documents: DocumentStore;
  door: Door;
  bodies: MessageBodies;
}

/** The answer to `GET /v1/dossiers/{id}`: the record without its owner and routing facts. */
function statusView(record: DossierRecord): Json {
  const { integrator: _integrator, context, ...rest } = record;
  return { ...rest, procedure: context.procedure, closed: isClosed(record) };
}

function sentEvents(sent: readonly SentMessage[], type: string, at: string): DossierEvent[] {
  return sent.map((s) => ({ at, type, direction: 'sent', party: s.recipient, messageId: s.id }));
}

const accepted = (record: DossierRecord, type: string, sent: readonly SentMessage[]): Json => ({
  dossierId: record.dossierId,
  state: record.state,
  messages: sent.map((s) => ({ id: s.id, type, recipient: s.recipient })),
});

const acceptedResponse = (description: string) => ({ description, $ref: 'Accepted#' });

/** Publishes a posted message of a dossier under the request's run id and records what it sent. */
async function publish(
  options: DossiersPluginOptions,
  request: FastifyRequest,
  record: DossierRecord,
  type: PostedType,
  payload: unknown,
): Promise<{ sent: SentMessage[]; record: DossierRecord }> {
  const { exchange, dossiers } = options;
  const messageId = request.idempotency!.runId;
  const sent = await exchange.send(type, payload, {
    dossierId: record.dossierId,
    context: record.context,
    messageId,
  });
  const at = new Date().toISOString();
  const updated = await dossiers.update(record.dossierId, (r) => ({
    ...r,
    updatedAt: at,
    // a rerun of the request names again what an earlier run sent: listed once
    events: [
      ...r.events,
      ...sentEvents(sent, type, at).filter((e) => !r.events.some((x) => x.messageId === e.messageId)),
    ],
  }));
  request.log.info({ dossierId: record.dossierId, type, messages: sent.length }, 'published');
  return { sent, record: updated };
}

/** `GET /v1/dossiers`: the integrator's own dossiers, a page at a time. */
function listRoute(app: FastifyInstance, options: DossiersPluginOptions, publicUrl: string): void {
  const { index, door, bodies } = options;
  app.get(
    '/v1/dossiers',
    {
      config: { scope: 'read' },
      schema: {
        summary: "The integrator's dossiers, newest first (status fields only)",
        tags: ['dossiers'],
        querystring: dossierListQuery(bodies.enumOf('Category')),
        response: { 200: dossierListPage },
      },
    },
    (request) => {
      const query = request.query as {
        pageSize: number;
        cursor?: string;
        state?: string[];
        category?: string[];
        closed?: boolean;
        updatedSince?: string;
      };
      const after = query.cursor
        ? door.cursors.decode<DossierPosition>(CursorCodec.collectionOf(request), query.cursor)
        : undefined;
      const { items, more } = index.list(
        request.integrator,
        {
          ...(query.state ? { state: query.state } : {}),
          ...(query.category ? { category: query.category } : {}),
          ...(query.closed !== undefined ? { closed: query.closed } : {}),
          ...(query.updatedSince ? { updatedSince: new Date(query.updatedSince) } : {}),
        },
        after,
        query.pageSize,
      );
      const last = items[items.length - 1];
      return collectionPage(request, {
        publicUrl,
        cursors: door.cursors,
        items: items.map((s) => ({ ...s, href: `${publicUrl}/v1/dossiers/${s.dossierId}` })),
        pageSize: query.pageSize,
        ...(more && last ? { nextPosition: [last.createdAt, last.dossierId] } : {}),
      });
    },
  );
}

/** `GET /v1/dossiers/{dossierId}`: one dossier's status and history, to its integrator only. */
function statusRoute(app: FastifyInstance, options: DossiersPluginOptions): void {
  const { dossiers } = options;
  app.get<{ Params: { dossierId: string } }>(
    '/v1/dossiers/:dossierId',
    {
      config: { scope: 'read' },
      schema: {
        summary: "A dossier's status and history (meta and rulings, no personal data)",
        tags: ['dossiers'],
        params: dossierParams,
        response: { 200: { $ref: 'DossierStatus#' } },
      },
    },
    async (request) => statusView(await dossiers.getOwned(request.params.dossierId, request.integrator)),
  );
}

/** `POST /v1/dossiers`: an application, which opens the dossier before it is published. */
function applicationRoute(app: FastifyInstance, options: DossiersPluginOptions): void {
  const { participant, dossiers, documents, bodies } = options;
  const type = 'application-submitted';
  app.post(
    '/v1/dossiers',
    {
      config: { scope: 'decide', idempotent: true },
      validatorCompiler: bodies.validatorCompiler(type),
      schema: {
        summary: 'Submit an application: published to the competent region and the Immigration Office',
        description:
          'A 5xx answer names the `dossierId` the application opened when the portal keeps it (the application may have reached the administrations): `GET /v1/dossiers/{dossierId}` follows it, and a retry with the same `Idempotency-Key` sends the application again under the same ids — each recipient gets it once — and opens no other dossier. `ERR_NOT_SENT`: nothing was sent and no dossier kept.',
        tags: ['dossiers'],
        body: bodies.body(type),
        response: { 201: acceptedResponse('The dossier, opened, and the messages published.') },
      },
    },
    async (request, reply) => {
      const application = request.body as Json;
      const integrator = request.integrator;
      await checkDocuments(documents, application['documents'], integrator, '/documents');
      // every run of this request opens the same dossier, as it publishes under the same id
      const dossierId = deriveMessageId(request.idempotency!.runId, 'dossier');
      // a run of this request that died after opening the dossier left it: this one goes on with it
      const earlier = await dossiers.get(dossierId);
      const now = new Date().toISOString();
      const record: DossierRecord = earlier ?? {
        dossierId,
        integrator,
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
      // From here a 5xx answer names the dossier: it stays, as the application may have left (the server's
      // answer lost on the way back, the record's update failing after the publish), and a ruling must
      // find it.
      markOpenedDossier(request, dossierId);
      try {
        const { sent, record: updated } = await publish(options, request, record, type, application);
        return reply
          .code(201)
          .header('location', `/v1/dossiers/${dossierId}`)
          .send(accepted(updated, type, sent));
      } catch (err) {
        // Only a dossier this run opened, whose application was refused or not sent at all, goes.
        if (!earlier && (isRefusedBeforePublishing(err) || isPasserelleError(err, 'ERR_NOT_SENT'))) {
          await dossiers.remove(dossierId).catch(() => undefined);
          markOpenedDossier(request, undefined);
        }
        throw err;
      }
    },
  );
}

/** `POST …/documents` and `…/fee-proof`: what an open dossier takes after its application. */
function additionRoutes(app: FastifyInstance, options: DossiersPluginOptions): void {
  const { dossiers, documents, bodies } = options;
  const addToDossier = (path: string, added: PostedType, summary: string, documentsAt?: string): void => {
    app.post<{ Params: { dossierId: string } }>(
      path,
      {
        config: { scope: 'decide', idempotent: true },
        validatorCompiler: bodies.validatorCompiler(added),
        schema: {
          summary,
          tags: ['dossiers'],
          params: dossierParams,
          body: bodies.body(added),
          response: { 202: acceptedResponse('Published.') },
        },
      },
      async (request, reply: FastifyReply) => {
        const body = request.body as Json;
        const record = await dossiers.getOwned(request.params.dossierId, request.integrator);
        if (isClosed(record)) {
          throw new PortalError(
            'ERR_DOSSIER_CLOSED',
            `The dossier is ${record.state} and takes no more input.`,
            { details: { dossierId: record.dossierId, state: record.state } },
          );
        }
        if (documentsAt) {
          await checkDocuments(documents, body[documentsAt], request.integrator, `/${documentsAt}`);
        } else {
          await checkDocuments(documents, { proof: body['proof'] }, request.integrator, '');
        }
        const { sent, record: updated } = await publish(options, request, record, added, body);
        return reply.code(202).send(accepted(updated, added, sent));
      },
    );
  };
  addToDossier(
    '/v1/dossiers/:dossierId/documents',
    'documents-added',
    'Add documents to a dossier: publishes documents-added to its region and the Immigration Office',
    'documents',
  );
  addToDossier(
    '/v1/dossiers/:dossierId/fee-proof',
    'fee-proof-submitted',
    'Add the proof of payment of the fee: publishes fee-proof-submitted',
  );
}

/**
 * The integrators' dossiers, `/v1/dossiers`:
 * - `GET /v1/dossiers` (read): the integrator's own dossiers, newest first, in the Belgif collection
 *   envelope `{ self, items, pageSize, next }` with an opaque cursor; filters `state`, `category`,
 *   `closed`, `updatedSince`; each item its status fields and link, nothing more;
 * - `GET /v1/dossiers/{dossierId}` (read): a dossier's status and history (another integrator's dossier is
 *   `resourceNotFound`, exactly like one that does not exist);
 * - `POST /v1/dossiers` (decide, `Idempotency-Key`): an application, published to the competent region and
 *   the Immigration Office; `POST /v1/dossiers/{dossierId}/documents` and `…/fee-proof` (decide,
 *   `Idempotency-Key`): documents added and fee proof.
 * Posted bodies are the exchange's messages, validated by their schemas. Each request publishes under its
 * `Idempotency-Key` run's id, the same on every retry of it: a retry after `ERR_NOT_SENT` or
 * `ERR_SEND_OUTCOME_UNKNOWN` reaches each recipient once, and an application retried opens the same dossier.
 */
export const dossiersPlugin: FastifyPluginCallback<DossiersPluginOptions> = (app, options, done) => {
  const publicUrl = options.door.options.publicUrl.replace(/\/+$/, '');
  listRoute(app, options, publicUrl);
  statusRoute(app, options);
  applicationRoute(app, options);
  additionRoutes(app, options);
  done();
};
