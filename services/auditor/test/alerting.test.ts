import { deadlineMetrics, watchCredentialExpiry } from '@passerelle/service-host/internal';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { createTsaClient, parseTsaTrust } from '@passerelle/audit';
import { type LocalTsa, startLocalTsa } from '@passerelle/audit/testing';
import { createExchangeMetrics, createLogger } from '@passerelle/exchange';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AuditorMetricSources, createAuditorMetrics, createAuditorService } from '../src/index.js';
import { memoryLogger, repoRoot, seedDossier } from './fixtures.js';
import { useParticipants } from './participants-hook.js';

const DIR = join(repoRoot, 'infra', 'prometheus');
const RULES = join(DIR, 'passerelle.rules.yml');
const RULE_TESTS = join(DIR, 'passerelle.rules.test.yml');
const DASHBOARD = join(DIR, 'passerelle-dashboard.json');

/** promtool is installed by scripts/setup.sh (Debian's prometheus package); its absence is a failure, never a skip. */
function promtool(args: string[]): { status: number; output: string } {
  const which = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (which.error) {
    throw new Error(
      "promtool is missing: run `bash scripts/setup.sh` (it installs Debian's prometheus package for promtool) or put promtool on the PATH",
    );
  }
  const r = spawnSync('promtool', args, { encoding: 'utf8', cwd: DIR });
  return { status: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
}

/** The PromQL expressions of the dashboard's panels. */
function dashboardExpressions(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
  };
  return dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}

/** Metric names a text uses (pex_*), histogram series reduced to their metric. */
function metricNames(text: string): Set<string> {
  const code = text
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
  return new Set(
    [...code.matchAll(/\bpex_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
  );
}

describe('alerting', () => {
  test('alerting - promtool checks the committed rules and their unit tests pass', () => {
    const check = promtool(['check', 'rules', RULES]);
    expect(check.output).toContain('SUCCESS');
    expect(check.status).toBe(0);
    const unit = promtool(['test', 'rules', RULE_TESTS]);
    expect(unit.output).toContain('SUCCESS');
    expect(unit.status).toBe(0);
  });

  test('alerting - a broken rule fails promtool, so the check can fail', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pex-rules-'));
    const bad = join(dir, 'bad.rules.yml');
    writeFileSync(
      bad,
      'groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: rate(pex_x[5m]\n',
    );
    expect(promtool(['check', 'rules', bad]).status).not.toBe(0);
  });

  test('alerting - every dashboard query parses, and rules and dashboard name only metrics the processes export', () => {
    const expressions = dashboardExpressions();
    expect(expressions.length).toBeGreaterThan(15);
    const dir = mkdtempSync(join(tmpdir(), 'pex-dash-'));
    const file = join(dir, 'dashboard.rules.yml');
    writeFileSync(
      file,
      `groups:\n  - name: dashboard\n    rules:\n${expressions
        .map((e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e)}\n`)
        .join('')}`,
    );
    const check = promtool(['check', 'rules', file]);
    expect(check.output).toContain('SUCCESS');

    const exported = new Set<string>();
    const exchange = createExchangeMetrics('commune-21004');
    // a service process adds its credentials' expiry to its exchange's registry
    const stopWatch = watchCredentialExpiry({
      registry: exchange.registry,
      logger: createLogger('alerting-test', { level: 'silent' }),
      participant: 'commune-21004',
      expiresAt: new Date(Date.now() + 365 * 86_400_000),
    });
    stopWatch();
    // … and its legal deadlines' metrics
    deadlineMetrics(exchange.registry);
    for (const m of exchange.registry.getMetricsAsArray()) exported.add(m.name);
    // the registry's metrics are listed without being collected: no source is read
    const auditor = createAuditorMetrics({} as AuditorMetricSources);
    for (const m of auditor.getMetricsAsArray()) exported.add(m.name);
    const used = new Set([
      ...metricNames(readFileSync(RULES, 'utf8')),
      ...metricNames(expressions.join('\n')),
    ]);
    const unknown = [...used].filter((n) => !exported.has(n));
    expect(unknown).toEqual([]);
  });
});

describe('auditor metrics', () => {
  const net = useParticipants();
  let tsa: LocalTsa;

  beforeAll(async () => {
    tsa = await startLocalTsa();
  });
  afterAll(async () => {
    await tsa.close();
  });

  const value = (text: string, name: string, labels = ''): number | undefined => {
    const line = text
      .split('\n')
      .find((l) => l.startsWith(`${name}{`) && l.includes(labels) && !l.startsWith('#'));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
  };

  test('auditor metrics - /metrics serves lag, checkpoint and timestamp ages, receipts, storage and key expiry from a real exchange', async () => {
    const trust = parseTsaTrust(tsa.rootPem);
    const expiry = '2027-01-15T00:00:00.000Z';
    tsa.mode = 'down';
    const auditor = await createAuditorService({
      nc: net.nc,
      auditorKey: net.world.auditorKey,
      // a directory that lists its participants: their keys' expiry is exported
      resolver: {
        resolve: (...args) => net.world.resolver.resolve(...args),
        list: () => [
          {
            id: 'commune-21004',
            signing: [{ kid: 'commune-21004-sig-1', notAfter: expiry }],
            encryption: [],
          },
        ],
      } as typeof net.world.resolver,
      checkpointEvery: 1000,
      checkpointIntervalMs: 0,
      timestamps: { tsa: createTsaClient({ url: tsa.url, trust, timeoutMs: 1_000 }), trust, intervalMs: 20 },
      metricsPort: 0,
      logger: memoryLogger('silent').logger,
    });
    try {
      await seedDossier(net.participants, 'DOS-METRICS-0001', {
        familyName: 'Peeters',
        givenNames: 'Lena',
        passportNumber: 'EM7654321',
      });
      await auditor.caughtUp();
      await auditor.checkpoint();
      // the TSA is down: the checkpoint waits for its token, and the lag shows it
      await new Promise((r) => setTimeout(r, 1_100));
      const scrape = async (): Promise<string> => {
        const res = await fetch(`${auditor.metricsUrl}/metrics`);
        expect(res.status).toBe(200);
        return res.text();
      };
      let text = await scrape();
      expect(value(text, 'pex_auditor_exchange_pending')).toBe(0);
      expect(value(text, 'pex_auditor_inputs', 'outcome="envelope"')).toBe(4);
      expect(value(text, 'pex_auditor_inputs', 'outcome="receipt"')).toBe(4);
      expect(value(text, 'pex_auditor_receipts_waiting')).toBe(0);
      expect(value(text, 'pex_auditor_checkpoint_lag_seconds')).toBe(0);
      expect(value(text, 'pex_auditor_timestamp_lag_seconds')).toBeGreaterThan(1);
      expect(value(text, 'pex_auditor_timestamps_enabled')).toBe(1);
      expect(value(text, 'pex_auditor_timestamp_failures')).toBeGreaterThan(0);
      expect(value(text, 'pex_stream_messages', 'stream="LEDGER"')).toBe(9);
      expect(value(text, 'pex_stream_bytes', 'stream="LEDGER"')).toBeGreaterThan(0);
      expect(value(text, 'pex_jetstream_storage_bytes')).toBeGreaterThan(0);
      expect(value(text, 'pex_directory_key_not_after_timestamp_seconds', 'kid="commune-21004-sig-1"')).toBe(
        Date.parse(expiry) / 1000,
      );
      expect(value(text, 'pex_auditor_tsa_certificate_not_after_timestamp_seconds')).toBeGreaterThan(
        Date.now() / 1000,
      );
      // the TSA answers again: the backlog is timestamped and the lag falls to 0
      tsa.mode = 'up';
      expect(await auditor.timestamper!.flush()).toBe(true);
      text = await scrape();
      expect(value(text, 'pex_auditor_timestamp_lag_seconds')).toBe(0);
      expect(value(text, 'pex_auditor_timestamp_failures')).toBe(0);
      const health = await fetch(`${auditor.metricsUrl}/healthz`);
      expect(health.status).toBe(200);
      const jsm = await jetstreamManager(net.nc);
      expect((await jsm.streams.info('LEDGER')).state.messages).toBe(10);
    } finally {
      await auditor.close();
    }
  });
});
