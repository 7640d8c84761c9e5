import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { createAuthenticator } from '../auth.js';
import type { PortalIntegrator } from '../config.js';
import { PortalError } from '../portal-error.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * `true` on a route anyone may call without a token (the probes, the OpenAPI document). Every other
     * route, whatever its path, is authenticated by {@link authPlugin}.
     */
    public?: boolean;
  }
  interface FastifyRequest {
    /**
     * The authenticated integrator's name. Reading it on a request that was not authenticated (a public
     * route) throws `ERR_UNAUTHENTICATED`: it is never empty.
     */
    readonly integrator: string;
  }
}

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  /** Who may call the API (names and token hashes, checked by `assertPortalConfig`). */
  integrators: readonly PortalIntegrator[];
}

const notAuthenticated = (): PortalError =>
  new PortalError('ERR_UNAUTHENTICATED', 'A bearer token is required (Authorization: Bearer <token>).');

const authPluginCallback: FastifyPluginCallback<AuthPluginOptions> = (app, options, done) => {
  const authenticate = createAuthenticator(options.integrators);
  const integrators = new WeakMap<FastifyRequest, string>();

  app.decorateRequest('integrator', {
    getter(this: FastifyRequest): string {
      const integrator = integrators.get(this);
      if (!integrator) throw notAuthenticated();
      return integrator;
    },
  });

  // The route the router matched decides, never the request's raw text: the router decodes `%xx`, and
  // the same route is reached through many spellings of its path.
  app.addHook('onRequest', (request, _reply, next) => {
    // no route: the not-found handler answers, the same for everyone and without any data
    if (request.is404 || request.routeOptions.config.public === true) return next();
    try {
      const integrator = authenticate(request.headers.authorization);
      if (!integrator) return next(notAuthenticated());
      integrators.set(request, integrator);
      next();
    } catch (err) {
      next(err as Error);
    }
  });
  done();
};

/**
 * Authenticates every route of the app by its bearer token, unless the route's config says
 * `{ public: true }`: deny by default. Registered at the root (not encapsulated), before the routes, it
 * also covers the routes of child scopes. A request that matches no route is left to the not-found handler.
 *
 * @example
 * ```ts
 * await app.register(authPlugin, { integrators: config.integrators });
 * app.get('/healthz', { config: { public: true } }, () => ({ status: 'ok' }));
 * app.get('/v1/dossiers/:dossierId', (request) => dossiers.getOwned(id, request.integrator));
 * ```
 */
export const authPlugin = fp(authPluginCallback, { fastify: '5.x', name: 'passerelle-portal-auth' });
