import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import {
  type EnvelopeMeta,
  type ParticipantKeys,
  createStaticResolver,
  generateKey,
  generateParticipantKeys,
  newMessageId,
  sealEnvelope,
  toPublicJwk,
} from '@passerelle/envelope';
import { StreamNames, connectNats } from '@passerelle/exchange';
import { streamConfigs } from '@passerelle/exchange/internal';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { archiveLedger } from '../src/archive/archiver.js';
import { applyLedgerMaxAge } from '../src/archive/ledger-max-age.js';
import { folderArchive } from '../src/archive/store.js';
import { verifyArchive } from '../src/archive/verify-archive.js';
import type { PrivateJwk, PublicJwk } from '../src/keys.js';
import { readLedger } from '../src/reader.js';
import { createLedgerWriter } from '../src/writer.js';
import { freshLedger } from './fresh-ledger.js';

describe('ledger max age', { timeout: 60_000 }, () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let office: ParticipantKeys;
  let region: ParticipantKeys;
  let auditor: PrivateJwk;
  let resolver: ReturnType<typeof createStaticResolver>;
  const root = mkdtempSync(join(tmpdir(), 'pex-max-age-'));

  beforeAll(async () => {
    nc = await connectNats({ servers: nats.url });
    jsm = await jetstreamManager(nc, { timeout: 30_000 });
    [office, region] = await Promise.all([
      generateParticipantKeys('immigration-office'),
      generateParticipantKeys('region-bruxelles'),
    ]);
    auditor = await generateKey('sig', { kid: 'auditor-sig-1' });
    resolver = createStaticResolver([
      { participantId: office.participantId, signing: [toPublicJwk(office.signing)], encryption: [] },
      { participantId: 'auditor', signing: [toPublicJwk(auditor)], encryption: [] },
    ]);
  });
  afterAll(async () => {
    await nc.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function envelope(): Promise<string> {
    const meta: EnvelopeMeta = {
      id: newMessageId(),
      type: 'residence-decided',
      schemaVersion: 1,
      sender: office.participantId,
      recipient: region.participantId,
      dossierId: 'DOS-2026-000001',
      issuedAt: new Date().toISOString(),
      correlationId: 'corr-1',
      causationId: null,
    };
    const env = await sealEnvelope({
      meta,
      payload: { decision: 'granted' },
      sender: office,
      recipientKey: toPublicJwk(region.encryption[0] as PublicJwk),
    });
    return JSON.stringify(env);
  }

  test('ledger max age - the limit never reaches an entry the archive does not hold, and applies once it does', async () => {
    // LEDGER as the exchange defines it, with a one-second duplicate window so that a short limit is allowed
    await freshLedger(jsm);
    await jsm.streams.delete(StreamNames.ledger);
    const config = streamConfigs().find((c) => c.name === StreamNames.ledger)!;
    await jsm.streams.add({ ...config, duplicate_window: nanos(1000) });
    const writer = await createLedgerWriter({ nc, auditorKey: auditor, resolver, checkpointIntervalMs: 0 });
    for (let i = 0; i < 4; i++) await writer.appendEnvelope(await envelope());
    await writer.checkpoint(); // entries 1..5
    const store = await folderArchive(join(root, 'archive'));
    const [first] = await archiveLedger({ nc, store, auditorKey: auditor });
    expect(first?.lastSeq).toBe(5);
    for (let i = 0; i < 3; i++) await writer.appendEnvelope(await envelope()); // 6..8, not archived

    // A limit of 1 ms would drop 6..8 at once: the limit keeps them for their age plus the margin instead.
    const kept = await applyLedgerMaxAge({ nc, archivedUpTo: 5, maxAgeMs: 1, marginMs: 600_000 });
    expect(kept.keptFrom).toBe(6);
    expect(kept.maxAgeMs).toBeGreaterThanOrEqual(600_000);
    expect((await jsm.streams.info(StreamNames.ledger)).config.max_age).toBe(nanos(kept.maxAgeMs));

    // Nothing archived at all: the limit keeps everything from the first entry.
    await expect(applyLedgerMaxAge({ nc, archivedUpTo: 0, maxAgeMs: 1, marginMs: 1 })).resolves.toMatchObject(
      {
        keptFrom: 1,
      },
    );

    // Once everything is archived, the limit is the one asked for (never below the duplicate window), and
    // the server drops the archived entries; archive and live tail still verify as one ledger.
    await writer.checkpoint(); // 9
    const more = await archiveLedger({ nc, store, auditorKey: auditor });
    expect(more[more.length - 1]?.lastSeq).toBe(9);
    const all = await applyLedgerMaxAge({ nc, archivedUpTo: 9, maxAgeMs: 1, marginMs: 1 });
    expect(all).toEqual({ maxAgeMs: 1000 });
    const end = Date.now() + 30_000;
    while ((await jsm.streams.info(StreamNames.ledger)).state.messages > 0) {
      if (Date.now() > end) throw new Error('LEDGER kept its archived entries past its age limit');
      await sleep(100);
    }
    const live = async function* (from: number) {
      for await (const m of readLedger(nc, { from })) yield m.data;
    };
    const report = await verifyArchive(store, { resolver, threads: 1, live });
    expect(report).toMatchObject({ ok: true, lastSeq: 9 });
    // an archive that ends before what LEDGER held (entries lost unarchived) gets no limit: a typed refusal
    await expect(applyLedgerMaxAge({ nc, archivedUpTo: 5, maxAgeMs: 1, marginMs: 1 })).rejects.toMatchObject({
      code: 'ERR_LEDGER_GAP',
    });
    await writer.close();
  });
});
