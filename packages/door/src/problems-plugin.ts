import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { PROBLEM_MEDIA_TYPE, type Problem, belgifProblem } from './problem.js';
import { toProblem } from './to-problem.js';

/**
 * Extension members a service adds to the problem of a failed request (say, the resource the request
 * opened before it failed, which a retry goes on with). Members the problem has already are kept as they are.
 */
export type ProblemMembers = (
  request: FastifyRequest,
  problem: Problem,
) => Record<string, unknown> | undefined;

/** Options of {@link problemsPlugin}. */
export interface ProblemsPluginOptions {
  /** Named in `WWW-Authenticate` challenges: the door's name. */
  realm: string;
  /** Extension members the service adds to a request's problem. */
  members?: ProblemMembers;
}

/** Sends a problem: its status, its headers, `application/problem+json`. */
function send(
  reply: FastifyReply,
  status: number,
  headers: Record<string, string>,
  body: object,
): FastifyReply {
  return reply.code(status).headers(headers).type(PROBLEM_MEDIA_TYPE).send(JSON.stringify(body));
}

const problemsPluginCallback: FastifyPluginCallback<ProblemsPluginOptions> = (app, options, done) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = toProblem(err, {
      realm: options.realm,
      bodyLimit: request.routeOptions.bodyLimit,
    });
    const { headers } = answer;
    const extra = options.members?.(request, answer.problem) ?? {};
    const problem: Problem = { ...extra, ...answer.problem };
    const code = problem.code ?? (err as { code?: unknown }).code;
    if (problem.status >= 500) {
      // the answer says nothing of the cause; the log has where it came from, found by the problem's
      // instance, but not its message, which may quote data the request carried
      const frames = (err.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
      request.log.error(
        {
          instance: problem.instance,
          code,
          ...extra,
          err: { name: err.name, stack: frames.join('\n') },
        },
        'request failed',
      );
    } else {
      request.log.info({ instance: problem.instance, code, status: problem.status }, 'request refused');
    }
    return send(reply, problem.status, headers, problem);
  });
  // No route: one answer for everyone, whatever the path, the method or the credentials, echoing nothing.
  app.setNotFoundHandler((_request, reply) =>
    send(reply, 404, {}, belgifProblem('resourceNotFound', { detail: 'No such resource.' })),
  );
  done();
};

/**
 * Every error of the app answered as an RFC 9457 problem typed per the Belgif REST guide (see
 * {@link toProblem}), `WWW-Authenticate` on access refusals, `Retry-After` when the problem says when to
 * retry, and one fixed `resourceNotFound` for any request no route matches. 5xx problems say nothing of
 * their cause; it is logged with the problem's `instance`.
 *
 * @example
 * ```ts
 * const app = fastify(doorServerOptions());
 * await app.register(problemsPlugin, { realm: 'region-bruxelles' });
 * ```
 */
export const problemsPlugin = fp(problemsPluginCallback, {
  fastify: '5.x',
  name: 'passerelle-door-problems',
});

/**
 * Fastify's `frameworkErrors` option: what the router refuses before any route or hook runs (a path whose
 * `%xx` do not decode) is a `badRequest` problem too, without echoing the path.
 *
 * @example
 * ```ts
 * const app = fastify({ frameworkErrors: doorFrameworkErrors });
 * ```
 */
export function doorFrameworkErrors(_err: Error, _request: FastifyRequest, reply: FastifyReply): void {
  void send(reply, 400, {}, belgifProblem('badRequest', { detail: 'The request is malformed.' }));
}
