import type { JetStreamManager } from '@nats-io/jetstream';
import type { LedgerWriter, Timestamper, TsaTrust } from '@passerelle/audit';
import { StreamNames } from '@passerelle/exchange';
import { Counter, Gauge, Registry } from 'prom-client';
import type { RecorderStats } from './recorder.js';
import type { ReceiptWatch } from './receipt-watch.js';
import type { ReplayWatch } from './replay-watch.js';

/** A participant's keys as the directory lists them (the directory client's and file's `list()`). */
export interface ListedParticipant {
  id: string;
  signing: readonly { kid?: string; notAfter?: string }[];
  encryption: readonly { kid?: string; notAfter?: string }[];
}

/** What the auditor's metrics read at each scrape. */
export interface AuditorMetricSources {
  jsm: JetStreamManager;
  consumerName: string;
  writer: Pick<LedgerWriter, 'oldestPendingAt' | 'lastCheckpoint'>;
  recorderStats: () => RecorderStats;
  receipts: ReceiptWatch;
  /** Envelopes stored again after their receipt was recorded, by recipient. */
  replays: ReplayWatch;
  timestamper?: Timestamper;
  /** The TSA roots the auditor trusts: their expiry is exported. */
  tsaTrust?: TsaTrust;
  /** The directory's participants (a directory client lists them; an offline file too). */
  participants?: () => readonly ListedParticipant[];
  /** Seconds since the oldest entry not yet archived was recorded; undefined when archiving is off. */
  archiveLagSeconds?: () => Promise<number>;
  /** When the last archive segment was written (ms since the epoch). */
  lastArchiveAt?: () => number | undefined;
  now?: () => number;
}

/** Streams the auditor may read the state of (its permissions allow these two). */
const STREAMS = [StreamNames.ledger, StreamNames.deadLetter] as const;

/**
 * The auditor's Prometheus metrics, read when scraped: how far it is behind EXCHANGE, how late its
 * checkpoints, timestamps and archives are, receipts overdue, what it recorded and refused, envelopes stored
 * again after their receipt (a recipient's replay state lost), stream and
 * account storage against their limits, and when directory keys and TSA certificates expire. The alert rules
 * of `infra/prometheus/` are written against these names.
 */
export function createAuditorMetrics(sources: AuditorMetricSources): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ participant: 'auditor' });
  const now = sources.now ?? (() => Date.now());
  registerProgressMetrics(registry, sources, now);
  registerReceiptMetrics(registry, sources, now);
  registerStorageMetrics(registry, sources.jsm);
  registerExpiryMetrics(registry, sources);
  return registry;
}

const seconds = (ms: number): number => Math.max(0, ms) / 1000;

// How far the auditor's own work lags: consuming EXCHANGE, signing checkpoints, timestamping, archiving.
function registerProgressMetrics(registry: Registry, sources: AuditorMetricSources, now: () => number): void {
  new Gauge({
    name: 'pex_auditor_exchange_pending',
    help: 'Messages of EXCHANGE the auditor has not recorded yet (its consumer: pending and unacknowledged)',
    registers: [registry],
    async collect() {
      const info = await sources.jsm.consumers.info(StreamNames.exchange, sources.consumerName);
      this.set(info.num_pending + info.num_ack_pending);
    },
  });
  new Gauge({
    name: 'pex_auditor_checkpoint_lag_seconds',
    help: 'Age of the oldest envelope or receipt waiting for a signed checkpoint (0 when none waits)',
    registers: [registry],
    collect() {
      const at = sources.writer.oldestPendingAt;
      this.set(at ? seconds(now() - at.getTime()) : 0);
    },
  });
  new Gauge({
    name: 'pex_auditor_last_checkpoint_timestamp_seconds',
    help: 'When the auditor signed its last checkpoint (Unix time; 0 before the first since start)',
    registers: [registry],
    collect() {
      const cp = sources.writer.lastCheckpoint;
      this.set(cp ? Date.parse(cp.meta.issuedAt) / 1000 : 0);
    },
  });
  new Gauge({
    name: 'pex_auditor_timestamp_lag_seconds',
    help: 'Age of the oldest checkpoint waiting for an RFC 3161 timestamp token (0 when none waits)',
    registers: [registry],
    collect() {
      this.set(sources.timestamper?.lagSeconds() ?? 0);
    },
  });
  new Gauge({
    name: 'pex_auditor_timestamp_failures',
    help: 'Failed timestamp requests in a row (0 after a success)',
    registers: [registry],
    collect() {
      this.set(sources.timestamper?.failures ?? 0);
    },
  });
  new Gauge({
    name: 'pex_auditor_timestamps_enabled',
    help: '1 when a time-stamping authority is configured',
    registers: [registry],
    collect() {
      this.set(sources.timestamper ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pex_auditor_archive_lag_seconds',
    help: 'Age of the oldest ledger entry not yet in an archive segment (0 when all are archived)',
    registers: [registry],
    async collect() {
      this.set((await sources.archiveLagSeconds?.()) ?? 0);
    },
  });
  new Gauge({
    name: 'pex_auditor_archive_enabled',
    help: '1 when the ledger is archived into segments',
    registers: [registry],
    collect() {
      this.set(sources.archiveLagSeconds ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pex_auditor_last_archive_timestamp_seconds',
    help: 'When the last archive segment was written (Unix time; 0 when none)',
    registers: [registry],
    collect() {
      this.set((sources.lastArchiveAt?.() ?? 0) / 1000);
    },
  });
}

// What the auditor recorded and what it waits for: receipts outstanding, replays, inputs by outcome.
function registerReceiptMetrics(registry: Registry, sources: AuditorMetricSources, now: () => number): void {
  new Gauge({
    name: 'pex_auditor_receipts_overdue',
    help: 'Envelopes recorded whose receipt is later than the deadline',
    registers: [registry],
    collect() {
      this.set(sources.receipts.overdue(now()));
    },
  });
  new Gauge({
    name: 'pex_auditor_receipts_waiting',
    help: 'Envelopes recorded whose receipt is not recorded yet',
    registers: [registry],
    collect() {
      this.set(sources.receipts.waiting);
    },
  });
  new Counter({
    name: 'pex_auditor_replays_total',
    help: 'Envelopes stored on EXCHANGE again after their receipt was recorded (a new copy, not a redelivery), by recipient: its replay state may be lost',
    labelNames: ['recipient'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [recipient, n] of sources.replays.byRecipient) this.inc({ recipient }, n);
    },
  });
  const recorded = new Gauge({
    name: 'pex_auditor_inputs',
    help: 'Inputs handled by the auditor since it started, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      const s = sources.recorderStats();
      recorded.set({ outcome: 'envelope' }, s.envelopes);
      recorded.set({ outcome: 'receipt' }, s.receipts);
      recorded.set({ outcome: 'duplicate' }, s.duplicates);
      recorded.set({ outcome: 'refused' }, s.deadLettered);
      recorded.set({ outcome: 'retried' }, s.retried);
    },
  });
}

// Stream and account storage against their limits, so an alert fires before JetStream refuses writes.
function registerStorageMetrics(registry: Registry, jsm: JetStreamManager): void {
  // One read of the streams' state (and of the account's) per scrape feeds several gauges, whose collect()
  // the registry runs concurrently: each awaits the same read.
  const once = <T>(read: () => Promise<T>): (() => Promise<T>) => {
    let last: { at: number; value: Promise<T> } | undefined;
    return () => {
      if (!last || Date.now() - last.at > 1_000) last = { at: Date.now(), value: read() };
      return last.value;
    };
  };
  const streams = once(() => Promise.all(STREAMS.map((stream) => jsm.streams.info(stream))));
  const account = once(() => jsm.getAccountInfo());
  const perStream = (
    name: string,
    help: string,
    pick: (info: Awaited<ReturnType<typeof streams>>[number]) => number | undefined,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames: ['stream'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const info of await streams()) {
          const v = pick(info);
          if (v !== undefined) this.set({ stream: info.config.name }, v);
        }
      },
    });
  };
  perStream('pex_stream_bytes', 'Bytes a stream stores', (i) => i.state.bytes);
  perStream('pex_stream_messages', 'Messages a stream stores', (i) => i.state.messages);
  perStream('pex_stream_max_bytes', "A stream's byte limit (absent when it has none)", (i) =>
    i.config.max_bytes > 0 ? i.config.max_bytes : undefined,
  );
  perStream(
    'pex_stream_max_age_seconds',
    "A stream's age limit (absent when it keeps messages for ever)",
    (i) => (i.config.max_age > 0 ? i.config.max_age / 1e9 : undefined),
  );
  perStream(
    'pex_stream_first_timestamp_seconds',
    'When the oldest message a stream still stores was stored (Unix time)',
    (i) => (i.state.messages > 0 ? Date.parse(i.state.first_ts) / 1000 : undefined),
  );
  new Gauge({
    name: 'pex_jetstream_storage_bytes',
    help: "JetStream file storage the exchange's account uses",
    registers: [registry],
    async collect() {
      this.set((await account()).storage);
    },
  });
  new Gauge({
    name: 'pex_jetstream_storage_limit_bytes',
    help: "The account's JetStream file storage limit (absent when unlimited)",
    registers: [registry],
    async collect() {
      this.reset();
      const limit = (await account()).limits.max_storage;
      if (limit > 0) this.set(limit);
    },
  });
}

// When directory keys and trusted TSA roots expire, so operators renew them before verification fails.
function registerExpiryMetrics(registry: Registry, sources: AuditorMetricSources): void {
  new Gauge({
    name: 'pex_directory_key_not_after_timestamp_seconds',
    help: 'When a key published in the directory stops being valid (Unix time; keys without an end are absent)',
    labelNames: ['key_owner', 'kid', 'use'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of sources.participants?.() ?? []) {
        for (const [use, keys] of [
          ['sig', p.signing],
          ['enc', p.encryption],
        ] as const) {
          for (const k of keys) {
            if (!k.notAfter) continue;
            this.set({ key_owner: p.id, kid: k.kid ?? '', use }, Date.parse(k.notAfter) / 1000);
          }
        }
      }
    },
  });
  new Gauge({
    name: 'pex_auditor_tsa_certificate_not_after_timestamp_seconds',
    help: 'When a trusted TSA root certificate expires (Unix time)',
    labelNames: ['subject'],
    registers: [registry],
    collect() {
      this.reset();
      for (const cert of sources.tsaTrust?.certificates ?? []) {
        const subject = cert.subject.typesAndValues
          .filter((tv) => tv.type === '2.5.4.3')
          .map((tv) => String(tv.value.valueBlock.value))
          .join(',');
        this.set({ subject }, cert.notAfter.value.getTime() / 1000);
      }
    },
  });
}
