import { type Problem, problemsPlugin } from '@passerelle/door';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/** The dossier each request opened, while it may still fail: a 5xx answer names it. */
const opened = new WeakMap<FastifyRequest, string>();

/**
 * Records that `request` opened `dossierId` (or, with `undefined`, that the dossier it opened is gone):
 * from then on a 5xx answer to it names the dossier, which the portal keeps because the application may
 * have reached the administrations, and which a retry with the same `Idempotency-Key` goes on with.
 */
export function markOpenedDossier(request: FastifyRequest, dossierId: string | undefined): void {
  if (dossierId === undefined) opened.delete(request);
  else opened.set(request, dossierId);
}

/** The portal's members of a problem: the dossier a failed application opened (`dossierId`). */
function members(request: FastifyRequest, problem: Problem): Record<string, unknown> | undefined {
  const dossierId = opened.get(request);
  return problem.status >= 500 && dossierId ? { dossierId } : undefined;
}

/** Options of {@link portalProblemsPlugin}. */
export interface PortalProblemsOptions {
  /** Named in `WWW-Authenticate` challenges: the portal's participant id. */
  realm: string;
}

const plugin: FastifyPluginAsync<PortalProblemsOptions> = async (app, options) => {
  await app.register(problemsPlugin, { realm: options.realm, members });
};

/**
 * Every error of the portal as an RFC 9457 `application/problem+json` typed per the Belgif REST guide (the
 * door's `problemsPlugin`): the catalogue's code as the `code` member, body issues named by JSON pointer,
 * a fixed `resourceNotFound` for a path no route has, nothing of a 5xx's cause — and on a 5xx answer to an
 * application, the `dossierId` it opened ({@link markOpenedDossier}).
 *
 * @example
 * ```ts
 * await app.register(portalProblemsPlugin, { realm: 'portal-wib' });
 * ```
 */
export const portalProblemsPlugin = fp(plugin, { fastify: '5.x', name: 'passerelle-portal-problems' });
