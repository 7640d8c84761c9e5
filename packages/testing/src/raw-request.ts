import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { RequestOptions } from 'node:https';

/** What a server answered to a {@link rawRequest}. */
export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Sends one request exactly as `options` give it (fetch would normalise the target and the headers) with
 * `send`, node:http's or node:https's `request`, and reads the whole answer.
 *
 * @example
 * ```ts
 * const answer = await rawRequest(request, { host: '127.0.0.1', port, method: 'GET', path: '/a/../b' });
 * ```
 */
export function rawRequest(
  send: (options: RequestOptions, answer: (res: IncomingMessage) => void) => ClientRequest,
  options: RequestOptions,
  body?: string | Buffer,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = send(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
