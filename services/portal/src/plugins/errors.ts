import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { errorBody, errorStatus } from '../http-errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The dossier this request opened, named in a 5xx answer so that it can be followed (empty if none). */
    openedDossier: string;
  }
}

const errorsPluginCallback: FastifyPluginCallback = (app, _options, done) => {
  app.decorateRequest('openedDossier', '');
  app.setErrorHandler(async (err, request, reply) => {
    const status = errorStatus(err);
    const body = errorBody(err);
    // the application's dossier stays after a failure to publish it: the answer names it
    if (status >= 500 && request.openedDossier) body.dossierId = request.openedDossier;
    if (status >= 500)
      request.log.error(
        { code: body.code, err: { name: (err as Error).name }, dossierId: body.dossierId },
        'request failed',
      );
    else request.log.info({ code: body.code, status }, 'request refused');
    if (status === 401) void reply.header('www-authenticate', 'Bearer');
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler(async (_request, reply) =>
    reply.status(404).send({ code: 'ERR_REQUEST_INVALID', message: 'No such route.' }),
  );
  done();
};

/**
 * Fastify's `frameworkErrors` option: what the router refuses before any route or hook runs (a path whose
 * `%xx` do not decode) answers in the same format, `400 ERR_REQUEST_INVALID`, without echoing the path.
 *
 * @example
 * ```ts
 * const app = fastify({ frameworkErrors });
 * ```
 */
export function frameworkErrors(err: Error, _request: FastifyRequest, reply: FastifyReply): void {
  void reply.status(errorStatus(err)).send(errorBody(err));
}

/**
 * The portal's error answers for the whole app: `{ code, message, errors? }` with the catalogue code's
 * status (`http-errors.ts`), `WWW-Authenticate: Bearer` on a 401, and a fixed 404 for a path no route has.
 *
 * @example
 * ```ts
 * await app.register(errorsPlugin);
 * ```
 */
export const errorsPlugin = fp(errorsPluginCallback, { fastify: '5.x', name: 'passerelle-portal-errors' });
