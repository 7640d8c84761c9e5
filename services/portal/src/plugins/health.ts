import type { OperationsProbes } from '@passerelle/exchange';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';

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

/** A probe route's options: public, described by `summary`, answering 200 or 503 with {@link probeAnswer}. */
const probeRoute = (summary: string) =>
  ({
    config: { public: true },
    schema: { summary, tags: ['health'], response: { 200: probeAnswer, 503: probeAnswer } },
  }) as const;

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
  /** A probe's answer, never cached: 200 when `up`, else 503, and the status only. */
  const answer = (reply: FastifyReply, up: boolean, status: string) =>
    reply
      .code(up ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status, participant });
  app.get('/healthz', probeRoute('Liveness'), (_request, reply) => {
    const failed = probes.failure() !== undefined;
    return answer(reply, !failed, failed ? 'failed' : 'ok');
  });
  app.get(
    '/readyz',
    probeRoute('Readiness: the exchange is connected and JetStream answers'),
    async (_request, reply) => {
      const [readiness] = await probes.readiness();
      const ready = readiness?.ready === true;
      return answer(reply, ready, ready ? 'ready' : 'not ready');
    },
  );
  done();
};
