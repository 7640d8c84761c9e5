import type { FastifyPluginCallback } from 'fastify';
import { CLIENT_ID_PATTERN, type ClientStore } from './client-store.js';
import { CursorCodec, collectionPage, collectionSchema, pageQuerySchema } from './collection.js';
import { DoorError } from './door-error.js';
import { DOOR_SCOPES } from './scopes.js';

/** Options of {@link clientsRoutes}. */
export interface ClientsRoutesOptions {
  clients: ClientStore;
  cursors: CursorCodec;
  publicUrl: string;
}

const clientSchema = {
  type: 'object',
  required: ['id', 'scopes', 'createdAt', 'createdBy'],
  properties: {
    id: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string', enum: [...DOOR_SCOPES] } },
    createdAt: { type: 'string', format: 'date-time' },
    createdBy: { type: 'string' },
    revokedAt: { type: 'string', format: 'date-time' },
    revokedBy: { type: 'string' },
  },
} as const;

const clientIdParams = {
  type: 'object',
  required: ['clientId'],
  properties: { clientId: { type: 'string', pattern: CLIENT_ID_PATTERN.source } },
} as const;

/**
 * The door's client administration, for `admin` clients: `POST /clients` (the secret is in this answer
 * only), `GET /clients` (a collection), `GET /clients/{clientId}`, `POST /clients/{clientId}/revoke`
 * (its tokens stop working at once).
 *
 * @example
 * ```ts
 * await app.register(clientsRoutes, { clients, cursors, publicUrl });
 * ```
 */
export const clientsRoutes: FastifyPluginCallback<ClientsRoutesOptions> = (app, options, done) => {
  const { clients } = options;
  app.post(
    '/clients',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Create a client (a calling system) and its secret',
        tags: ['access'],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'scopes'],
          properties: {
            id: { type: 'string', pattern: CLIENT_ID_PATTERN.source },
            scopes: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', enum: [...DOOR_SCOPES] },
            },
          },
        },
        response: {
          201: {
            description: 'The client, and its secret: shown this once.',
            type: 'object',
            required: [...clientSchema.required, 'secret'],
            properties: { ...clientSchema.properties, secret: { type: 'string' } },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { id: string; scopes: (typeof DOOR_SCOPES)[number][] };
      const { client, secret } = await clients.create({ ...body, createdBy: request.client.id });
      request.log.info(
        { client: client.id, scopes: client.scopes, by: request.client.id },
        'door client created',
      );
      return reply
        .code(201)
        .header('location', `/clients/${client.id}`)
        .send({ ...client, secret });
    },
  );
  app.get(
    '/clients',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "The door's clients",
        tags: ['access'],
        querystring: pageQuerySchema(),
        response: { 200: collectionSchema(clientSchema) },
      },
    },
    async (request) => {
      const query = request.query as { pageSize: number; cursor?: string };
      const collection = CursorCodec.collectionOf(request);
      const after = query.cursor ? options.cursors.decode<string>(collection, query.cursor) : '';
      const all = (await clients.list()).filter((c) => c.id > after);
      const items = all.slice(0, query.pageSize);
      return collectionPage(request, {
        publicUrl: options.publicUrl,
        cursors: options.cursors,
        items,
        pageSize: query.pageSize,
        ...(all.length > items.length ? { nextPosition: items[items.length - 1]?.id } : {}),
      });
    },
  );
  app.get(
    '/clients/:clientId',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'A client',
        tags: ['access'],
        params: clientIdParams,
        response: { 200: clientSchema },
      },
    },
    async (request) => {
      const { clientId } = request.params as { clientId: string };
      const client = await clients.get(clientId);
      if (!client) {
        throw new DoorError('ERR_CLIENT_NOT_FOUND', 'No client of this door has this id.', {
          details: { in: 'path', name: 'clientId' },
        });
      }
      return client;
    },
  );
  app.post(
    '/clients/:clientId/revoke',
    {
      config: { scope: 'admin' },
      schema: {
        summary: 'Revoke a client: its tokens stop working at once',
        tags: ['access'],
        params: clientIdParams,
        response: { 200: clientSchema },
      },
    },
    async (request) => {
      const { clientId } = request.params as { clientId: string };
      const client = await clients.revoke(clientId, request.client.id);
      request.log.info({ client: client.id, by: request.client.id }, 'door client revoked');
      return client;
    },
  );
  done();
};
