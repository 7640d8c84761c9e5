import { createStaticResolver, toPublicJwk } from '@passerelle/envelope';
import { describe, expect, test } from 'vitest';
import { verifyLedger } from '../src/verify.js';
import { SENDERS, buildLedger, makeKeys } from './fixtures.js';

describe('verify', () => {
  test('verify - a well-formed ledger of envelopes and checkpoints verifies', async () => {
    const l = await buildLedger(50, 16);
    const report = await verifyLedger(l.lines, { resolver: l.resolver, threads: 2 });
    expect(report.failure).toBeUndefined();
    expect(report).toMatchObject({
      ok: true,
      firstSeq: 1,
      lastSeq: 53,
      envelopes: 50,
      checkpoints: 3,
      uncheckpointed: 2,
    });
  });

  test('verify - a range starting later takes its first prevHash and partial batch as given', async () => {
    const l = await buildLedger(50, 16);
    const report = await verifyLedger(l.lines.slice(29, 45), {
      resolver: l.resolver,
      threads: 1,
      startSeq: 30,
    });
    expect(report).toMatchObject({ ok: true, firstSeq: 30, lastSeq: 45, checkpoints: 1 });
    const wrongStart = await verifyLedger(l.lines.slice(29, 45), { resolver: l.resolver, threads: 1 });
    expect(wrongStart.failure).toMatchObject({ seq: 1, code: 'ERR_LEDGER_GAP' });
  });

  test('verify - a seal by a key that expired before issuedAt is named by seq', async () => {
    const k = await makeKeys();
    const l = await buildLedger(20, 8, k);
    // The commune's key stops at the issuedAt of its third envelope (n = 10; senders rotate every 4 envelopes).
    const expiry = new Date(Date.UTC(2026, 0, 1) + 10 * 1000).toISOString();
    const resolver = createStaticResolver(
      k.publicKeys.map((p) =>
        p.participantId === SENDERS[2]
          ? { ...p, signing: [{ ...toPublicJwk(k.keys[SENDERS[2]]!), notAfter: expiry }] }
          : p,
      ),
    );
    const report = await verifyLedger(l.lines, { resolver, threads: 1 });
    const bad = l.entries.find(
      (e) => e.kind === 'envelope' && e.meta.sender === SENDERS[2] && e.meta.issuedAt > expiry,
    );
    expect(report.failure).toMatchObject({ seq: bad?.seq, code: 'ERR_LEDGER_SEAL_INVALID' });
    expect(report.failure?.reason).toContain('valid at');
  });

  test('verify - checkpoints verify against a pinned auditor key, and fail against another', async () => {
    const l = await buildLedger(20, 8);
    const pinned = await verifyLedger(l.lines, {
      resolver: l.resolver,
      auditorKey: toPublicJwk(l.auditor),
      threads: 1,
    });
    expect(pinned.ok).toBe(true);
    const other = (await makeKeys()).auditor;
    const wrong = await verifyLedger(l.lines, {
      resolver: l.resolver,
      auditorKey: toPublicJwk(other),
      threads: 1,
    });
    expect(wrong.failure).toMatchObject({ seq: 9, code: 'ERR_LEDGER_CHECKPOINT_INVALID' });
  });
});
