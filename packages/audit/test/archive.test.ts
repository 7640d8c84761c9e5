import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { generateKey, signCompact } from '@passerelle/envelope';
import { StreamNames, connectNats, provisionStreams } from '@passerelle/exchange';
import { ledgerStream as resetLedgerStream } from './fresh-ledger.js';
import { useLedgerParties, liveLedger, sealedEnvelope } from './ledger-parties.js';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { archiveHead, archiveLedger } from '../src/archive/archiver.js';
import { restoreLedger } from '../src/archive/restore.js';
import { ARCHIVE_SEAL_TYP } from '../src/archive/segment.js';
import { type ArchiveStore, folderArchive } from '../src/archive/store.js';
import { verifyArchive } from '../src/archive/verify-archive.js';
import { sha256Hex } from '../src/digest.js';
import { type LocalTsa, startLocalTsa } from '../src/testing/local-tsa.js';
import { parseTsaTrust } from '../src/timestamp-token.js';
import { createTsaClient } from '../src/tsa-client.js';
import { type LedgerWriter, createLedgerWriter } from '../src/writer.js';

describe('archive', { timeout: 120_000 }, () => {
  const parties = useLedgerParties();
  const fresh = useNatsServer();
  let tsa: LocalTsa;
  const root = mkdtempSync(join(tmpdir(), 'pex-archive-'));
  let n = 0;

  beforeAll(async () => {
    tsa = await startLocalTsa();
  }, 60_000);
  afterAll(async () => {
    await tsa.close();
    rmSync(root, { recursive: true, force: true });
  });

  const trust = () => parseTsaTrust(tsa.rootPem);
  const client = () => createTsaClient({ url: tsa.url, trust: trust() });
  const ledgerStream = (overrides?: Record<string, unknown>) => resetLedgerStream(parties.jsm, overrides);
  /** Rolls LEDGER into `store` in segments of `segmentEntries`, each timestamped by the local TSA. */
  const archiveTimestamped = (store: ArchiveStore, segmentEntries: number, extra: { trim?: 'purge' } = {}) =>
    archiveLedger({
      nc: parties.nc,
      store,
      auditorKey: parties.auditor,
      tsa: client(),
      segmentEntries,
      ...extra,
    });
  /** Verifies `store` against the trusted TSA, continued by the live tail of LEDGER on `conn`. */
  const verifyWithLive = (store: ArchiveStore, conn = parties.nc) =>
    verifyArchive(store, {
      resolver: parties.resolver,
      tsaTrust: trust(),
      threads: 1,
      live: liveLedger(conn),
    });

  async function record(writer: LedgerWriter, count: number): Promise<void> {
    for (let i = 0; i < count; i++)
      await writer.appendEnvelope(
        await sealedEnvelope(parties.office, parties.region, {
          dossierId: `DOS-2026-${String(n++ % 7).padStart(6, '0')}`,
        }),
      );
  }

  /** A writer that checkpoints every three entries, on `conn` (the main server unless said). */
  const writerEvery3 = (conn = parties.nc, archivedHead?: { seq: number; hash: string }) =>
    createLedgerWriter({
      nc: conn,
      auditorKey: parties.auditor,
      resolver: parties.resolver,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
      ...(archivedHead ? { archivedHead } : {}),
    });

  test('archive - the ledger rolls into sealed, timestamped, hash-linked segments that verify with the live tail', async () => {
    await ledgerStream();
    const writer = await writerEvery3();
    await record(writer, 20); // 20 envelopes and 6 checkpoints (1..26); 2 envelopes wait
    const store = await folderArchive(join(root, 'rolls'));
    const written = await archiveTimestamped(store, 8);
    expect(written.map((s) => [s.firstSeq, s.lastSeq, s.timestamped])).toEqual([
      [1, 8, true],
      [9, 16, true],
      [17, 24, true],
    ]);
    // nothing new under a checkpoint: a second run writes nothing
    expect(await archiveTimestamped(store, 8)).toEqual([]);
    await record(writer, 2);
    const more = await archiveTimestamped(store, 8);
    expect(more.map((s) => [s.firstSeq, s.lastSeq])).toEqual([[25, 28]]);
    await record(writer, 1);
    const report = await verifyWithLive(store);
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
      folderArchive(d).then((s) =>
        verifyArchive(s, { resolver: parties.resolver, tsaTrust: trust(), threads: 1 }),
      );
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
    let writer = await writerEvery3();
    await record(writer, 12);
    await writer.close();
    await archiveTimestamped(store, 8, { trim: 'purge' });
    const info = await parties.jsm.streams.info(StreamNames.ledger);
    expect(info.state).toMatchObject({ messages: 0, first_seq: 17, last_seq: 16 });
    // emptied by the purge, LEDGER cannot be resumed without the archive's head
    await expect(
      createLedgerWriter({
        nc: parties.nc,
        auditorKey: parties.auditor,
        resolver: parties.resolver,
        checkpointIntervalMs: 0,
      }),
    ).rejects.toMatchObject({ code: 'ERR_LEDGER_CHAIN_BROKEN' });
    const head = await archiveHead(store);
    writer = await writerEvery3(parties.nc, { seq: head!.claims.lastSeq, hash: head!.claims.headHash });
    await record(writer, 4);
    await writer.close();
    const report = await verifyWithLive(store);
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({ lastSeq: 22, envelopes: 16, liveFrom: 17 });
    await expect(
      archiveLedger({
        nc: parties.nc,
        store: await folderArchive(join(root, 'elsewhere')),
        auditorKey: parties.auditor,
      }),
    ).rejects.toMatchObject({
      code: 'ERR_LEDGER_GAP',
    });
  });

  test('archive - retention mode keeps deny_purge: the operator limit trims LEDGER, the live tail continues the archive', async () => {
    // LEDGER as the exchange defines it (deny_delete, deny_purge), with a limit an operator set
    await ledgerStream({ max_msgs: 10 });
    const store = await folderArchive(join(root, 'retained'));
    const writer = await writerEvery3();
    await record(writer, 6); // 8 entries
    await archiveTimestamped(store, 100);
    await record(writer, 6); // the stream keeps the last 10 of 16
    const info = await parties.jsm.streams.info(StreamNames.ledger);
    expect(info.config).toMatchObject({ deny_purge: true, deny_delete: true });
    expect(info.state.first_seq).toBe(7);
    const report = await verifyWithLive(store);
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({ lastSeq: 16, liveFrom: 9 });
    // had the limit dropped entries before they were archived, the gap is named
    await record(writer, 6); // 24 entries, the stream holds 15..24, the archive ends at 8
    const lost = await verifyWithLive(store);
    expect(lost.failure).toMatchObject({ seq: 9, code: 'ERR_LEDGER_GAP' });
    await writer.close();
  });

  test('archive - a restore into a fresh server continues the chain: the auditor resumes and verify spans archive and new entries', async () => {
    await ledgerStream();
    const writer = await writerEvery3();
    await record(writer, 9);
    await writer.close();
    const store = await folderArchive(join(root, 'restore'));
    await archiveTimestamped(store, 4);

    const other = await connectNats({ servers: fresh.url });
    try {
      // the operator provisions the fresh server as usual: LEDGER is created empty, then restored
      await provisionStreams(await jetstreamManager(other, { timeout: 30_000 }));
      const restored = await restoreLedger({
        nc: other,
        store,
        verify: { resolver: parties.resolver, tsaTrust: trust(), threads: 1 },
      });
      expect(restored).toMatchObject({ lastSeq: 12, created: true });
      // a second run changes nothing; a LEDGER with entries is never overwritten
      expect(
        await restoreLedger({ nc: other, store, verify: { resolver: parties.resolver, threads: 1 } }),
      ).toMatchObject({
        created: false,
      });
      const head = await archiveHead(store);
      const resumed = await writerEvery3(other, { seq: head!.claims.lastSeq, hash: head!.claims.headHash });
      expect(resumed.state.nextSeq).toBe(13);
      await record(resumed, 3);
      await resumed.close();
      await expect(
        restoreLedger({ nc: other, store, verify: { resolver: parties.resolver, threads: 1 } }),
      ).rejects.toMatchObject({
        code: 'ERR_STREAM_CONFLICT',
      });
      const report = await verifyWithLive(store, other);
      expect(report.failure).toBeUndefined();
      expect(report).toMatchObject({ lastSeq: 16, envelopes: 12, liveFrom: 13, uncheckpointed: 0 });
    } finally {
      await other.close();
    }
  });
});
