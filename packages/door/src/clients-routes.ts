import type { FastifyPluginCallback } from 'fastify';
import { CLIENT_ID_PATTERN, type ClientStore } from './client-store.js';
import { CursorCodec, collectionPage, collectionSchema, pageQuerySchema } from './collection.js';
import { DoorError } from './door-error.js';
import { pathParams, scopedRoutes } from './route-options.js';
import { createdWithSecret, withSecretSchema } from './secret-answer.js';
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

const clientIdParams = pathParams('clientId', CLIENT_ID_PATTERN);

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
  const admin = scopedRoutes('admin', 'access');
  app.post(
    '/clients',
    admin('Create a client (a calling system) and its secret', {
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
      response: { 201: withSecretSchema(clientSchema, 'The client, and its secret: shown this once.') },
    }),
    async (request, reply) => {
      const body = request.body as { id: string; scopes: (typeof DOOR_SCOPES)[number][] };
      const { client, secret } = await clients.create({ ...body, createdBy: request.client.id });
      request.log.info(
        { client: client.id, scopes: client.scopes, by: request.client.id },
        'door client created',
      );
      return createdWithSecret(reply, `/clients/${client.id}`, client, secret);
    },
  );
  app.get(
    '/clients',
    admin("The door's clients", {
      querystring: pageQuerySchema(),
      response: { 200: collectionSchema(clientSchema) },
    }),
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
  const oneClient = { params: clientIdParams, response: { 200: clientSchema } };
  app.get('/clients/:clientId', admin('A client', oneClient), async (request) => {
    const { clientId } = request.params as { clientId: string };
    const client = await clients.get(clientId);
    if (!client) {
      throw new DoorError('ERR_CLIENT_NOT_FOUND', 'No client of this door has this id.', {
        details: { in: 'path', name: 'clientId' },
      });
    }
    return client;
  });
  app.post(
    '/clients/:clientId/revoke',
    admin('Revoke a client: its tokens stop working at once', oneClient),
    async (request) => {
      const { clientId } = request.params as { clientId: string };
      const client = await clients.revoke(clientId, request.client.id);
      request.log.info({ client: client.id, by: request.client.id }, 'door client revoked');
      return client;
    },
  );
  done();
};
