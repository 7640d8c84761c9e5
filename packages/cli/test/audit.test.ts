import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  archiveLedger,
  canonicalJson,
  createLedgerWriter,
  createTsaClient,
  folderArchive,
  parseTsaTrust,
} from '@passerelle/audit';
import { startLocalTsa } from '@passerelle/audit/testing';
import { writeTrustFiles } from '@passerelle/directory/internal';
import {
  type ParticipantKeys,
  createStaticResolver,
  generateParticipantKeys,
  newMessageId,
  sealEnvelope,
  signCompact,
  toPublicJwk,
  publicKeysOf,
} from '@passerelle/envelope';
import { sha256Hex } from '@passerelle/envelope/internal';
import { connectNats, provisionStreams } from '@passerelle/exchange';
import { useNatsServer } from '@passerelle/testing/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import { runCliCaptured } from '../src/internal.js';

const DOSSIER = 'DOS-2026-000871';

describe('audit command', { timeout: 60_000 }, () => {
  const nats = useNatsServer();
  const fresh = useNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'pex-cli-audit-'));
  let anchorPath: string;
  let directoryPath: string;
  let auditorKeyPath: string;
  let firstId: string;
  let out = '';
  let err = '';

  /** The server to read LEDGER from, and the anchor and directory to check its signers by. */
  const serverAndTrust = () => ['--server', nats.url, '--anchor', anchorPath, '--directory', directoryPath];
  const run = async (...args: string[]): Promise<number> => {
    let code: number;
    ({ code, out, err } = await runCliCaptured(args));
    return code;
  };

  beforeAll(async () => {
    const [office, region, auditor] = (await Promise.all(
      ['immigration-office', 'region-bruxelles', 'auditor'].map((id) => generateParticipantKeys(id)),
    )) as [ParticipantKeys, ParticipantKeys, ParticipantKeys];
    ({ anchorPath, directoryPath } = await writeTrustFiles(dir, [office, region, auditor]));
    auditorKeyPath = join(dir, 'auditor.public.json');
    writeFileSync(auditorKeyPath, JSON.stringify(toPublicJwk(auditor.signing)));

    const nc = await connectNats({ servers: nats.url });
    await provisionStreams(await jetstreamManager(nc, { timeout: 30_000 }));
    const resolver = createStaticResolver([office, region, auditor].map(publicKeysOf));
    const writer = await createLedgerWriter({
      nc,
      auditorKey: auditor.signing,
      resolver,
      checkpointEvery: 3,
      checkpointIntervalMs: 0,
    });
    for (let i = 0; i < 4; i++) {
      const id = newMessageId();
      if (i === 0) firstId = id;
      const env = await sealEnvelope({
        meta: {
          id,
          type: 'residence-decided',
          schemaVersion: 1,
          sender: office.participantId,
          recipient: region.participantId,
          dossierId: DOSSIER,
          issuedAt: new Date().toISOString(),
          correlationId: 'corr-871',
          causationId: null,
        },
        payload: { decision: 'granted' },
        sender: office,
        recipientKey: toPublicJwk(region.encryption[0] as ParticipantKeys['signing']),
      });
      const raw = JSON.stringify(env);
      await writer.appendEnvelope(raw);
      await writer.appendReceipt(
        await signCompact(
          {
            messageId: id,
            type: env.meta.type,
            dossierId: DOSSIER,
            sender: office.participantId,
            receiver: region.participantId,
            envelopeSha256: sha256Hex(raw),
            receivedAt: new Date().toISOString(),
            status: 'accepted',
          },
          region.signing,
          { typ: 'pex-receipt+jws' },
        ),
      );
    }
    await writer.close();
    auditorSigning = auditor.signing;
    await nc.close();
  }, 60_000);
  let auditorSigning: ParticipantKeys['signing'];

  test('audit command - verify checks the stream against the directory file and reports ok', async () => {
    const code = await run('audit', 'verify', ...serverAndTrust());
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^ok {2}entries 1\.\.11: 4 envelopes, 4 receipts, 3 checkpoints/);
  });

  test('audit command - an export verifies offline; a tampered export exits 1 naming the first bad entry', async () => {
    const file = join(dir, 'ledger.jsonl');
    expect(await run('audit', 'export', '--server', nats.url, '--out', file)).toBe(0);
    expect(
      await run('audit', 'verify', '--file', file, '--anchor', anchorPath, '--directory', directoryPath),
    ).toBe(0);
    const lines = readFileSync(file, 'utf8').split('\n');
    [lines[3], lines[4]] = [lines[4] as string, lines[3] as string];
    const tampered = join(dir, 'tampered.jsonl');
    writeFileSync(tampered, lines.join('\n'));
    expect(
      await run('audit', 'verify', '--file', tampered, '--anchor', anchorPath, '--directory', directoryPath),
    ).toBe(1);
    expect(err).toMatch(/^error ERR_LEDGER_GAP: Ledger entry 3: /);
  });

  test('audit command - an export ends on a checkpoint; a cut export, even with an edited tail re-hashed, is refused unless its tail is reported as unsigned', async () => {
    const file = join(dir, 'signed.jsonl');
    expect(await run('audit', 'export', '--server', nats.url, '--out', file, '--to', '10')).toBe(0);
    // entries 9 and 10 wait for the checkpoint at 11: the export stops at the one before them
    expect(out).toContain('exported 8 entries (1..8, ending on a checkpoint)');
    expect(out).toContain('left out: 2 later entries');
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ from: 1, to: 8 });
    expect(JSON.parse(lines.at(-1) as string)).toMatchObject({ seq: 8, kind: 'checkpoint' });
    const verify = (path: string, ...extra: string[]): Promise<number> =>
      run('audit', 'verify', '--file', path, '--anchor', anchorPath, '--directory', directoryPath, ...extra);
    expect(await verify(file)).toBe(0);

    // cut at a line boundary: the final checkpoint dropped (the header says so too, as a careful forger would)
    const cut = lines.slice(0, -1);
    cut[0] = JSON.stringify({ ...(JSON.parse(cut[0] as string) as object), to: 7 });
    const cutPath = join(dir, 'cut.jsonl');
    writeFileSync(cutPath, cut.join('\n') + '\n');
    expect(await verify(cutPath)).toBe(1);
    expect(err).toMatch(/^error ERR_LEDGER_UNSIGNED_TAIL: Ledger entry 5: /);

    // then an entry of the unsigned tail edited and its hash and the next prevHash recomputed
    const edited = [...cut];
    const entry = JSON.parse(edited[7] as string) as { hash: string } & Record<string, unknown>;
    const { hash: _h, ...rest } = { ...entry, receivedAt: '2020-01-01T00:00:00.000Z' };
    edited[7] = JSON.stringify({ ...rest, hash: sha256Hex(canonicalJson(rest)) });
    const editedPath = join(dir, 'edited.jsonl');
    writeFileSync(editedPath, edited.join('\n') + '\n');
    expect(await verify(editedPath)).toBe(1);
    expect(err).toMatch(/ERR_LEDGER_UNSIGNED_TAIL/);
    expect(await verify(editedPath, '--allow-unsigned-tail')).toBe(0);
    expect(out).toContain('unsigned: entries 5..7 are chained but no checkpoint signs them');

    // a header that promises more than the file holds
    const short = [...lines];
    short[0] = JSON.stringify({ ...(JSON.parse(short[0] as string) as object), to: 12 });
    const shortPath = join(dir, 'short.jsonl');
    writeFileSync(shortPath, short.join('\n') + '\n');
    expect(await verify(shortPath)).toBe(1);
    expect(err).toMatch(/ERR_LEDGER_GAP: Ledger entry 9: the entries end at 8, not at 12/);
  });

  test('audit command - verify --archive checks the segments and the live tail, names a tampered segment; restore continues the ledger on a fresh server', async () => {
    const tsa = await startLocalTsa();
    try {
      const trustPath = join(dir, 'tsa-roots.pem');
      writeFileSync(trustPath, tsa.rootPem);
      const archive = join(dir, 'archive');
      const nc = await connectNats({ servers: nats.url });
      try {
        const written = await archiveLedger({
          nc,
          store: await folderArchive(archive),
          auditorKey: auditorSigning,
          tsa: createTsaClient({ url: tsa.url, trust: parseTsaTrust(tsa.rootPem) }),
          segmentEntries: 4,
        });
        expect(written.map((w) => w.lastSeq)).toEqual([4, 8, 11]);
      } finally {
        await nc.close();
      }
      const keys = ['--anchor', anchorPath, '--directory', directoryPath, '--tsa-trust', trustPath];
      expect(await run('audit', 'verify', '--archive', archive, '--server', nats.url, ...keys)).toBe(0);
      expect(out).toMatch(
        /^ok {2}archive .*: 3 segments \(entries 1\.\.11\), 3 timestamped, the last attested at /,
      );

      // one receipt in the second segment re-dated: its hash gives it away, and the segment is named
      const copy = join(dir, 'archive-tampered');
      mkdirSync(copy);
      for (const f of readdirSync(archive)) writeFileSync(join(copy, f), readFileSync(join(archive, f)));
      const second = readdirSync(copy).sort()[1] as string;
      writeFileSync(
        join(copy, second),
        readFileSync(join(copy, second), 'utf8').replace(/"receivedAt":"20/, '"receivedAt":"19'),
      );
      expect(await run('audit', 'verify', '--archive', copy, '--archive-only', ...keys)).toBe(1);
      expect(err).toContain(`in archive segment ${second}`);
      expect(err).toMatch(/error ERR_LEDGER_HASH_MISMATCH: Ledger entry 5: /);

      // the server is lost: a fresh one gets LEDGER back from the archive, continuing after entry 11
      expect(await run('audit', 'restore', '--archive', archive, '--server', fresh.url, ...keys)).toBe(0);
      expect(out).toContain('LEDGER continues at 12');
      expect(await run('audit', 'verify', '--archive', archive, '--server', fresh.url, ...keys)).toBe(0);
      expect(await run('audit', 'restore', '--archive', archive, '--server', nats.url, ...keys)).toBe(1);
      expect(err).toMatch(/ERR_STREAM_CONFLICT/);
    } finally {
      await tsa.close();
    }
  });

  test('audit command - trace prints who sent what to whom with receipt times', async () => {
    expect(await run('audit', 'trace', DOSSIER, '--server', nats.url)).toBe(0);
    const text = out;
    expect(text).toContain('residence-decided  immigration-office -> region-bruxelles');
    expect(text.match(/receipt #\d+ by region-bruxelles at /g)).toHaveLength(4);
  });

  test('audit command - prove writes a proof that check-proof accepts with the auditor key and refuses with another', async () => {
    const proofPath = join(dir, 'proof.json');
    expect(await run('audit', 'prove', firstId, ...serverAndTrust(), '--out', proofPath)).toBe(0);
    expect(await run('audit', 'check-proof', proofPath, '--auditor-key', auditorKeyPath)).toBe(0);
    expect(out).toContain(`message ${firstId} is entry #1`);
    expect(
      await run('audit', 'check-proof', proofPath, '--anchor', anchorPath, '--directory', directoryPath),
    ).toBe(0);
    const other = await generateParticipantKeys('auditor');
    const otherPath = join(dir, 'other.json');
    writeFileSync(otherPath, JSON.stringify(toPublicJwk(other.signing)));
    expect(await run('audit', 'check-proof', proofPath, '--auditor-key', otherPath)).toBe(1);
    expect(err).toMatch(/ERR_PROOF_INVALID/);
  });
});
