import { type Server, type ServerResponse, createServer } from 'node:http';
import { PasserelleError } from '@passerelle/errors';
import type { Readiness } from './types.js';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The exchange's Prometheus metrics, one registry per process. */
export interface ExchangeMetrics {
  readonly registry: Registry;
  readonly sent: Counter<'type'>;
  readonly received: Counter<'type'>;
  readonly rejected: Counter<'code'>;
  readonly redeliveries: Counter;
  readonly duplicates: Counter;
  readonly receiptsReceived: Counter;
  readonly handlerSeconds: Histogram<'type'>;
  readonly consumerPending: Gauge<'consumer'>;
  /**
   * Read when the registry is collected (each scrape of `/metrics`): each sets `consumerPending` for one
   * subscribed consumer. An exchange adds its own while its inbox is subscribed.
   */
  readonly pendingProbes: Set<() => Promise<void>>;
}

/** How long a scrape waits for the server's consumer counts before it reports the last ones. */
const PROBE_TIMEOUT_MS = 2_000;

/** Creates the metrics of one exchange process (`participant` becomes a default label). */
export function createExchangeMetrics(
  participant: string,
  options: { defaultMetrics?: boolean } = {},
): ExchangeMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ participant });
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const pendingProbes = new Set<() => Promise<void>>();
  return {
    pendingProbes,
    registry,
    sent: new Counter({
      name: 'pex_messages_sent_total',
      help: 'Envelopes published',
      labelNames: ['type'],
      registers: [registry],
    }),
    received: new Counter({
      name: 'pex_messages_received_total',
      help: 'Envelopes handled successfully',
      labelNames: ['type'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'pex_messages_rejected_total',
      help: 'Messages sent to DEADLETTER, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    redeliveries: new Counter({
      name: 'pex_redeliveries_total',
      help: 'Deliveries after the first',
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'pex_duplicates_total',
      help: 'Deliveries of an id already handled (handler not run again)',
      registers: [registry],
    }),
    receiptsReceived: new Counter({
      name: 'pex_receipts_received_total',
      help: 'Verified receipts for sent messages',
      registers: [registry],
    }),
    handlerSeconds: new Histogram({
      name: 'pex_handler_duration_seconds',
      help: 'Handler latency',
      labelNames: ['type'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    consumerPending: new Gauge({
      name: 'pex_consumer_pending',
      help: 'Messages waiting in the participant consumer (read from the server at each collection)',
      labelNames: ['consumer'],
      registers: [registry],
      async collect() {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, PROBE_TIMEOUT_MS)));
        await Promise.race([Promise.allSettled([...pendingProbes].map((probe) => probe())), late]);
        clearTimeout(timer);
      },
    }),
  };
}

/**
 * The metrics of several registries as one exposition, collected now: the registries of the exchanges one
 * process hosts (one per participant id, told apart by their `participant` label).
 */
export async function collectMetrics(registries: readonly Registry[]): Promise<string> {
  if (registries.length === 1) return registries[0]!.metrics();
  const merged = AggregatorRegistry.aggregate(await Promise.all(registries.map((r) => r.getMetricsAsJSON())));
  return merged.metrics();
}

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
