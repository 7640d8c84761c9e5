import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import {
  type LedgerWriter,
  archiveLedger,
  checkProof,
  createLedgerWriter,
  folderArchive,
  openLedgerExport,
  type LedgerEntry,
  parseEntry,
  proveMessage,
  readLedger,
  readLedgerEntries,
  recordErasure,
  serializeEntry,
  verifyArchive,
  verifyLedger,
  writeLedgerExport,
} from '@passerelle/audit';
import { sealEntry } from '@passerelle/audit/internal';
import { runCliCaptured } from '@passerelle/cli/internal';
import { loadContracts } from '@passerelle/contracts';
import { writeParticipantKeys } from '@passerelle/directory';
import { writeTrustFiles } from '@passerelle/directory/internal';
import { DecisionArchive } from '@passerelle/documents';
import { PasserelleError } from '@passerelle/errors';
import {
  type EnvelopeMeta,
  type ParticipantKeys,
  generateParticipantKeys,
  openEnvelope,
} from '@passerelle/envelope';
import {
  DOSSIER_KEYS_BUCKET,
  DossierKeys,
  type Exchange,
  eraseDossier,
  StreamNames,
  listDeadLetters,
} from '@passerelle/exchange';
import { createPortalLogger, createPortalService, portalDoor } from '@passerelle/portal';
import { DossierRecordCipher, StateCipher } from '@passerelle/service-host';
import { useNatsServer } from '@passerelle/testing/vitest';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  PORTAL,
  type ProcedureHarness,
  feeProof,
  ictFirstApplication,
  startProcedure,
  toPermitIssued,
  useProcedure,
} from '../procedure/harness.js';
// the visa numbers mark the payloads: found in clear anywhere, they would show the erasure failed
import { useAuditedNats, visa } from '../support/audited-keys.js';
import { OE, POST } from '../support/participants.js';

const ERASED = 'DOS-ERASE-0001';
const KEPT = 'DOS-KEEP-0002';
const BASIS = 'GDPR Art. 17(1)(a), request 2027-0042';
const repoRoot = new URL('../..', import.meta.url).pathname;

/** Runs the CLI in-process; what it printed on stdout and stderr, and its exit code. */
const cli = runCliCaptured;

/** Erases `dossierId` by the command line on `BASIS`, signed with the office's keys written under `root`. */
async function eraseByCli(root: string, office: ParticipantKeys, dossierId: string, server: string) {
  const keyDir = join(root, 'keys', OE);
  await writeParticipantKeys(keyDir, office, { force: true });
  return cli(['dossier', 'erase', dossierId, '--basis', BASIS, '--keys', keyDir, '--server', server]);
}

describe('erasure of one dossier by key destruction', { timeout: 60_000 }, () => {
  const world = useAuditedNats(POST, OE);
  const root = mkdtempSync(join(tmpdir(), 'pex-erasure-'));
  let postKeys: DossierKeys;
  let officeKeys: DossierKeys;
  let sender: Exchange;
  let receiver: Exchange;
  let writer: LedgerWriter;
  const received: { dossierId: string; payload: unknown }[] = [];
  const sentIds: Record<string, string[]> = { [ERASED]: [], [KEPT]: [] };
  /** The anchor and the signed directory `reapply-erasures` checks each erasure's seal against. */
  let trust: { anchorPath: string; directoryPath: string };
  const trusted = () => ['--anchor', trust.anchorPath, '--directory', trust.directoryPath];

  beforeAll(async () => {
    const { nc, post, office, auditor, resolver } = world;
    const contracts = await loadContracts({ root: repoRoot });
    postKeys = await DossierKeys.open(nc, { keys: post, directory: resolver });
    officeKeys = await DossierKeys.open(nc, { keys: office, directory: resolver });
    sender = await world.connect(post, contracts, { payloadSeal: postKeys });
    receiver = await world.connect(office, contracts, { payloadSeal: officeKeys });
    writer = await createLedgerWriter({ nc, auditorKey: auditor, resolver, checkpointIntervalMs: 0 });
    trust = await writeTrustFiles(root, [post, office]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([sender?.close(), receiver?.close()]);
    rmSync(root, { recursive: true, force: true });
  });

  /** The key bucket's last value of each key, raw: what a backup of its stream restores. */
  let keyBackup: { key: string; data: Uint8Array }[] = [];
  async function bucketCopy(): Promise<{ key: string; data: Uint8Array }[]> {
    const { nc } = world;
    const kv = await new Kvm(nc).open(DOSSIER_KEYS_BUCKET);
    const copy: { key: string; data: Uint8Array }[] = [];
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (e?.operation === 'PUT') copy.push({ key, data: Uint8Array.from(e.value) });
    }
    return copy;
  }

  /** Every message EXCHANGE holds, raw, in order. */
  async function exchangeMessages(): Promise<{ subject: string; data: Uint8Array }[]> {
    const { jsm } = world;
    const info = await jsm.streams.info(StreamNames.exchange);
    const all: { subject: string; data: Uint8Array }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(StreamNames.exchange, { seq }).catch(() => null);
      if (m) all.push({ subject: m.subject, data: m.data });
    }
    return all;
  }

  /** Opens a raw envelope to the immigration office (its private key), then its payload with `keys`. */
  async function openPayload(raw: Uint8Array | string, keys: DossierKeys): Promise<unknown> {
    const { office, resolver } = world;
    const opened = await openEnvelope(raw, {
      recipient: office,
      resolver,
      freshnessMs: 10 * 365 * 86_400_000,
    });
    return keys.open(opened.meta, opened.payload);
  }

  test('erase - nothing of the dossier decrypts anywhere afterwards, while audit verify and every proof pass', async () => {
    const { nc, jsm, post, office, auditor, resolver } = world;
    // Two dossiers exchanged, read back by their recipient; a decision document of the first stored.
    // The office refuses the second visa of the erased dossier: a copy of it lands in DEADLETTER.
    let done!: () => void;
    const allHandled = new Promise<void>((resolve) => (done = resolve));
    let handled = 0;
    const handledOne = () => void (++handled === 4 && done());
    receiver.onRejection(handledOne);
    receiver.subscribe({
      'visa-issued': async (m) => {
        if ((m.payload as { visaNumber: string }).visaNumber === 'BEL0000002') {
          throw new PasserelleError('ERR_OUT_OF_SEQUENCE', 'no visa expected now');
        }
        received.push({ dossierId: m.meta.dossierId, payload: m.payload });
        handledOne();
      },
    });
    for (const [dossierId, n] of [
      [ERASED, 'BEL0000001'],
      [ERASED, 'BEL0000002'],
      [KEPT, 'BEL0000003'],
      [KEPT, 'BEL0000004'],
    ] as const) {
      const [sent] = await sender.send('visa-issued', visa(n), { to: OE, dossierId });
      sentIds[dossierId]!.push(sent!.id);
    }
    await allHandled;
    expect(received.map((r) => (r.payload as { visaNumber: string }).visaNumber).sort()).toEqual([
      'BEL0000001',
      'BEL0000003',
      'BEL0000004',
    ]);
    const archiveStore = await DecisionArchive.open(nc);
    const document = Buffer.from('annex 46: granted, BEL0000001');
    const ref = {
      sha256: (await import('node:crypto')).createHash('sha256').update(document).digest('hex'),
      size: document.length,
      mediaType: 'application/pdf' as const,
      objectKey: 'decisions/immigration-office/annex-46.pdf',
    };
    const sealedRef = await archiveStore.putSealed(ref, document, await officeKeys.documentSecret(ERASED));
    expect(Buffer.from(await archiveStore.read(sealedRef)).toString()).toBe(document.toString());

    // What the stream holds carries no payload in clear: only the dossier's sealed form inside the JWE.
    const before = await exchangeMessages();
    const envelopesOf = (msgs: { subject: string; data: Uint8Array }[], dossierId: string) =>
      msgs.filter(
        (m) =>
          m.subject.startsWith('pex.msg.') &&
          (JSON.parse(Buffer.from(m.data).toString()) as { meta: EnvelopeMeta }).meta.dossierId === dossierId,
      );
    expect(envelopesOf(before, ERASED)).toHaveLength(2);
    const insideJwe = await openEnvelope(envelopesOf(before, ERASED)[0]!.data, {
      recipient: office,
      resolver,
      freshnessMs: 86_400_000,
    });
    expect(Object.keys(insideJwe.payload as object)).toEqual(['dossierSealed']);
    expect(JSON.stringify(insideJwe.payload)).not.toContain('BEL000000');

    // The ledger records every envelope and receipt; an export, an archive and a backup are taken.
    for (const m of before) {
      if (m.subject.startsWith('pex.msg.')) await writer.appendEnvelope(m.data);
      else if (m.subject.startsWith('pex.rcpt.')) await writer.appendReceipt(m.data);
    }
    await writer.checkpoint();
    const exportPath = join(root, 'ledger-before.jsonl');
    await writeLedgerExport(exportPath, readLedger(nc));
    const archive = await folderArchive(join(root, 'archive'));
    expect((await archiveLedger({ nc, store: archive, auditorKey: auditor })).length).toBeGreaterThan(0);
    const backup = before.map((m) => ({ subject: m.subject, data: Uint8Array.from(m.data) }));
    const deadLetters = (await listDeadLetters(jsm)).map((d) => d.data);
    expect(deadLetters).toHaveLength(1);
    // until the erasure, every copy opens, for a fresh process of the recipient too
    const freshBefore = await DossierKeys.open(nc, { keys: office, directory: resolver, create: false });
    for (const raw of [...envelopesOf(backup, ERASED).map((m) => m.data), ...deadLetters]) {
      expect(await openPayload(raw, freshBefore)).toMatchObject({ visaType: 'D' });
    }

    // A backup of the key bucket, as a stream backup taken now would hold it.
    keyBackup = await bucketCopy();

    // Erased by the command line, signed by the immigration office, on a stated basis.
    const erase = await eraseByCli(root, office, ERASED, world.url);
    expect(erase.err).toBe('');
    expect(erase.code).toBe(0);
    expect(erase.out).toMatch(new RegExp(`dossier ${ERASED} erased at .*: the keys of 2 holders destroyed`));

    // Nothing of it opens: not the live stream, the backup, the dead letter, for either party, even
    // for the processes that held the key in memory, nor with fresh ones.
    const fresh = await Promise.all([
      DossierKeys.open(nc, { keys: office, directory: resolver, create: false }),
      DossierKeys.open(nc, { keys: post, directory: resolver, create: false }),
    ]);
    const after = await exchangeMessages();
    const everyCopy = [
      ...envelopesOf(after, ERASED).map((m) => m.data),
      ...envelopesOf(backup, ERASED).map((m) => m.data),
      ...deadLetters,
    ];
    expect(everyCopy.length).toBeGreaterThanOrEqual(5);
    for (const raw of everyCopy) {
      for (const keys of [officeKeys, ...fresh]) {
        await expect(openPayload(raw, keys)).rejects.toMatchObject({ code: 'ERR_DOSSIER_ERASED' });
      }
    }
    // The bucket holds no copy of the key any more (a purge keeps no earlier revision).
    const kvStream = `KV_${DOSSIER_KEYS_BUCKET}`;
    const kvInfo = await jsm.streams.info(kvStream);
    for (let seq = kvInfo.state.first_seq; seq <= kvInfo.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(kvStream, { seq }).catch(() => null);
      if (m && m.subject.includes(`.${ERASED}.`) && !m.subject.endsWith('._')) expect(m.data.length).toBe(0);
    }
    // The decision document's key is gone with it; a new message or document on the dossier is refused.
    await expect(officeKeys.documentSecret(ERASED)).rejects.toMatchObject({ code: 'ERR_DOSSIER_ERASED' });
    await expect(
      sender.send('visa-issued', visa('BEL0000009'), { to: OE, dossierId: ERASED }),
    ).rejects.toMatchObject({ code: 'ERR_NOT_SENT', details: { cause: 'ERR_DOSSIER_ERASED' } });

    // The other dossier is untouched: its stream copies and backups open with fresh processes.
    for (const m of [...envelopesOf(after, KEPT), ...envelopesOf(backup, KEPT)]) {
      expect(await openPayload(m.data, fresh[0])).toMatchObject({ visaType: 'D' });
    }

    // The ledger records the act (the basis, not a payload), and verifies with it; every proof still passes.
    await writer.checkpoint();
    const lines: string[] = [];
    for await (const m of readLedger(nc)) lines.push(Buffer.from(m.data).toString());
    const erasure = lines.map((l) => parseEntry(l)).find((e) => e.kind === 'erasure');
    expect(erasure?.meta).toMatchObject({ dossierId: ERASED, basis: BASIS, by: OE, holders: [OE, POST] });
    expect(lines.join('\n')).not.toContain('BEL000000');
    const report = await verifyLedger(lines, { resolver, threads: 1 });
    expect(report.ok).toBe(true);
    expect(report.lastSeq).toBe(lines.length);
    // an erasure entry whose basis is rewritten, even re-hashed and re-chained, fails its signature
    const forged = lines.map((l) => parseEntry(l));
    const at = forged.findIndex((e) => e.kind === 'erasure');
    forged[at] = { ...forged[at]!, meta: { ...forged[at]!.meta, basis: 'another basis' } } as LedgerEntry;
    for (let i = at; i < forged.length; i++) {
      const prevHash = i === 0 ? forged[0]!.prevHash : forged[i - 1]!.hash;
      forged[i] = sealEntry({ ...forged[i]!, prevHash });
    }
    const refused = await verifyLedger(forged.map(serializeEntry), { resolver, threads: 1 });
    expect(refused.failure).toMatchObject({ seq: forged[at].seq, code: 'ERR_LEDGER_SEAL_INVALID' });
    for (const id of [...sentIds[ERASED]!, ...sentIds[KEPT]!]) {
      const proof = await proveMessage(readLedgerEntries(nc), id, resolver);
      await expect(checkProof(proof, { resolver })).resolves.toMatchObject({ messageId: id });
    }
    // the dossier's timeline in the ledger says it was erased, on what basis, and still lists its messages
    const trace = await cli(['audit', 'trace', ERASED, '--server', world.url]);
    expect(trace.err).toBe('');
    expect(trace.out).toContain(`by ${OE}`);
    expect(trace.out).toContain(`basis: ${BASIS}`);
    expect(trace.out.match(/visa-issued/g)).toHaveLength(2);
    // the export and the archive taken before still verify, and hold no payload either
    const exported = await openLedgerExport(exportPath);
    expect((await verifyLedger(exported.lines, { resolver, threads: 1 })).ok).toBe(true);
    expect(readFileSync(exportPath, 'utf8')).not.toContain('BEL000000');
    const live = async function* (from: number) {
      for await (const m of readLedger(nc, { from })) yield m.data;
    };
    const archived = await verifyArchive(archive, { resolver, threads: 1, live });
    expect(archived.ok).toBe(true);
    expect(archived.lastSeq).toBe(lines.length);
  });

  test('erase - an unknown dossier, a second erasure, or no basis is a typed error and changes nothing', async () => {
    const { nc, office } = world;
    const keyDir = join(root, 'keys', OE);
    await writeParticipantKeys(keyDir, office, { force: true });
    const base = ['--keys', keyDir, '--server', world.url];
    for (const id of ['DOS-NEVER-SEEN', 'DOS-ERASE-*', '>']) {
      const unknown = await cli(['dossier', 'erase', id, '--basis', BASIS, ...base]);
      expect(unknown.code).toBe(1);
      expect(unknown.err).toContain('ERR_ERASURE_UNKNOWN_DOSSIER');
    }
    const again = await cli(['dossier', 'erase', ERASED, '--basis', BASIS, ...base]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('ERR_DOSSIER_ERASED');
    for (const basis of [undefined, '', '  ', 'x', 'line one\nline two']) {
      const run = await cli([
        'dossier',
        'erase',
        KEPT,
        ...(basis === undefined ? [] : ['--basis', basis]),
        ...base,
      ]);
      expect(run.code).toBe(1);
      expect(run.err).toContain('ERR_ERASURE_BASIS_MISSING');
    }
    // the kept dossier is still there, and the ledger still has one erasure only
    expect((await postKeys.head(KEPT))?.state).toBe('active');
    let erasures = 0;
    for await (const e of readLedgerEntries(nc)) if (e.kind === 'erasure') erasures++;
    expect(erasures).toBe(1);
  });

  test('erase - a restore of the key bucket from a backup taken before the erasure opens nothing once the ledger re-applies it', async () => {
    const { nc, jsm, office, resolver } = world;
    expect(keyBackup.some((b) => b.key.startsWith(`${ERASED}.`) && !b.key.endsWith('._'))).toBe(true);
    // the bucket restored from the backup, as `nats stream restore` of a snapshot taken then would leave it
    await jsm.streams.delete(`KV_${DOSSIER_KEYS_BUCKET}`);
    const restored = await new Kvm(nc).create(DOSSIER_KEYS_BUCKET, { history: 1 });
    for (const b of keyBackup) await restored.put(b.key, b.data);
    const deadLetters = (await listDeadLetters(jsm)).map((d) => d.data);
    const freshOffice = () => DossierKeys.open(nc, { keys: office, directory: resolver, create: false });
    // what the restore brought back opens the erased dossier again: the danger is real
    expect(await openPayload(deadLetters[0]!, await freshOffice())).toMatchObject({ visaType: 'D' });

    // the ledger's erasures applied again, by the command line, before anything else runs
    const reapply = await cli(['dossier', 'reapply-erasures', ...trusted(), '--server', world.url, '--json']);
    expect(reapply.err).toBe('');
    expect(reapply.code).toBe(0);
    expect(JSON.parse(reapply.out)).toEqual({
      recorded: 1,
      reapplied: [{ dossierId: ERASED, headRestored: true, copiesPurged: 2 }],
      refused: [],
    });
    const after = await freshOffice();
    for (const raw of [
      ...deadLetters,
      ...(await exchangeMessages()).filter((m) => m.subject.startsWith('pex.msg.')).map((m) => m.data),
    ]) {
      const opened = await openEnvelope(raw, { recipient: office, resolver, freshnessMs: 86_400_000 });
      if (opened.meta.dossierId === ERASED) {
        await expect(after.open(opened.meta, opened.payload)).rejects.toMatchObject({
          code: 'ERR_DOSSIER_ERASED',
        });
      } else {
        expect(await after.open(opened.meta, opened.payload)).toMatchObject({ visaType: 'D' });
      }
    }
    // with the archive too, and again: nothing more to do
    const again = await cli([
      'dossier',
      'reapply-erasures',
      '--archive',
      join(root, 'archive'),
      ...trusted(),
      '--server',
      world.url,
      '--json',
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out)).toEqual({ recorded: 1, reapplied: [], refused: [] });
    const lines: string[] = [];
    for await (const m of readLedger(nc)) lines.push(Buffer.from(m.data).toString());
    expect((await verifyLedger(lines, { resolver, threads: 1 })).ok).toBe(true);
  });

  test('erase - an erasure entry its eraser did not sign destroys nothing when erasures are re-applied, and audit verify names it', async () => {
    const { nc, office, resolver } = world;
    // someone able to append to LEDGER records an erasure of the kept dossier in the Office's name, with a
    // key of its own that claims the Office's key id
    const forger = await generateParticipantKeys(OE);
    forger.signing = { ...forger.signing, kid: office.signing.kid };
    const forged = await recordErasure(
      nc,
      { dossierId: KEPT, basis: BASIS, kids: [], holders: [OE], erasedAt: new Date().toISOString() },
      { participantId: OE, key: forger.signing },
    );
    // without the anchor, nothing is applied at all
    const unchecked = await cli(['dossier', 'reapply-erasures', '--server', world.url]);
    expect(unchecked.code).toBe(1);
    expect(unchecked.err).toContain('ERR_CONFIG_INVALID');
    const run = await cli(['dossier', 'reapply-erasures', ...trusted(), '--server', world.url, '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.out)).toMatchObject({
      recorded: 1,
      reapplied: [],
      refused: [
        { dossierId: KEPT, seq: forged.seq, reason: expect.stringContaining('ERR_SIGNATURE_INVALID') },
      ],
    });
    expect(run.err).toContain(`refused: entry ${forged.seq}`);
    // the kept dossier's key is untouched: its payloads still open
    expect((await postKeys.head(KEPT))?.state).toBe('active');
    const kept = (await exchangeMessages()).filter((m) => m.subject.startsWith('pex.msg.'));
    let opened = 0;
    for (const m of kept) {
      const envelope = await openEnvelope(m.data, { recipient: office, resolver, freshnessMs: 86_400_000 });
      if (envelope.meta.dossierId !== KEPT) continue;
      expect(await officeKeys.open(envelope.meta, envelope.payload)).toMatchObject({ visaType: 'D' });
      opened++;
    }
    expect(opened).toBeGreaterThan(0);
    // and the ledger's own verification names the forged entry
    const lines: string[] = [];
    for await (const m of readLedger(nc)) lines.push(Buffer.from(m.data).toString());
    const report = await verifyLedger(lines, { resolver, threads: 1 });
    expect(report.ok).toBe(false);
    expect(report.failure).toMatchObject({ seq: forged.seq, code: 'ERR_LEDGER_SEAL_INVALID' });
  });
});

/** Markers of the applicant in the records: found in clear after the erasure, they would show it failed. */
const NAME = 'Erasmarker';
const PASSPORT = 'E13572468';

describe('erasure of a dossier the services and the portal keep records of', { timeout: 120_000 }, () => {
  const nats = useNatsServer();
  const root = mkdtempSync(join(tmpdir(), 'pex-erasure-records-'));
  let h: ProcedureHarness;
  let portal: FastifyInstance;
  let owner: { authorization: string };
  let stranger: { authorization: string };

  beforeAll(async () => {
    h = await startProcedure(nats.url);
    // the real portal service takes the harness's portal participant, its dossier records sealed like the
    // services' under each dossier's key
    await h.portal.close();
    portal = await createPortalService({
      participant: PORTAL,
      keys: h.keys.get(PORTAL)!,
      storageKeys: h.storage.get(PORTAL)!,
      directory: h.resolver,
      contracts: h.contracts,
      nc: h.nc,
      dossierKeys: true,
      consumer: { ackWaitMs: 5_000, backoffMs: [200, 2_000], maxDeliver: 3 },
      logger: createPortalLogger({ level: 'silent' }),
      door: { secret: randomBytes(32), publicUrl: 'https://portal.example.be' },
    });
    const door = portalDoor(portal);
    const token = async (id: string) => {
      const { secret } = await door.clients.create({
        id,
        scopes: ['read', 'decide'],
        createdBy: 'bootstrap',
      });
      return { authorization: `Bearer ${(await door.access.issueToken(id, secret, undefined)).token}` };
    };
    owner = await token('acme-hr');
    stranger = await token('other-hr');
  }, 120_000);

  afterAll(async () => {
    await portal?.close();
    await h?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const upload = async (): Promise<unknown> => {
    const res = await portal.inject({
      method: 'POST',
      url: '/v1/documents',
      headers: { ...owner, 'content-type': 'application/pdf', 'idempotency-key': randomUUID() },
      payload: Buffer.from('%PDF-1.7 a document of the applicant'),
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ document: unknown }>().document;
  };

  /** Every record of the services' and the portal's KV buckets, raw, with the bucket it is in. */
  async function everyRecord(): Promise<{ bucket: string; key: string; value: string }[]> {
    const kvm = new Kvm(h.nc);
    const out: { bucket: string; key: string; value: string }[] = [];
    for await (const status of kvm.list()) {
      const bucket = status.bucket;
      if (!bucket.startsWith('svc-') && !bucket.startsWith('pex-portal-dossiers-')) continue;
      const kv = await kvm.open(bucket);
      for await (const key of await kv.keys()) {
        const e = await kv.get(key);
        if (e?.operation === 'PUT' && e.length > 0) out.push({ bucket, key, value: e.string() });
      }
    }
    return out;
  }

  /** The participant a record belongs to, and the purpose its storage layer is sealed for. */
  function ownerOf(r: { bucket: string; key: string }): { participant: string; purpose: string } {
    if (r.bucket.startsWith('pex-portal-dossiers-')) {
      return { participant: r.bucket.slice('pex-portal-dossiers-'.length), purpose: 'portal dossiers' };
    }
    const participant = r.key.slice(0, r.key.indexOf('.'));
    const purpose = r.bucket.endsWith('-register')
      ? 'register'
      : r.bucket.endsWith('-ict-stays')
        ? 'ict stays'
        : 'dossiers';
    return { participant, purpose };
  }

  /**
   * Reads a dossier record back as its owner would, with a fresh process's keys: the storage key, then
   * the dossier's key. What the storage layer alone gives is returned too.
   */
  async function readBack(r: {
    bucket: string;
    key: string;
    value: string;
  }): Promise<{ storageLayer: unknown; opened: Promise<unknown> }> {
    const { participant, purpose } = ownerOf(r);
    const storage = StateCipher.fromKeyring(h.storage.get(participant)!, purpose);
    const storageLayer = storage.open<unknown>(r.value, r.key);
    const keys = await DossierKeys.open(h.nc, {
      keys: h.keys.get(participant)!,
      directory: h.resolver,
      create: false,
    });
    const dossierId = r.bucket.startsWith('pex-portal-') ? r.key : r.key.slice(r.key.indexOf('.') + 1);
    const opened = new DossierRecordCipher(storage, keys).open<unknown>(r.value, r.key, dossierId);
    return { storageLayer, opened };
  }

  test('erase - no record of the dossier at the services or the portal decrypts afterwards; scans and the API report it erased', async () => {
    // An application and its fee proof filed through the portal, taken by the services to the visa.
    const application = ictFirstApplication({
      applicant: {
        ...ictFirstApplication().applicant,
        familyName: NAME,
        passportNumber: PASSPORT,
      },
    }) as unknown as Record<string, unknown>;
    application['documents'] = {
      passportCopy: await upload(),
      employmentContract: await upload(),
      healthInsurance: { form: 'employer-undertaking', document: await upload(), coversUntil: '2040-12-31' },
      medicalCertificate: await upload(),
      criminalRecord: await upload(),
    };
    const filed = await portal.inject({
      method: 'POST',
      url: '/v1/dossiers',
      headers: { ...owner, 'idempotency-key': randomUUID() },
      payload: application,
    });
    expect(filed.statusCode).toBe(201);
    const { dossierId } = filed.json<{ dossierId: string }>();
    const fee = { ...(feeProof() as Record<string, unknown>), proof: await upload() };
    const paid = await portal.inject({
      method: 'POST',
      url: `/v1/dossiers/${dossierId}/fee-proof`,
      headers: { ...owner, 'idempotency-key': randomUUID() },
      payload: fee,
    });
    expect(paid.statusCode).toBe(202);
    await vi.waitUntil(async () => (await h.office.dossier(OE, dossierId))?.phase === 'visa-issued', {
      timeout: 60_000,
    });

    // Before the erasure every record of the dossier opens for its owner, and its storage layer alone
    // (what a thief with the storage key reads) holds only the dossier's sealed form.
    const before = (await everyRecord()).filter((r) => r.key.endsWith(dossierId));
    const holders = new Set(before.map((r) => ownerOf(r).participant));
    for (const held of [PORTAL, OE, 'region-bruxelles', 'post-lagos']) expect(holders).toContain(held);
    for (const r of before) {
      const { storageLayer, opened } = await readBack(r);
      expect(Object.keys(storageLayer as object).sort()).toEqual(
        r.bucket.startsWith('pex-portal-') ? ['dossierSealed', 'kept'] : ['dossierSealed'],
      );
      expect(JSON.stringify(storageLayer)).not.toContain(NAME);
      expect(await opened).toMatchObject(
        r.bucket.startsWith('pex-portal-')
          ? { dossierId, integrator: 'acme-hr' }
          : { state: { phase: expect.any(String) } },
      );
    }
    expect(JSON.stringify((await h.office.record(OE, dossierId))?.journal)).toContain(PASSPORT);

    // Erased by the command line.
    const erase = await eraseByCli(root, h.keys.get(OE)!, dossierId, nats.url);
    expect(erase.err).toBe('');
    expect(erase.code).toBe(0);

    // Every record of it, read back with each owner's storage key and a fresh process's dossier keys:
    // none decrypts, and none shows the applicant.
    const after = await everyRecord();
    const ofDossier = after.filter((r) => r.key.endsWith(dossierId));
    expect(ofDossier.length).toBeGreaterThanOrEqual(before.length);
    for (const r of ofDossier) {
      const { storageLayer, opened } = await readBack(r);
      await expect(opened).rejects.toMatchObject({ code: 'ERR_DOSSIER_ERASED' });
      expect(JSON.stringify(storageLayer)).not.toMatch(new RegExp(`${NAME}|${PASSPORT}`));
      expect(r.value).not.toMatch(new RegExp(`${NAME}|${PASSPORT}`));
    }
    // The bodies' registers are kept per holder under a pseudonym, not per dossier (their own legal
    // basis): they name no applicant either.
    for (const r of after.filter((x) => !x.key.endsWith(dossierId))) {
      const { participant, purpose } = ownerOf(r);
      const opened = StateCipher.fromKeyring(h.storage.get(participant)!, purpose).open<unknown>(
        r.value,
        r.key,
      );
      expect(JSON.stringify(opened ?? r.value)).not.toMatch(new RegExp(`${NAME}|${PASSPORT}`));
    }

    // The services' own API: the dossier is erased, a typed error; their scans skip it without failing.
    for (const [service, participant] of [
      [h.office, OE],
      [h.region, 'region-bruxelles'],
      [h.posts, 'post-lagos'],
    ] as const) {
      await expect(service.record(participant, dossierId)).rejects.toMatchObject({
        code: 'ERR_DOSSIER_ERASED',
      });
      await expect(service.dossier(participant, dossierId)).rejects.toMatchObject({
        code: 'ERR_DOSSIER_ERASED',
      });
      expect((await service.worklist({ participant })).map((w) => w.dossierId)).not.toContain(dossierId);
      expect((await service.checkDeadlines()).map((r) => r.dossierId)).not.toContain(dossierId);
    }
    // what a case officer could do on it is refused with the same code
    await expect(h.office.available(OE, dossierId)).rejects.toMatchObject({ code: 'ERR_DOSSIER_ERASED' });

    // The portal: its owner is told the dossier was erased (410), anyone else that there is no such
    // dossier (404), and its list no longer shows it.
    const own = await portal.inject({ method: 'GET', url: `/v1/dossiers/${dossierId}`, headers: owner });
    expect(own.statusCode).toBe(410);
    expect(own.json()).toMatchObject({ code: 'ERR_DOSSIER_ERASED' });
    expect(own.body).not.toMatch(new RegExp(`${NAME}|${PASSPORT}`));
    const other = await portal.inject({ method: 'GET', url: `/v1/dossiers/${dossierId}`, headers: stranger });
    expect(other.statusCode).toBe(404);
    await vi.waitUntil(
      async () => {
        const list = await portal.inject({ method: 'GET', url: '/v1/dossiers', headers: owner });
        return list.statusCode === 200 && !list.body.includes(dossierId);
      },
      { timeout: 10_000 },
    );
  });
});

describe('erasure of a dossier whose permit the commune registered', { timeout: 120_000 }, () => {
  let h: ProcedureHarness;
  useProcedure((started) => (h = started));

  test("erase - the registers go with the dossier: the commune's entry of its permit is purged, the region's ICT stay no longer opens", async () => {
    const dossierId = 'DOS-ERASE-PERMIT-1';
    const passport = ictFirstApplication().applicant.passportNumber;
    await toPermitIssued(h, dossierId);
    expect(await h.communes.registeredPermit('commune-21004', passport)).toMatchObject({ dossierId });
    const registerKeys = async () => {
      const kv = await new Kvm(h.nc).open('svc-commune-register');
      const keys: string[] = [];
      for await (const k of await kv.keys('commune-21004.*')) {
        const e = await kv.get(k);
        if (e?.operation === 'PUT' && e.length > 0) keys.push(k);
      }
      return keys;
    };
    expect(await registerKeys()).toHaveLength(1);
    // the region's register of ICT stays holds the granted stay sealed under the dossier's key
    const stays = async () => {
      const kv = await new Kvm(h.nc).open('svc-regional-authority-ict-stays');
      const out: { region: string; key: string; stay: string }[] = [];
      for await (const k of await kv.keys()) {
        const e = await kv.get(k);
        if (e?.operation !== 'PUT' || e.length === 0) continue;
        const region = k.slice(0, k.indexOf('.'));
        const stored = StateCipher.fromKeyring(h.storage.get(region)!, 'ict stays').open<{
          state: { stays: Record<string, unknown> };
        }>(e.string(), k)!;
        const stay = stored.state.stays[dossierId];
        if (typeof stay === 'string') out.push({ region, key: k.slice(region.length + 1), stay });
        else expect(stay).toBeUndefined();
      }
      return out;
    };
    const [granted] = await stays();
    expect(granted).toBeDefined();
    const regionKeys = () =>
      DossierKeys.open(h.nc, { keys: h.keys.get(granted!.region)!, directory: h.resolver, create: false });
    const name = `ict-stay ${granted!.key}`;
    expect(await (await regionKeys()).openRecord(dossierId, name, granted!.stay)).toMatchObject({
      from: expect.any(String),
    });

    const officeKeys = await DossierKeys.open(h.nc, {
      keys: h.keys.get(OE)!,
      directory: h.resolver,
      create: false,
    });
    await eraseDossier(await officeKeys.kv(), dossierId);

    // the entry no longer opens: the holder has no permit on record, and the entry is gone from the bucket
    expect(await h.communes.registeredPermit('commune-21004', passport)).toBeUndefined();
    expect(await registerKeys()).toEqual([]);
    // and the stay no longer opens for the region: a later application counts it no more
    const [kept] = await stays();
    await expect((await regionKeys()).openRecord(dossierId, name, kept!.stay)).rejects.toMatchObject({
      code: 'ERR_DOSSIER_ERASED',
    });
  });
});
