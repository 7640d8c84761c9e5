import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type EnvelopeMeta,
  type ParticipantKeys,
  generateKey,
  signCompact,
  toPublicJwk,
} from '@passerelle/envelope';
import { sha256Hex } from '@passerelle/envelope/internal';
import { freshLedger as resetLedger } from './fresh-ledger.js';
import { useLedgerParties, sealedEnvelope, storedLedger } from './ledger-parties.js';
import { describe, expect, test } from 'vitest';
import { parseEntry } from '../src/parse-entry.js';
import { openLedgerExport, writeLedgerExport } from '../src/export-file.js';
import { checkProof, proveMessage } from '../src/proof.js';
import { readLedger, readLedgerEntries } from '../src/reader.js';
import { traceDossier } from '../src/trace.js';
import { verifyLedger } from '../src/verify.js';
import { createLedgerWriter } from '../src/writer.js';
import type { LedgerEntry } from '../src/entry.js';

// Personal data the senders put in payloads: it must never reach the ledger.
const PERSON = {
  name: 'Aïcha Benali-Verstraeten',
  passport: 'MA7741902',
  address: 'Rue de la Loi 16, 1000 Bruxelles',
};
const DOSSIER = 'DOS-2026-000417';

describe('writer', { timeout: 60_000 }, () => {
  const parties = useLedgerParties();

  const freshLedger = () => resetLedger(parties.jsm);
  const envelope = (from: ParticipantKeys, to: ParticipantKeys, type = 'residence-decided') =>
    sealedEnvelope(from, to, {
      type,
      dossierId: DOSSIER,
      correlationId: 'corr-417',
      payload: { person: PERSON, decision: 'granted' },
    });
  const stored = () => storedLedger(parties.nc);
  /** A writer on the test server; checkpoints by count only unless an interval is given. */
  const newWriter = (checkpointEvery?: number, checkpointIntervalMs = 0) =>
    createLedgerWriter({
      nc: parties.nc,
      auditorKey: parties.auditor,
      resolver: parties.resolver,
      checkpointIntervalMs,
      ...(checkpointEvery === undefined ? {} : { checkpointEvery }),
    });

  async function receipt(
    raw: string,
    by: ParticipantKeys,
    change: Record<string, unknown> = {},
  ): Promise<string> {
    const { meta } = JSON.parse(raw) as { meta: EnvelopeMeta };
    return signCompact(
      {
        messageId: meta.id,
        type: meta.type,
        dossierId: meta.dossierId,
        sender: meta.sender,
        receiver: by.participantId,
        envelopeSha256: sha256Hex(raw),
        receivedAt: new Date().toISOString(),
        status: 'accepted',
        ...change,
      },
      by.signing,
      { typ: 'pex-receipt+jws' },
    );
  }

  test('writer - records envelopes and receipts with checkpoints; the stored ledger verifies and holds no personal data', async () => {
    await freshLedger();
    const writer = await newWriter(4);
    for (let i = 0; i < 5; i++) {
      const raw = await envelope(parties.office, parties.region);
      const e = await writer.appendEnvelope(raw);
      expect(e.envelopeSha256).toBe(sha256Hex(raw));
      await writer.appendReceipt(await receipt(raw, parties.region));
    }
    await writer.close();
    const lines = await stored();
    const kinds = lines.map((l) => parseEntry(l).kind);
    expect(kinds.filter((k) => k === 'checkpoint')).toHaveLength(3);
    expect(lines.map((l) => parseEntry(l).seq)).toEqual(lines.map((_, i) => i + 1));
    const report = await verifyLedger(lines, { resolver: parties.resolver, threads: 1 });
    expect(report).toMatchObject({ ok: true, envelopes: 5, receipts: 5, checkpoints: 3, uncheckpointed: 0 });
    const bytes = lines.join('\n');
    for (const secret of [PERSON.name, PERSON.passport, PERSON.address, 'Benali', 'granted']) {
      expect(bytes).not.toContain(secret);
    }
  });

  test('writer - refuses an envelope whose seal does not cover its JWE and a forged receipt, and appends nothing', async () => {
    await freshLedger();
    const writer = await newWriter();
    const env = JSON.parse(await envelope(parties.office, parties.region)) as { jwe: string };
    env.jwe = env.jwe.replace(/\.([A-Za-z0-9_-])/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`);
    await expect(writer.appendEnvelope(JSON.stringify(env))).rejects.toMatchObject({
      code: 'ERR_LEDGER_INPUT_REJECTED',
    });
    const raw = await envelope(parties.office, parties.region);
    // A receipt claiming the region as receiver but signed by the office is a forgery.
    await expect(
      writer.appendReceipt(await receipt(raw, { ...parties.region, signing: parties.office.signing })),
    ).rejects.toMatchObject({
      code: 'ERR_LEDGER_INPUT_REJECTED',
    });
    expect(writer.state.nextSeq).toBe(1);
    expect(await stored()).toHaveLength(0);
  });

  test('writer - a receipt carrying anything but its claims, or a claim not shaped as one, is refused before it can reach the ledger, even signed by its receiver', async () => {
    await freshLedger();
    const writer = await newWriter();
    const raw = await envelope(parties.office, parties.region);
    for (const [change, claim] of [
      [{ holder: { familyName: PERSON.name, passportNumber: PERSON.passport } }, 'holder'],
      [{ dossierId: `${PERSON.passport} ${PERSON.name}` }, 'dossierId'],
      [{ messageId: PERSON.passport }, 'messageId'],
      [{ receivedAt: PERSON.address }, 'receivedAt'],
      [{ envelopeSha256: PERSON.name }, 'envelopeSha256'],
    ] as const) {
      const refused = await writer.appendReceipt(await receipt(raw, parties.region, change)).then(
        () => undefined,
        (err: unknown) => err as Error & { code: string },
      );
      expect(refused).toMatchObject({ code: 'ERR_LEDGER_INPUT_REJECTED' });
      expect(refused!.message).toContain(claim);
      for (const secret of [PERSON.name, PERSON.passport, PERSON.address]) {
        expect(refused!.message).not.toContain(secret);
      }
    }
    expect(await stored()).toHaveLength(0);
    // the receiver's well-formed receipt is taken
    await writer.appendEnvelope(raw);
    await writer.appendReceipt(await receipt(raw, parties.region));
    await writer.close();
    expect((await stored()).map((l) => parseEntry(l).kind)).toContain('receipt');
  });

  test('writer - an envelope or a receipt whose signature is respelled (unused base64url bits set) is refused, and nothing is appended', async () => {
    await freshLedger();
    const writer = await newWriter();
    // the last character of an ES256 signature (86 characters) has four unused bits: the same signature
    const respell = (jws: string): string => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      return jws.slice(0, -1) + alphabet[alphabet.indexOf(jws.slice(-1)) | 1];
    };
    const raw = await envelope(parties.office, parties.region);
    const env = JSON.parse(raw) as { seal: string };
    await expect(
      writer.appendEnvelope(JSON.stringify({ ...env, seal: respell(env.seal) })),
    ).rejects.toMatchObject({ code: 'ERR_LEDGER_INPUT_REJECTED' });
    await expect(writer.appendReceipt(respell(await receipt(raw, parties.region)))).rejects.toMatchObject({
      code: 'ERR_LEDGER_INPUT_REJECTED',
    });
    expect(await stored()).toHaveLength(0);
    await writer.close();
  });

  test('writer - two writers never fork the chain, and a restarted writer resumes from the stored head', async () => {
    await freshLedger();
    const a = await newWriter(5);
    const b = await newWriter(5);
    for (let i = 0; i < 4; i++) {
      await a.appendEnvelope(await envelope(parties.office, parties.region));
      // b still believes the ledger is where it last saw it: its publish is refused and it rebuilds on the real head.
      const e = await b.appendEnvelope(await envelope(parties.region, parties.office, 'residence-requested'));
      expect(e.seq).toBe(b.state.nextSeq - 1);
    }
    const before = (await stored()).length;
    const resumed = await newWriter(5);
    expect(resumed.state.nextSeq).toBe(before + 1);
    await resumed.appendEnvelope(await envelope(parties.office, parties.region));
    await resumed.close();
    const lines = await stored();
    const report = await verifyLedger(lines, { resolver: parties.resolver, threads: 1 });
    expect(report.failure).toBeUndefined();
    expect(report.envelopes).toBe(9);
  });

  test('writer - a checkpoint is written after the interval when entries are pending', async () => {
    await freshLedger();
    const writer = await newWriter(1000, 100);
    await writer.appendEnvelope(await envelope(parties.office, parties.region));
    expect(writer.state.batchHashes).toHaveLength(1);
    for (let i = 0; i < 50 && writer.state.batchHashes.length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(writer.state.batchHashes).toHaveLength(0);
    expect((await stored()).map((l) => parseEntry(l).kind)).toEqual(['envelope', 'checkpoint']);
    await writer.close();
    expect(await stored()).toHaveLength(2);
  });

  test('writer - an export verifies offline, proves a message, and traces the dossier', async () => {
    await freshLedger();
    const writer = await newWriter(3);
    const first = await envelope(parties.office, parties.region);
    await writer.appendEnvelope(first);
    await writer.appendReceipt(await receipt(first, parties.region));
    for (let i = 0; i < 3; i++)
      await writer.appendEnvelope(await envelope(parties.region, parties.office, 'residence-requested'));
    await writer.close();

    const dir = mkdtempSync(join(tmpdir(), 'pex-audit-'));
    const file = join(dir, 'ledger.jsonl');
    expect(await writeLedgerExport(file, readLedger(parties.nc))).toBe(7);
    const exp = await openLedgerExport(file);
    expect(exp.header).toMatchObject({ format: 'passerelle-ledger', version: 1, from: 1 });
    expect(await verifyLedger(exp.lines, { resolver: parties.resolver, threads: 1 })).toMatchObject({
      ok: true,
      entries: 7,
    });

    const firstId = (JSON.parse(first) as { meta: EnvelopeMeta }).meta.id;
    const entries: LedgerEntry[] = [];
    for await (const e of readLedgerEntries(parties.nc)) entries.push(e);
    const proof = await proveMessage(entries, firstId, parties.resolver);
    const proofFile = join(dir, 'proof.json');
    writeFileSync(proofFile, JSON.stringify(proof));
    const loaded = JSON.parse(readFileSync(proofFile, 'utf8')) as typeof proof;
    expect(await checkProof(loaded, { auditorKey: toPublicJwk(parties.auditor) })).toMatchObject({
      messageId: firstId,
      seq: 1,
      senderKeyFrom: 'proof',
    });
    expect(await checkProof(loaded, { resolver: parties.resolver })).toMatchObject({
      senderKeyFrom: 'directory',
    });
    const otherAuditor = toPublicJwk(await generateKey('sig', { kid: 'auditor-sig-1' }));
    await expect(checkProof(loaded, { auditorKey: otherAuditor })).rejects.toMatchObject({
      code: 'ERR_PROOF_INVALID',
    });
    const badPath = { ...loaded, path: loaded.path.map((p, i) => (i === 0 ? sha256Hex(p) : p)) };
    await expect(checkProof(badPath, { auditorKey: toPublicJwk(parties.auditor) })).rejects.toThrow(
      /Merkle path/,
    );

    const steps = await traceDossier(entries, DOSSIER);
    expect(steps).toHaveLength(4);
    expect(steps[0]).toMatchObject({
      messageId: firstId,
      sender: 'immigration-office',
      recipient: 'region-bruxelles',
      checkpointSeq: 4,
    });
    expect(steps[0]?.receipts).toEqual([
      { seq: 2, receiver: 'region-bruxelles', receivedAt: expect.any(String) },
    ]);
  });
});
