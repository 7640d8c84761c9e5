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
