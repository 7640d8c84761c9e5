import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nanos } from '@nats-io/transport-node';
import { StreamNames } from '@passerelle/exchange';
import { afterAll, describe, expect, test } from 'vitest';
import { archiveLedger } from '../src/archive/archiver.js';
import { applyLedgerMaxAge } from '../src/archive/ledger-max-age.js';
import { folderArchive } from '../src/archive/store.js';
import { verifyArchive } from '../src/archive/verify-archive.js';
import { createLedgerWriter } from '../src/writer.js';
import { ledgerStream } from './fresh-ledger.js';
import { useLedgerParties, liveLedger, sealedEnvelope } from './ledger-parties.js';

describe('ledger max age', { timeout: 60_000 }, () => {
  const parties = useLedgerParties();
  const root = mkdtempSync(join(tmpdir(), 'pex-max-age-'));

  afterAll(async () => {
    rmSync(root, { recursive: true, force: true });
  });

  const envelope = () => sealedEnvelope(parties.office, parties.region);

  test('ledger max age - the limit never reaches an entry the archive does not hold, and applies once it does', async () => {
    // LEDGER as the exchange defines it, with a one-second duplicate window so that a short limit is allowed
    await ledgerStream(parties.jsm, { duplicate_window: nanos(1000) });
    const writer = await createLedgerWriter({
      nc: parties.nc,
      auditorKey: parties.auditor,
      resolver: parties.resolver,
      checkpointIntervalMs: 0,
    });
    for (let i = 0; i < 4; i++) await writer.appendEnvelope(await envelope());
    await writer.checkpoint(); // entries 1..5
    const store = await folderArchive(join(root, 'archive'));
    const [first] = await archiveLedger({ nc: parties.nc, store, auditorKey: parties.auditor });
    expect(first?.lastSeq).toBe(5);
    for (let i = 0; i < 3; i++) await writer.appendEnvelope(await envelope()); // 6..8, not archived

    // A limit of 1 ms would drop 6..8 at once: the limit keeps them for their age plus the margin instead.
    const kept = await applyLedgerMaxAge({ nc: parties.nc, archivedUpTo: 5, maxAgeMs: 1, marginMs: 600_000 });
    expect(kept.keptFrom).toBe(6);
    expect(kept.maxAgeMs).toBeGreaterThanOrEqual(600_000);
    expect((await parties.jsm.streams.info(StreamNames.ledger)).config.max_age).toBe(nanos(kept.maxAgeMs));

    // Nothing archived at all: the limit keeps everything from the first entry.
    await expect(
      applyLedgerMaxAge({ nc: parties.nc, archivedUpTo: 0, maxAgeMs: 1, marginMs: 1 }),
    ).resolves.toMatchObject({
      keptFrom: 1,
    });

    // Once everything is archived, the limit is the one asked for (never below the duplicate window), and
    // the server drops the archived entries; archive and live tail still verify as one ledger.
    await writer.checkpoint(); // 9
    const more = await archiveLedger({ nc: parties.nc, store, auditorKey: parties.auditor });
    expect(more[more.length - 1]?.lastSeq).toBe(9);
    const all = await applyLedgerMaxAge({ nc: parties.nc, archivedUpTo: 9, maxAgeMs: 1, marginMs: 1 });
    expect(all).toEqual({ maxAgeMs: 1000 });
    const end = Date.now() + 30_000;
    while ((await parties.jsm.streams.info(StreamNames.ledger)).state.messages > 0) {
      if (Date.now() > end) throw new Error('LEDGER kept its archived entries past its age limit');
      await sleep(100);
    }
    const report = await verifyArchive(store, {
      resolver: parties.resolver,
      threads: 1,
      live: liveLedger(parties.nc),
    });
    expect(report).toMatchObject({ ok: true, lastSeq: 9 });
    // an archive that ends before what LEDGER held (entries lost unarchived) gets no limit: a typed refusal
    await expect(
      applyLedgerMaxAge({ nc: parties.nc, archivedUpTo: 5, maxAgeMs: 1, marginMs: 1 }),
    ).rejects.toMatchObject({
      code: 'ERR_LEDGER_GAP',
    });
    await writer.close();
  });
});
