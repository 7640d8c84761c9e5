import type { OperationsProbes } from '@passerelle/exchange';
import type { FastifyPluginCallback } from 'fastify';

/** Options of {@link healthPlugin}. */
export interface HealthPluginOptions {
  participant: string;
  probes: Required<OperationsProbes>;
}

const probeAnswer = {
  type: 'object',
  required: ['status', 'participant'],
  properties: { status: { type: 'string' }, participant: { type: 'string' } },
} as const;

/**
 * The probes, public and unauthenticated: `GET /healthz` (liveness: 503 once the exchange's connection has
 * closed for good) and `GET /readyz` (200 when the portal's exchange is connected and JetStream answers).
 * They give the status only: the reasons, which name internal consumers, are on the loopback operations
 * port; and however many ask, JetStream is probed once a second at most (the probes' own cache).
 *
 * @example
 * ```ts
 * await app.register(healthPlugin, { participant, probes });
 * ```
 */
export const healthPlugin: FastifyPluginCallback<HealthPluginOptions> = (app, options, done) => {
  const { participant, probes } = options;
  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: {
        summary: 'Liveness',
        tags: ['health'],
        response: { 200: probeAnswer, 503: probeAnswer },
      },
    },
    (_request, reply) => {
      const failed = probes.failure() !== undefined;
      return reply
        .code(failed ? 503 : 200)
        .header('cache-control', 'no-store')
        .send({ status: failed ? 'failed' : 'ok', participant });
    },
  );
  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        summary: 'Readiness: the exchange is connected and JetStream answers',
        tags: ['health'],
        response: { 200: probeAnswer, 503: probeAnswer },
      },
    },
    async (_request, reply) => {
      const [readiness] = await probes.readiness();
      const ready = readiness?.ready === true;
      return reply
        .code(ready ? 200 : 503)
        .header('cache-control', 'no-store')
        .send({ status: ready ? 'ready' : 'not ready', participant });
    },
  );
  done();
};
