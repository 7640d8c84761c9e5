import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type EnvelopeMeta,
  type ParticipantKeys,
  createStaticResolver,
  generateKey,
  generateParticipantKeys,
  newMessageId,
  sealEnvelope,
  signCompact,
  toPublicJwk,
} from '@passerelle/envelope';
import { StreamNames, connectNats, provisionStreams } from '@passerelle/exchange';
import { streamConfigs } from '@passerelle/exchange/internal';
import { freshLedger } from './fresh-ledger.js';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { archiveHead, archiveLedger } from '../src/archive/archiver.js';
import { restoreLedger } from '../src/archive/restore.js';
import { ARCHIVE_SEAL_TYP } from '../src/archive/segment.js';
import { folderArchive } from '../src/archive/store.js';
import { verifyArchive } from '../src/archive/verify-archive.js';
import { sha256Hex } from '../src/digest.js';
import type { PrivateJwk, PublicJwk } from '../src/keys.js';
import { readLedger } from '../src/reader.js';
import { type LocalTsa, startLocalTsa } from '../src/testing/local-tsa.js';
import { parseTsaTrust } from '../src/timestamp-token.js';
import { createTsaClient } from '../src/tsa-client.js';
import { type LedgerWriter, createLedgerWriter } from '../src/writer.js';

describe('archive', { timeout: 120_000 }, () => {
  const nats = useNatsServer();
  const fresh = useNatsServer();
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let office: ParticipantKeys;
  let region: ParticipantKeys;
  let auditor: PrivateJwk;
  let resolver: ReturnType<typeof createStaticResolver>;
  let tsa: LocalTsa;
  const root = mkdtempSync(join(tmpdir(), 'pex-archive-'));
  let n = 0;

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
    tsa = await startLocalTsa();
  }, 60_000);
  afterAll(async () => {
    await nc.close();
    await tsa.close();
    rmSync(root, { recursive: true, force: true });
  });

  const trust = () => parseTsaTrust(tsa.rootPem);
  const client = () => createTsaClient({ url: tsa.url, trust: trust() });

  /** LEDGER as the exchange defines it, or with the overrides an operator chose (deny_purge off, a limit). */
  async function ledgerStream(overrides: Record<string, unknown> = {}): Promise<void> {
    await freshLedger(jsm);
    if (Object.keys(overrides).length > 0) {
      await jsm.streams.delete(StreamNames.ledger);
      const config = streamConfigs().find((c) => c.name === StreamNames.ledger)!;
      await jsm.streams.add({ ...config, ...overrides });
    }
  }

  async function envelope(): Promise<string> {
    const meta: EnvelopeMeta = {
      id: newMessageId(),
      type: 'residence-decided',
      schemaVersion: 1,
      sender: office.participantId,
      recipient: region.participantId,
      dossierId: `DOS-2026-${String(n++ % 7).padStart(6, '0')}`,
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

  async function record(writer: LedgerWriter, count: number): Promise<void> {
    for (let i = 0; i < count; i++) await writer.appendEnvelope(await envelope());
  }

  const live = (conn: NatsConnection) =>
    async function* (from: number) {
      for await (const m of readLedger(conn, { from })) yield m.data;
    };

  test('archive - the ledger rolls into sealed, timestamped, hash-linked segments that verify with the live tail', async () => {
    await ledgerStream();
    const writer = await createLedgerWriter({
      nc,
      auditorKey: auditor,
      resolver,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
    });
    await record(writer, 20); // 20 envelopes and 6 checkpoints (1..26); 2 envelopes wait
    const store = await folderArchive(join(root, 'rolls'));
    const written = await archiveLedger({ nc, store, auditorKey: auditor, tsa: client(), segmentEntries: 8 });
    expect(written.map((s) => [s.firstSeq, s.lastSeq, s.timestamped])).toEqual([
      [1, 8, true],
      [9, 16, true],
      [17, 24, true],
    ]);
    // nothing new under a checkpoint: a second run writes nothing
    expect(await archiveLedger({ nc, store, auditorKey: auditor, tsa: client(), segmentEntries: 8 })).toEqual(
      [],
    );
    await record(writer, 2);
    const more = await archiveLedger({ nc, store, auditorKey: auditor, tsa: client(), segmentEntries: 8 });
    expect(more.map((s) => [s.firstSeq, s.lastSeq])).toEqual([[25, 28]]);
    await record(writer, 1);
    const report = await verifyArchive(store, { resolver, tsaTrust: trust(), threads: 1, live: live(nc) });
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({ ok: true, lastSeq: 30, envelopes: 23, liveFrom: 29, uncheckpointed: 2 });
    expect(report.segments).toHaveLength(4);
    expect(report.segments.every((s) => s.attested?.chain === 'trusted')).toBe(true);
    await writer.close();
  });

  test('archive - a tampered entry, trailer, token, a missing or re-sealed segment are each named with their file', async () => {
    const dir = join(root, 'rolls');
    const store = await folderArchive(dir);
    const names = await store.list();
    const verify = (d: string) =>
      folderArchive(d).then((s) => verifyArchive(s, { resolver, tsaTrust: trust(), threads: 1 }));
    const copy = (name: string): string => {
      const d = mkdtempSync(join(root, 'tamper-'));
      for (const f of readdirSync(dir)) writeFileSync(join(d, f), readFileSync(join(dir, f)));
      return join(d, name);
    };
    const edit = (path: string, fn: (lines: string[]) => void): void => {
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
      fn(lines);
      writeFileSync(path, `${lines.join('\n')}\n`);
    };
    const second = names[1] as string;

    // one byte of an entry in the second segment
    const a = copy(second);
    edit(a, (l) => (l[3] = (l[3] as string).replace('"kind":"envelope"', '"kind":"envelopf"')));
    let r = await verify(join(a, '..'));
    expect(r.failure).toMatchObject({ seq: 11, code: 'ERR_LEDGER_ENTRY_MALFORMED' });
    expect(r.failingSegment).toBe(second);

    // the trailer's token, one byte flipped
    const b = copy(second);
    edit(b, (l) => {
      const t = JSON.parse(l.at(-1) as string) as { seal: string; token: string };
      const der = Buffer.from(t.token, 'base64');
      der[der.length - 30] = (der[der.length - 30] as number) ^ 1;
      l[l.length - 1] = JSON.stringify({ ...t, token: der.toString('base64') });
    });
    r = await verify(join(b, '..'));
    expect(r.failure).toMatchObject({ seq: 16, code: 'ERR_LEDGER_TIMESTAMP_INVALID' });
    expect(r.failingSegment).toBe(second);

    // a segment removed: the next one does not start where the archive left off
    const c = copy(second);
    rmSync(c);
    r = await verify(join(c, '..'));
    expect(r.failure).toMatchObject({ seq: 9, code: 'ERR_LEDGER_ARCHIVE_INVALID' });
    expect(r.failingSegment).toBe(names[2]);

    // re-sealed by another key over the same claims
    const d = copy(second);
    const rogue = await generateKey('sig', { kid: 'auditor-sig-1' });
    const t = JSON.parse(readFileSync(join(dir, second), 'utf8').trimEnd().split('\n').at(-1) as string) as {
      seal: string;
    };
    const claims = JSON.parse(
      Buffer.from(t.seal.split('.')[1] as string, 'base64url').toString('utf8'),
    ) as object;
    const forged = await signCompact(claims, rogue, { typ: ARCHIVE_SEAL_TYP });
    edit(d, (l) => (l[l.length - 1] = JSON.stringify({ seal: forged })));
    r = await verify(join(d, '..'));
    expect(r.failure).toMatchObject({ code: 'ERR_LEDGER_ARCHIVE_INVALID' });
    expect(r.failure?.reason).toMatch(/seal does not verify/);
    expect(r.failingSegment).toBe(second);

    // the header re-linked to nothing (the segments' hash links)
    const e = copy(second);
    edit(
      e,
      (l) => (l[0] = JSON.stringify({ ...(JSON.parse(l[0] as string) as object), prevSeal: sha256Hex('x') })),
    );
    r = await verify(join(e, '..'));
    expect(r.failure).toMatchObject({ seq: 9, code: 'ERR_LEDGER_ARCHIVE_INVALID' });
    expect(r.failure?.reason).toMatch(/does not link/);
  });

  test('archive - purge mode trims LEDGER after each segment; the writer resumes from the archive and verify spans both', async () => {
    // an operator who chose purge for LEDGER (the exchange's own definition denies it), and an archive that
    // does not hold what the trimmed stream lost is refused
    await ledgerStream({ deny_purge: false });
    const store = await folderArchive(join(root, 'purged'));
    let writer = await createLedgerWriter({
      nc,
      auditorKey: auditor,
      resolver,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
    });
    await record(writer, 12);
    await writer.close();
    await archiveLedger({ nc, store, auditorKey: auditor, tsa: client(), segmentEntries: 8, trim: 'purge' });
    const info = await jsm.streams.info(StreamNames.ledger);
    expect(info.state).toMatchObject({ messages: 0, first_seq: 17, last_seq: 16 });
    // emptied by the purge, LEDGER cannot be resumed without the archive's head
    await expect(
      createLedgerWriter({ nc, auditorKey: auditor, resolver, checkpointIntervalMs: 0 }),
    ).rejects.toMatchObject({ code: 'ERR_LEDGER_CHAIN_BROKEN' });
    const head = await archiveHead(store);
    writer = await createLedgerWriter({
      nc,
      auditorKey: auditor,
      resolver,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
      archivedHead: { seq: head!.claims.lastSeq, hash: head!.claims.headHash },
    });
    await record(writer, 4);
    await writer.close();
    const report = await verifyArchive(store, { resolver, tsaTrust: trust(), threads: 1, live: live(nc) });
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({ lastSeq: 22, envelopes: 16, liveFrom: 17 });
    await expect(
      archiveLedger({ nc, store: await folderArchive(join(root, 'elsewhere')), auditorKey: auditor }),
    ).rejects.toMatchObject({
      code: 'ERR_LEDGER_GAP',
    });
  });

  test('archive - retention mode keeps deny_purge: the operator limit trims LEDGER, the live tail continues the archive', async () => {
    // LEDGER as the exchange defines it (deny_delete, deny_purge), with a limit an operator set
    await ledgerStream({ max_msgs: 10 });
    const store = await folderArchive(join(root, 'retained'));
    const writer = await createLedgerWriter({
      nc,
      auditorKey: auditor,
      resolver,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
    });
    await record(writer, 6); // 8 entries
    await archiveLedger({ nc, store, auditorKey: auditor, tsa: client(), segmentEntries: 100 });
    await record(writer, 6); // the stream keeps the last 10 of 16
    const info = await jsm.streams.info(StreamNames.ledger);
    expect(info.config).toMatchObject({ deny_purge: true, deny_delete: true });
    expect(info.state.first_seq).toBe(7);
    const report = await verifyArchive(store, { resolver, tsaTrust: trust(), threads: 1, live: live(nc) });
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({ lastSeq: 16, liveFrom: 9 });
    // had the limit dropped entries before they were archived, the gap is named
    await record(writer, 6); // 24 entries, the stream holds 15..24, the archive ends at 8
    const lost = await verifyArchive(store, { resolver, tsaTrust: trust(), threads: 1, live: live(nc) });
    expect(lost.failure).toMatchObject({ seq: 9, code: 'ERR_LEDGER_GAP' });
    await writer.close();
  });

  test('archive - a restore into a fresh server continues the chain: the auditor resumes and verify spans archive and new entries', async () => {
    await ledgerStream();
    const writer = await createLedgerWriter({
      nc,
      auditorKey: auditor,
      resolver,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
    });
    await record(writer, 9);
    await writer.close();
    const store = await folderArchive(join(root, 'restore'));
    await archiveLedger({ nc, store, auditorKey: auditor, tsa: client(), segmentEntries: 4 });

    const other = await connectNats({ servers: fresh.url });
    try {
      // the operator provisions the fresh server as usual: LEDGER is created empty, then restored
      await provisionStreams(await jetstreamManager(other, { timeout: 30_000 }));
      const restored = await restoreLedger({
        nc: other,
        store,
        verify: { resolver, tsaTrust: trust(), threads: 1 },
      });
      expect(restored).toMatchObject({ lastSeq: 12, created: true });
      // a second run changes nothing; a LEDGER with entries is never overwritten
      expect(await restoreLedger({ nc: other, store, verify: { resolver, threads: 1 } })).toMatchObject({
        created: false,
      });
      const head = await archiveHead(store);
      const resumed = await createLedgerWriter({
        nc: other,
        auditorKey: auditor,
        resolver,
        checkpointEvery: 3,
        checkpointIntervalMs: 0,
        archivedHead: { seq: head!.claims.lastSeq, hash: head!.claims.headHash },
      });
      expect(resumed.state.nextSeq).toBe(13);
      await record(resumed, 3);
      await resumed.close();
      await expect(
        restoreLedger({ nc: other, store, verify: { resolver, threads: 1 } }),
      ).rejects.toMatchObject({
        code: 'ERR_STREAM_CONFLICT',
      });
      const report = await verifyArchive(store, {
        resolver,
        tsaTrust: trust(),
        threads: 1,
        live: live(other),
      });
      expect(report.failure).toBeUndefined();
      expect(report).toMatchObject({ lastSeq: 16, envelopes: 12, liveFrom: 13, uncheckpointed: 0 });
    } finally {
      await other.close();
    }
  });
});
