import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { parseEntry, readLedger, traceDossier, verifyLedger, type LedgerEntry } from '@passerelle/audit';
import { newMessageId, signCompact } from '@passerelle/envelope';
import { StreamNames, listDeadLetters } from '@passerelle/exchange';
import { describe, expect, test, vi } from 'vitest';
import type { AuditorConfig, AuditorService } from '../src/index.js';
import { OFFICE, POST, REGION, memoryLogger, sealVisa, seedDossier } from './fixtures.js';
import { startAuditor, useParticipants } from './participants-hook.js';

const DOSSIER = 'DOS-AUD-0001';

describe('auditor service', () => {
  const net = useParticipants();

  const ledger = async (): Promise<LedgerEntry[]> => {
    const out: LedgerEntry[] = [];
    for await (const m of readLedger(net.nc)) out.push(parseEntry(m.data, m.seq));
    return out;
  };

  const start = (extra: Partial<AuditorConfig> = {}): Promise<AuditorService> =>
    startAuditor(net, { checkpointEvery: 4, ...extra });

  test('auditor - records every envelope and receipt of real traffic once, with checkpoints; the ledger verifies', async () => {
    const ids = await seedDossier(net.participants, DOSSIER, {
      familyName: 'Janssens',
      givenNames: 'Mira',
      passportNumber: 'EM1234567',
    });
    const auditor = await start();
    await auditor.caughtUp();
    await auditor.close();
    const entries = await ledger();
    const envelopes = entries.filter((e) => e.kind === 'envelope');
    const receipts = entries.filter((e) => e.kind === 'receipt');
    expect(envelopes.map((e) => (e.kind === 'envelope' ? e.meta.id : '')).sort()).toEqual([...ids].sort());
    expect(receipts).toHaveLength(ids.length);
    // 8 inputs, a checkpoint every 4, none pending after close.
    expect(entries.filter((e) => e.kind === 'checkpoint')).toHaveLength(2);
    const report = await verifyLedger(
      entries.map((e) => JSON.stringify(e)),
      { resolver: net.world.resolver, threads: 1 },
    );
    expect(report).toMatchObject({ ok: true, envelopes: 4, receipts: 4, uncheckpointed: 0 });
    const steps = await traceDossier(entries, DOSSIER);
    expect(steps.map((s) => `${s.type} ${s.sender}>${s.recipient} ${s.receipts.length}`)).toEqual([
      `application-submitted portal-demo>${REGION} 1`,
      `application-submitted portal-demo>${OFFICE} 1`,
      `completeness-ruled ${REGION}>${OFFICE} 1`,
      `visa-issued ${POST}>${OFFICE} 1`,
    ]);
  });

  test('auditor - redelivery, a restart and a re-published duplicate add no entry', async () => {
    const before = (await ledger()).length;
    // Everything is delivered again: the consumer is recreated from the start of EXCHANGE.
    const jsm = await jetstreamManager(net.nc);
    await jsm.consumers.delete(StreamNames.exchange, 'auditor-ledger');
    const auditor = await start({ replayClockSkewMs: 0 });
    await auditor.caughtUp();
    // the first copies, delivered again, are no replay
    expect(auditor.stats).toMatchObject({
      envelopes: 0,
      receipts: 0,
      duplicates: 8,
      replays: 0,
      deadLettered: 0,
    });
    // The same envelope bytes under another Nats-Msg-Id (as after the server's duplicate window): a new
    // copy after its receipt, flagged as such (replay.test.ts).
    const first = await jsm.streams.getMessage(StreamNames.exchange, { seq: 1 });
    await jetstream(net.nc).publish(first!.subject, first!.data, { msgID: `again-${first!.seq}` });
    await auditor.caughtUp();
    expect(auditor.stats).toMatchObject({ duplicates: 9, replays: 1 });
    await auditor.close();
    expect(await ledger()).toHaveLength(before);
  });

  test('auditor - an envelope whose seal fails goes to DEADLETTER with its code and is not recorded; nothing is lost', async () => {
    const before = (await ledger()).length;
    const env = await sealVisa(net.world, DOSSIER, { visaType: 'D' }, { correlationId: 'corr-forged' });
    // The meta is changed after sealing: the seal no longer covers it.
    const forged = { ...env, meta: { ...env.meta, recipient: REGION } };
    const { logger, text } = memoryLogger('info');
    const auditor = await start({ logger });
    await jetstream(net.nc).publish(`pex.msg.visa-issued.${POST}.${REGION}`, JSON.stringify(forged), {
      msgID: forged.meta.id,
    });
    await auditor.caughtUp();
    expect(auditor.stats.deadLettered).toBe(1);
    await auditor.close();
    expect(await ledger()).toHaveLength(before);
    const jsm = await jetstreamManager(net.nc);
    const dead = (await listDeadLetters(jsm, { participant: 'auditor' })) as {
      code: string;
      messageId?: string;
      originalSubject: string;
    }[];
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      code: 'ERR_SEAL_INVALID',
      messageId: forged.meta.id,
      originalSubject: `pex.msg.visa-issued.${POST}.${REGION}`,
    });
    expect(text()).toContain('DEADLETTER');
  });

  test('auditor - a receipt signed with a key that is not the receiver key goes to DEADLETTER and the viewer counts it', async () => {
    const before = (await ledger()).length;
    const claims = {
      messageId: newMessageId(),
      type: 'visa-issued',
      dossierId: DOSSIER,
      sender: POST,
      receiver: OFFICE,
      envelopeSha256: '0'.repeat(64),
      receivedAt: new Date().toISOString(),
      status: 'accepted',
    };
    // Signed by the post, claiming to come from the Immigration Office (kid of the office's key).
    const forged = await signCompact(
      claims,
      { ...net.world.keys.get(POST)!.signing, kid: net.world.keys.get(OFFICE)!.signing.kid },
      { typ: 'pex-receipt+jws' },
    );
    const auditor = await start({ viewer: { token: 'receipt-test-token-000000001', port: 0 } });
    await jetstream(net.nc).publish(`pex.rcpt.${OFFICE}.${POST}`, forged, {
      msgID: `rcpt-${claims.messageId}`,
    });
    await auditor.caughtUp();
    expect(auditor.stats).toMatchObject({ receipts: 0, deadLettered: 1 });
    const home = await fetch(`${auditor.viewerUrl}/`, {
      headers: { authorization: 'Bearer receipt-test-token-000000001' },
    });
    expect((await home.text()).replace(/\s+/g, ' ')).toMatch(
      /Refused inputs kept in DEADLETTER \(pex\.dlq\.auditor\): <strong>2<\/strong>/,
    );
    await auditor.close();
    expect(await ledger()).toHaveLength(before);
    const jsm = await jetstreamManager(net.nc);
    const dead = await listDeadLetters(jsm, { participant: 'auditor' });
    expect(dead.map((d) => [d.code, d.messageId])).toContainEqual([
      'ERR_SIGNATURE_INVALID',
      claims.messageId,
    ]);
  });

  test('auditor - a checkpoint is written after the interval while entries wait', async () => {
    const auditor = await start({ checkpointEvery: 1000, checkpointIntervalMs: 200 });
    await seedDossier(net.participants, 'DOS-AUD-0002', {
      familyName: 'Peeters',
      givenNames: 'Lotte',
      passportNumber: 'EN7654321',
    });
    await auditor.caughtUp();
    await vi.waitFor(() => expect(auditor.writer.state.batchHashes).toHaveLength(0), { timeout: 10_000 });
    const entries = await ledger();
    expect(entries[entries.length - 1]?.kind).toBe('checkpoint');
    await auditor.close();
    const report = await verifyLedger(
      (await ledger()).map((e) => JSON.stringify(e)),
      { resolver: net.world.resolver, threads: 1 },
    );
    expect(report.ok).toBe(true);
  });
});
