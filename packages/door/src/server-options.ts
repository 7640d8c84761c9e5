import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyServerOptions } from 'fastify';
import { PROBLEM_MEDIA_TYPE, belgifProblem } from './problem.js';
import { doorFrameworkErrors } from './problems-plugin.js';

/**
 * What the HTTP parser refuses before fastify sees a request (a request-target that is not a path, a
 * header too large): answered as a problem too, then the connection is closed.
 */
function clientErrorHandler(err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy(err);
    return;
  }
  const [status, reason] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout']
        : [400, 'Bad Request'];
  const body = JSON.stringify(
    belgifProblem('badRequest', { status, title: reason, detail: 'The request is malformed.' }),
  );
  // an answer to HEAD has no body, even this one
  const packet: unknown = err.rawPacket;
  const head = Buffer.isBuffer(packet) && packet.subarray(0, 5).toString('latin1') === 'HEAD ';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
  );
}

/**
 * The fastify options a door needs, to spread into the app's own (its logger, its body limit):
 * - schema validation that reports every bad input (`allErrors`; bodies are bounded by the body limit)
 *   and refuses unknown members instead of silently dropping them (`removeAdditional: false`);
 * - query parameters coerced from text, repeated ones as arrays (`coerceTypes: 'array'`);
 * - a UUID per request (`request.id`), which the problems' log lines carry;
 * - router refusals (undecodable `%xx`) and the HTTP parser's (a request-target that is not a path)
 *   answered as problems.
 *
 * @example
 * ```ts
 * const app = fastify({ ...doorServerOptions(), logger: { level: 'info' } });
 * ```
 */
export function doorServerOptions(): FastifyServerOptions {
  return {
    frameworkErrors: doorFrameworkErrors,
    clientErrorHandler,
    genReqId: () => randomUUID(),
    ajv: {
      customOptions: { allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true },
    },
  };
}
