import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { DoorError } from './door-error.js';
import { requestFingerprint } from './fingerprint.js';
import {
  type IdempotencyStore,
  type IdempotentRun,
  type StoredAnswer,
  assertIdempotencyKey,
} from './idempotency-store.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `true` on a POST route that must be idempotent: `Idempotency-Key` is required. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /**
     * On an idempotent route, the request's key and its run id: the same for every retry of the same
     * request, so that what a handler derives from it (event ids, message ids) is the same on a rerun.
     */
    readonly idempotency: { key: string; runId: string } | undefined;
  }
}

/** Options of {@link idempotencyPlugin}. */
export interface IdempotencyPluginOptions {
  store: IdempotencyStore;
}

/** The answer headers a replay gives again. */
const REPLAYED_HEADERS = ['content-type', 'location'];

const idempotencyPluginCallback: FastifyPluginCallback<IdempotencyPluginOptions> = (app, options, done) => {
  const runs = new WeakMap<FastifyRequest, IdempotentRun & { key: string }>();

  app.decorateRequest('idempotency', {
    getter(this: FastifyRequest) {
      const run = runs.get(this);
      return run ? { key: run.key, runId: run.runId } : undefined;
    },
  });

  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.config?.idempotent === true && methods.some((m) => m !== 'POST')) {
      throw new DoorError('ERR_CONFIG_INVALID', `Route ${route.url}: only POST routes are made idempotent.`, {
        details: { setting: 'idempotent' },
      });
    }
  });

  // After authentication and schema validation: the key is the client's, the body is known good.
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.idempotent !== true) return;
    const key = assertIdempotencyKey(request.headers['idempotency-key']);
    const fingerprint = requestFingerprint(
      request.method,
      request.routeOptions.url ?? '',
      request.params,
      request.body,
    );
    const start = await options.store.begin(request.client.id, key, fingerprint);
    if (start.kind === 'replay') {
      request.log.info({ status: start.answer.status }, 'idempotent request replayed');
      return reply
        .code(start.answer.status)
        .headers(start.answer.headers)
        .header('idempotent-replayed', 'true')
        .send(start.answer.body);
    }
    runs.set(request, { ...start, key });
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const run = runs.get(request);
    if (!run) return payload;
    runs.delete(request);
    const status = reply.statusCode;
    if (status >= 500 || (typeof payload !== 'string' && !Buffer.isBuffer(payload))) {
      // a failure, or an answer that cannot be kept (a stream): the retry runs again, under the same id
      await options.store.fail(run);
      return payload;
    }
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const value = reply.getHeader(name);
      if (typeof value === 'string') headers[name] = value;
    }
    const answer: StoredAnswer = { status, headers, body: payload.toString() };
    try {
      await options.store.complete(run, answer);
    } catch (err) {
      // the action is done and its answer goes out; a retry will run it again under the same run id
      request.log.error({ code: (err as { code?: unknown }).code }, 'idempotency record not completed');
    }
    return payload;
  });
  done();
};

/**
 * `Idempotency-Key` for the POST routes whose config says `{ idempotent: true }` (register after
 * {@link accessPlugin}: records are per client). The first request's answer (status, body, content type,
 * location) is kept under the client and key with the request's fingerprint; a retry gets it again (with
 * `Idempotent-Replayed: true`) and the handler does not run; the same key with another request is 422, one
 * in progress 409; a 5xx is not kept, and the retry runs again with the same `request.idempotency.runId`.
 *
 * @example
 * ```ts
 * await app.register(idempotencyPlugin, { store });
 * app.post('/dossiers/:id/decisions', { config: { scope: 'decide', idempotent: true } }, handler);
 * ```
 */
export const idempotencyPlugin = fp(idempotencyPluginCallback, {
  fastify: '5.x',
  name: 'passerelle-door-idempotency',
});
