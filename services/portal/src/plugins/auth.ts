import { type Door, accessPlugin, clientsRoutes, tokenRoute } from '@passerelle/door';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The integrator of an authenticated request: the id of the door client it called as. Dossiers and
     * uploads belong to it. Reading it on a public route throws `ERR_ACCESS_TOKEN_MISSING`: it is never
     * empty.
     */
    readonly integrator: string;
  }
}

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  door: Door;
}

const plugin: FastifyPluginAsync<AuthPluginOptions> = async (app, { door }) => {
  await app.register(accessPlugin, { access: door.access });
  app.decorateRequest('integrator', {
    getter(this: FastifyRequest): string {
      return this.client.id;
    },
  });
  await app.register(tokenRoute, {
    access: door.access,
    ...(door.options.tokenRateLimit ? { rateLimit: door.options.tokenRateLimit } : {}),
  });
  await app.register(clientsRoutes, {
    clients: door.clients,
    cursors: door.cursors,
    publicUrl: door.options.publicUrl,
  });
};

/**
 * Who may call the portal: integrators are the door's clients (OAuth 2.0 client credentials,
 * `POST /oauth2/token`), each with its scopes — `read` to list and read its dossiers and their events,
 * `decide` to upload documents, submit applications and add to them; `admin` clients manage the others
 * (`/clients`). Deny by default, decided by the route the router matched (the door's `accessPlugin`): a
 * route whose config says neither a scope nor `{ public: true }` is refused when it is added, a path spelt
 * another way that still reaches a route needs that route's token and scope, and a path no route has gets
 * the one fixed `resourceNotFound`. Registered at the root, before the routes.
 *
 * @example
 * ```ts
 * await app.register(authPlugin, { door });
 * app.get('/v1/dossiers/:dossierId', { config: { scope: 'read' } }, (request) => read(request.integrator));
 * ```
 */
export const authPlugin = fp(plugin, { fastify: '5.x', name: 'passerelle-portal-auth' });
