import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { DoorAccess, DoorClient } from './access.js';
import { DoorError } from './door-error.js';
import { OFFICER_HEADER, parseOfficer } from './officer.js';
import { type DoorScope, isDoorScope } from './scopes.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `true` on a route anyone may call without a token (the token endpoint, `/openapi.json`, probes). */
    public?: boolean;
    /** The scope a door route requires. A route with neither `scope` nor `public: true` is refused. */
    scope?: DoorScope;
    /** `true` on a route whose action records the officer who took it: `Passerelle-Officer` is required. */
    officer?: boolean;
  }
  interface FastifyRequest {
    /**
     * The calling system of an authenticated door request. Reading it on a public route throws
     * `ERR_ACCESS_TOKEN_MISSING`: it is never empty.
     */
    readonly client: DoorClient;
    /** The pseudonymous officer id of `Passerelle-Officer`, on routes that require it (else if given). */
    readonly officer: string | undefined;
  }
}

/** Options of {@link accessPlugin}. */
export interface AccessPluginOptions {
  access: DoorAccess;
}

const accessPluginCallback: FastifyPluginCallback<AccessPluginOptions> = (app, options, done) => {
  const clients = new WeakMap<FastifyRequest, DoorClient>();
  const officers = new WeakMap<FastifyRequest, string>();

  app.decorateRequest('client', {
    getter(this: FastifyRequest): DoorClient {
      const client = clients.get(this);
      if (!client) throw new DoorError('ERR_ACCESS_TOKEN_MISSING', 'This request was not authenticated.');
      return client;
    },
  });
  app.decorateRequest('officer', {
    getter(this: FastifyRequest): string | undefined {
      return officers.get(this);
    },
  });

  // Deny by default, decided at start-up too: a route that does not say who may call it is a mistake.
  app.addHook('onRoute', (route) => {
    const config = (route.config ?? {}) as { public?: unknown; scope?: unknown };
    if (config.public !== true && !isDoorScope(config.scope)) {
      throw new DoorError(
        'ERR_ROUTE_UNGUARDED',
        `Route ${route.method.toString()} ${route.url} says neither { scope: 'read' | 'decide' | 'admin' } nor { public: true }.`,
      );
    }
  });

  // The route the router matched decides, never the request's raw text: the router decodes `%xx`, and
  // the same route is reached through many spellings of its path.
  app.addHook('onRequest', async (request) => {
    // no route: the not-found handler answers, the same for everyone
    if (request.is404) return;
    const config = request.routeOptions.config;
    if (config.public === true) return;
    const client = await options.access.authenticate(request.headers.authorization);
    clients.set(request, client);
    const scope = config.scope;
    if (!isDoorScope(scope)) {
      throw new DoorError('ERR_ROUTE_UNGUARDED', 'This operation is open to no client.');
    }
    if (!client.scopes.includes(scope)) {
      throw new DoorError('ERR_SCOPE_MISSING', `This operation needs the ${scope} scope.`, {
        details: { requiredScopes: [scope] },
      });
    }
    const officer = parseOfficer(request.headers[OFFICER_HEADER.toLowerCase()]);
    if (officer) officers.set(request, officer);
    else if (config.officer === true) {
      throw new DoorError(
        'ERR_OFFICER_INVALID',
        `${OFFICER_HEADER} is required: it records who takes this action.`,
        {
          details: { in: 'header', name: OFFICER_HEADER },
        },
      );
    }
  });
  done();
};

/**
 * Access to a door's routes by client credentials, decided by the matched route's config: `{ public: true }`
 * lets anyone in; `{ scope }` needs a bearer token of a live client carrying that scope (401
 * `noAccessToken`, `invalidAccessToken` or `expiredAccessToken`, 403 `missingScope`); a route with neither
 * is refused when it is added (and with 403 if it is reached anyway). `{ officer: true }` also requires a
 * pseudonymous `Passerelle-Officer`. Handlers read `request.client` and `request.officer`. Register it at
 * the root, before the routes.
 *
 * @example
 * ```ts
 * await app.register(accessPlugin, { access });
 * app.post('/dossiers/:id/decisions', { config: { scope: 'decide', officer: true } }, (request) =>
 *   decide(request.params, { client: request.client.id, officer: request.officer }),
 * );
 * ```
 */
export const accessPlugin = fp(accessPluginCallback, { fastify: '5.x', name: 'passerelle-door-access' });
