import { type Server, type ServerResponse, createServer } from 'node:http';
import { PasserelleError } from '@passerelle/errors';
import { Registry } from 'prom-client';
import { collectMetrics } from './metrics.js';
import type { Readiness } from './types.js';

// The operations' HTTP server stands beside the runtime: a process hosting several exchanges serves one.

/** Probes served beside the metrics by {@link serveMetrics}. */
export interface OperationsProbes {
  /**
   * The readiness of what the process runs (each hosted participant's {@link Exchange.readiness}):
   * `GET /readyz` answers 200 when every one is ready, else 503, with the list either way.
   */
  readiness?: () => Promise<readonly Readiness[]>;
  /**
   * Why the process can no longer work and should be restarted (an {@link Exchange.failure}), or
   * `undefined`: `GET /healthz` answers 503 with it, else 200.
   */
  failure?: () => string | undefined;
}

/**
 * Serves on a loopback port (0 picks one) `GET /metrics`: one registry, or several merged at each scrape
 * ({@link collectMetrics}); `GET /healthz`, a liveness probe: 200 while the process answers and can still
 * work, 503 once `probes.failure` names why it cannot (its connection closed for good: restart it); and,
 * given `probes.readiness`, `GET /readyz`: 200 or 503 with each participant's readiness (a readiness probe:
 * a process that is up but cannot reach JetStream for now is taken out of rotation, not restarted). `HEAD`
 * is answered like `GET`, without the body; other methods get 405. Returns the server and the port.
 *
 * @example
 * ```ts
 * const { port, close } = await serveMetrics(exchange.metrics.registry, 9464, '127.0.0.1', {
 *   readiness: async () => [await exchange.readiness()],
 *   failure: () => exchange.failure(),
 * });
 * ```
 */
export async function serveMetrics(
  registry: Registry | readonly Registry[],
  port = 0,
  host = '127.0.0.1',
  probes: OperationsProbes = {},
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const registries = Array.isArray(registry) ? registry : [registry as Registry];
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const known = path === '/metrics' || path === '/healthz' || (path === '/readyz' && !!probes.readiness);
    if (!known) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' });
      res.end();
      return;
    }
    if (path === '/metrics') {
      collectMetrics(registries)
        .then((body) => {
          res.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
      return;
    }
    if (path === '/healthz') {
      const failure = probes.failure?.();
      return failure === undefined
        ? json(res, 200, { status: 'ok' })
        : json(res, 503, { status: 'failed', reason: failure });
    }
    probes.readiness!()
      .then((participants) => {
        const ready = participants.every((p) => p.ready);
        json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', participants });
      })
      .catch(() => json(res, 503, { status: 'not ready' }));
  });
  // a port in use is an error of the caller's start-up (with a clear code), not an uncaught exception
  await new Promise<void>((resolve, reject) => {
    const refuse = (err: NodeJS.ErrnoException): void =>
      reject(
        new PasserelleError(
          'ERR_CONFIG_INVALID',
          `The metrics port ${port} on ${host} cannot be listened on (${err.code ?? err.name}).`,
          { details: { setting: 'metricsPort' }, cause: err },
        ),
      );
    server.once('error', refuse);
    server.listen(port, host, () => {
      server.off('error', refuse);
      resolve();
    });
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
