import { randomUUID } from 'node:crypto';
import type { FastifyServerOptions } from 'fastify';
import { doorFrameworkErrors } from './problems-plugin.js';

/**
 * The fastify options a door needs, to spread into the app's own (its logger, its body limit):
 * - schema validation that reports every bad input (`allErrors`; bodies are bounded by the body limit)
 *   and refuses unknown members instead of silently dropping them (`removeAdditional: false`);
 * - query parameters coerced from text, repeated ones as arrays (`coerceTypes: 'array'`);
 * - a UUID per request (`request.id`), which the problems' log lines carry;
 * - router refusals (undecodable `%xx`) answered as problems.
 *
 * @example
 * ```ts
 * const app = fastify({ ...doorServerOptions(), logger: { level: 'info' } });
 * ```
 */
export function doorServerOptions(): FastifyServerOptions {
  return {
    frameworkErrors: doorFrameworkErrors,
    genReqId: () => randomUUID(),
    ajv: {
      customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true },
    },
  };
}
