import type { Contracts } from '@passerelle/contracts';
import { type Door, CursorCodec, collectionPage } from '@passerelle/door';
import {
  type DossierRecord,
  type JournalEntry,
  ProcedureError,
  type TakenAction,
} from '@passerelle/procedure';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import type { BodyService, ServiceAction, WorkItem } from '../body-service.js';
import { ActionBodies } from './action-bodies.js';
import { actionSegment } from './action-path.js';
import { referencedDocuments } from './dossier-documents.js';
import {
  addBackOfficeSchemas,
  documentParams,
  dossierParams,
  worklistPage,
  worklistQuery,
} from './schemas.js';

/** Options of {@link backOfficeRoutes}. */
export interface BackOfficeRoutesOptions {
  body: BodyService<DossierRecord>;
  door: Door;
  contracts: Contracts;
}

type DossierParams = { participantId: string; dossierId: string };
type WorklistQuery = {
  pageSize: number;
  cursor?: string;
  participantId?: string;
  action?: string;
  phase?: string;
  overdue?: boolean;
  dueWithin?: number;
};
/** Where a worklist page ends: the last item's sort key. */
type Position = [rank: number, dossierId: string, participantId: string, action: string];

const rank = (i: WorkItem): number => i.workingDaysLeft ?? Number.MAX_SAFE_INTEGER;
const positionOf = (i: WorkItem): Position => [rank(i), i.dossierId, i.participant, i.action];
function compare(a: Position, b: Position): number {
  return a[0] - b[0] || a[1].localeCompare(b[1]) || a[2].localeCompare(b[2]) || a[3].localeCompare(b[3]);
}

function unknownDossier(dossierId: string): ProcedureError {
  return new ProcedureError('ERR_UNKNOWN_DOSSIER', 'This body has no such dossier.', {
    details: { dossierId },
  });
}

/** The dossier's decisions: the actions its state records, with the summaries the journal kept. */
function decisionsOf(taken: readonly TakenAction[] | undefined, journal: readonly JournalEntry[]) {
  return (taken ?? []).map((t) => {
    const summary = journal.find((e) => e.kind === 'action' && e.stepId === t.stepId)?.summary;
    return { ...t, ...(summary ? { summary } : {}) };
  });
}

/**
 * The back office of a body, over its {@link BodyService} — the same for every body, its operations
 * given by the body's table:
 * - `GET /v1/workItems` (read): the actions owed, with each legal deadline and the working days left,
 *   overdue first; filters `participantId`, `action`, `phase`, `overdue`, `dueWithin`; cursor pages;
 * - `GET /v1/participants/{participantId}/dossiers/{dossierId}` (read): the dossier's phase and state,
 *   the actions it accepts now, its timeline, the messages received (decrypted), the documents they
 *   reference and the decisions taken;
 * - `GET …/documents/{documentId}` (read): a referenced document, decrypted once its integrity is checked;
 * - `POST …/{action}` (decide, `Idempotency-Key`, `Passerelle-Officer`): one route per action of the
 *   table, its body validated against the action's input schema; the client and the officer are recorded
 *   with the decision. An action out of sequence is refused with its catalogue code (409 `ERR_OUT_OF_SEQUENCE`…).
 */
export const backOfficeRoutes: FastifyPluginCallback<BackOfficeRoutesOptions> = (app, options, done) => {
  const { body, door, contracts } = options;
  const publicUrl = door.options.publicUrl.replace(/\/+$/, '');
  const actions = body.actions();
  const bodies = ActionBodies.of(contracts, new Map(actions.map((a) => [a.name, a.input])));
  addBackOfficeSchemas(app);
  bodies.addTo(app);
  const dossierHref = (participant: string, dossierId: string): string =>
    `${publicUrl}/v1/participants/${participant}/dossiers/${dossierId}`;
  const backOffice: BackOffice = {
    app,
    body,
    door,
    publicUrl,
    actions,
    bodies,
    titles: new Map(actions.map((a) => [a.name, a.title])),
    dossierHref,
    actionHref: (participant, dossierId, action) =>
      `${dossierHref(participant, dossierId)}/${actionSegment(action)}`,
  };
  registerWorklistRoute(backOffice);
  registerDossierRoute(backOffice);
  registerDocumentRoute(backOffice);
  registerActionRoutes(backOffice);
  done();
};

/** What the back office's routes share: the body, its door, its actions and the links they answer with. */
interface BackOffice {
  app: FastifyInstance;
  body: BodyService<DossierRecord>;
  door: Door;
  publicUrl: string;
  actions: readonly ServiceAction[];
  bodies: ActionBodies;
  titles: ReadonlyMap<string, string>;
  dossierHref: (participant: string, dossierId: string) => string;
  actionHref: (participant: string, dossierId: string, action: string) => string;
}

/** Whether a work item passes the worklist's filters (action, phase, overdue, due within so many days). */
function matchesQuery(i: WorkItem, query: WorklistQuery): boolean {
  return (
    (!query.action || i.action === query.action) &&
    (!query.phase || i.phase === query.phase) &&
    (query.overdue === undefined ||
      (i.workingDaysLeft !== undefined && i.workingDaysLeft < 0) === query.overdue) &&
    (query.dueWithin === undefined ||
      (i.workingDaysLeft !== undefined && i.workingDaysLeft <= query.dueWithin))
  );
}

/** `GET /v1/workItems`: the actions owed, soonest legal deadline first, in cursor pages. */
function registerWorklistRoute({
  app,
  body,
  door,
  publicUrl,
  actions,
  dossierHref,
  actionHref,
}: BackOffice): void {
  app.get(
    '/v1/workItems',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'The worklist: the actions this body owes its dossiers, with their legal deadlines',
        tags: ['worklist'],
        querystring: worklistQuery(actions.map((a) => a.name)),
        response: { 200: worklistPage },
      },
    },
    async (request) => {
      const query = request.query as WorklistQuery;
      if (query.participantId && !body.participants.includes(query.participantId)) {
        throw new ProcedureError('ERR_NOT_HOSTED', 'This door serves no such body.', {
          details: { in: 'query', name: 'participantId' },
        });
      }
      const after = query.cursor
        ? door.cursors.decode<Position>(CursorCodec.collectionOf(request), query.cursor)
        : undefined;
      const all = await body.worklist(query.participantId ? { participant: query.participantId } : {});
      const items = all
        .filter((i) => matchesQuery(i, query))
        .sort((a, b) => compare(positionOf(a), positionOf(b)))
        .filter((i) => !after || compare(positionOf(i), after) > 0);
      const page = items.slice(0, query.pageSize);
      const last = page[page.length - 1];
      return collectionPage(request, {
        publicUrl,
        cursors: door.cursors,
        items: page.map((i) => ({
          participantId: i.participant,
          dossierId: i.dossierId,
          phase: i.phase,
          action: i.action,
          ...(i.deadline ? { deadline: i.deadline, workingDaysLeft: i.workingDaysLeft } : {}),
          href: dossierHref(i.participant, i.dossierId),
          actionHref: actionHref(i.participant, i.dossierId, i.action),
        })),
        pageSize: query.pageSize,
        ...(items.length > page.length && last ? { nextPosition: positionOf(last) } : {}),
      });
    },
  );
}

/** `GET …/dossiers/{dossierId}`: the dossier's state, timeline, messages, documents and decisions. */
function registerDossierRoute({ app, body, titles, dossierHref, actionHref }: BackOffice): void {
  app.get<{ Params: DossierParams }>(
    '/v1/participants/:participantId/dossiers/:dossierId',
    {
      config: { scope: 'read' },
      schema: {
        summary:
          'A dossier at this body: state, timeline, what it received (decrypted), documents, decisions',
        tags: ['dossiers'],
        params: dossierParams,
        response: { 200: { $ref: 'BackOfficeDossier#' } },
      },
    },
    async (request) => {
      const { participantId, dossierId } = request.params;
      const record = await body.record(participantId, dossierId);
      if (!record) throw unknownDossier(dossierId);
      const { state, journal } = record;
      const available = await body.available(participantId, dossierId);
      return {
        participantId,
        dossierId,
        phase: state.phase,
        state,
        available: available.map((action) => ({
          action,
          ...(titles.get(action) ? { title: titles.get(action) } : {}),
          href: actionHref(participantId, dossierId, action),
        })),
        timeline: journal.map(({ payload: _payload, stepId, ...e }) => ({
          ...e,
          ...(e.kind === 'received' ? { messageId: stepId } : {}),
        })),
        received: journal
          .filter((e) => e.kind === 'received')
          .map((e) => ({
            messageId: e.stepId,
            type: e.type,
            from: e.from ?? '',
            at: e.at,
            payload: e.payload,
          })),
        documents: referencedDocuments(journal).map(({ ref: _ref, ...d }) => ({
          ...d,
          href: `${dossierHref(participantId, dossierId)}/documents/${d.id}`,
        })),
        decisions: decisionsOf(state.taken, journal),
      };
    },
  );
}

/** `GET …/documents/{documentId}`: a referenced document, served so that no browser runs it. */
function registerDocumentRoute({ app, body }: BackOffice): void {
  app.get<{ Params: DossierParams & { documentId: string } }>(
    '/v1/participants/:participantId/dossiers/:dossierId/documents/:documentId',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'A document a message of the dossier referenced, decrypted (integrity checked first)',
        tags: ['dossiers'],
        params: documentParams,
        response: {
          200: {
            description: "The document's bytes, of its own media type.",
            content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
          },
        },
      },
    },
    async (request, reply) => {
      const { participantId, dossierId, documentId } = request.params;
      const record = await body.record(participantId, dossierId);
      if (!record) throw unknownDossier(dossierId);
      const found = referencedDocuments(record.journal).find((d) => d.id === documentId);
      if (!found) {
        throw new ProcedureError('ERR_UNKNOWN_DOSSIER', 'The dossier references no such document.', {
          details: { in: 'path', name: 'documentId' },
        });
      }
      const bytes = await body.readDocument(participantId, found.ref, {
        issuer: found.from,
        decision: found.decision,
      });
      return (
        reply
          .header('content-type', found.mediaType)
          .header('cache-control', 'no-store')
          // bytes a sender chose (an XML document may hold script): never run in a browser viewing them
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "sandbox; default-src 'none'")
          .header('content-disposition', `attachment; filename="${documentId.slice(0, 16)}"`)
          .send(Buffer.from(bytes))
      );
    },
  );
}

/** `POST …/{action}`: one route per action of the body's table, its body validated by the action's schema. */
function registerActionRoutes({ app, body, actions, bodies, dossierHref }: BackOffice): void {
  for (const action of actions) {
    app.post<{ Params: DossierParams }>(
      `/v1/participants/:participantId/dossiers/:dossierId/${actionSegment(action.name)}`,
      {
        config: { scope: 'decide', officer: true, idempotent: true },
        validatorCompiler: bodies.validatorCompiler(action.name),
        schema: {
          summary: action.title,
          description:
            `Action \`${action.name}\` of the body's table, taken in the phases ${action.allowedIn.join(', ')}` +
            (action.sends.length ? `; it may send ${action.sends.join(', ')}` : '') +
            '. Out of sequence it is refused with its code (409); retried with the same `Idempotency-Key`, it is taken once. The calling client and the `Passerelle-Officer` are recorded with the decision.',
          operationId: actionSegment(action.name),
          tags: ['actions'],
          params: dossierParams,
          headers: {
            type: 'object',
            required: ['passerelle-officer'],
            properties: {
              'passerelle-officer': {
                type: 'string',
                description:
                  "The case officer's pseudonymous id (a UUID, or a prefix and 8 to 32 hex digits).",
              },
            },
          },
          body: bodies.body(action.name),
          response: { 200: { $ref: 'ActionTaken#' } },
        },
      },
      async (request) => {
        const { participantId, dossierId } = request.params;
        const state = await body.act(
          participantId,
          dossierId,
          action.name,
          request.body,
          { clientId: request.client.id, officerId: request.officer! },
          { stepId: request.idempotency!.runId },
        );
        request.log.info({ participantId, dossierId, action: action.name }, 'action taken');
        return {
          participantId,
          dossierId,
          action: action.name,
          phase: state.phase,
          available: await body.available(participantId, dossierId),
          href: dossierHref(participantId, dossierId),
        };
      },
    );
  }
}
