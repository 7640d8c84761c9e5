import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  createTsaClient,
  folderArchive,
  parseTsaTrust,
  readLedger,
  restoreLedger,
  verifyArchive,
} from '@passerelle/audit';
import { type LocalTsa, startLocalTsa } from '@passerelle/audit/testing';
import { type Exchange, StreamNames, connectNats } from '@passerelle/exchange';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAuditorService } from '../src/index.js';
import { type World, connectParticipants, makeWorld, memoryLogger, seedDossier } from './fixtures.js';

const LEDGER_MAX_AGE_MS = 400 * 86_400_000;

describe('auditor archive', { timeout: 120_000 }, () => {
  const nats = useNatsServer();
  const fresh = useNatsServer();
  let nc: NatsConnection;
  let world: World;
  let tsa: LocalTsa;
  const dir = mkdtempSync(join(tmpdir(), 'pex-auditor-archive-'));

  beforeAll(async () => {
    nc = await connectNats({ servers: nats.url });
    world = await makeWorld();
    tsa = await startLocalTsa();
  });
  afterAll(async () => {
    await nc.close();
    await tsa.close();
  });

  const person = { familyName: 'Dubois', givenNames: 'Amal', passportNumber: 'EM5550001' };

  const start = async (conn: NatsConnection) => {
    const trust = parseTsaTrust(tsa.rootPem);
    return createAuditorService({
      nc: conn,
      auditorKey: world.auditorKey,
      resolver: world.resolver,
      checkpointEvery: 4,
      checkpointIntervalMs: 0,
      timestamps: { tsa: createTsaClient({ url: tsa.url, trust }), trust, intervalMs: 60_000 },
      archive: {
        store: await folderArchive(dir),
        intervalMs: 3_600_000,
        segmentEntries: 4,
        ledgerMaxAgeMs: LEDGER_MAX_AGE_MS,
      },
      metricsPort: 0,
      logger: memoryLogger('silent').logger,
    });
  };

  const metric = async (url: string, name: string): Promise<number> => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
    return Number(line?.slice(line.lastIndexOf(' ') + 1));
  };

  test('auditor archive - the auditor rolls its ledger into timestamped segments, shows the archive lag, and a fresh server restored from them continues the chain', async () => {
    let participants: Map<string, Exchange> = await connectParticipants(world, nc);
    const auditor = await start(nc);
    try {
      await seedDossier(participants, 'DOS-ARCH-00001', person);
      await auditor.caughtUp();
      const written = await auditor.archiveNow();
      expect(written.map((s) => [s.firstSeq, s.lastSeq, s.timestamped])).toEqual([
        [1, 5, true],
        [6, 10, true],
      ]);
      expect(await metric(auditor.metricsUrl!, 'pex_auditor_archive_lag_seconds')).toBe(0);
      // after the run LEDGER has the age limit asked for (nothing unarchived is near it)
      const ledger = await (await jetstreamManager(nc)).streams.info(StreamNames.ledger);
      expect(ledger.config.max_age).toBe(LEDGER_MAX_AGE_MS * 1_000_000);
      expect(await metric(auditor.metricsUrl!, 'pex_auditor_last_archive_timestamp_seconds')).toBeGreaterThan(
        0,
      );
      await seedDossier(participants, 'DOS-ARCH-00002', person);
      await auditor.caughtUp();
      // the entries recorded since are waiting for the next archive run
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await metric(auditor.metricsUrl!, 'pex_auditor_archive_lag_seconds')).toBeGreaterThan(1);
      await auditor.archiveNow();
    } finally {
      await auditor.close();
      await Promise.all([...participants.values()].map((p) => p.close()));
    }
    const segments = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    expect(segments).toHaveLength(4);

    // the server is lost; a fresh one is provisioned as usual, and the ledger restored from the archive
    const other = await connectNats({ servers: fresh.url });
    participants = await connectParticipants(world, other);
    try {
      const trust = parseTsaTrust(tsa.rootPem);
      const restored = await restoreLedger({
        nc: other,
        store: await folderArchive(dir),
        verify: { resolver: world.resolver, tsaTrust: trust, threads: 1 },
      });
      expect(restored).toMatchObject({ lastSeq: 20, created: true });
      const resumed = await start(other);
      try {
        await seedDossier(participants, 'DOS-ARCH-00003', person);
        await resumed.caughtUp();
        await resumed.checkpoint();
        expect(await resumed.timestamper!.flush()).toBe(true);
      } finally {
        await resumed.close();
      }
      const report = await verifyArchive(await folderArchive(dir), {
        resolver: world.resolver,
        tsaTrust: trust,
        threads: 1,
        live: async function* (from) {
          for await (const m of readLedger(other, { from })) yield m.data;
        },
      });
      expect(report.failure).toBeUndefined();
      expect(report).toMatchObject({ ok: true, liveFrom: 21, envelopes: 12, receipts: 12 });
      expect(report.timestamps.tokens).toBeGreaterThan(0);
    } finally {
      await Promise.all([...participants.values()].map((p) => p.close()));
      await other.close();
    }
  });
});
