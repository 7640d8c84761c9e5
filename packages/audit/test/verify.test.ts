import { describe, expect, test } from 'vitest';
import { verifyLedger } from '../src/verify.js';
import { buildLedger } from './fixtures.js';

describe('verify', () => {
  test('verify - a well-formed ledger of envelopes and checkpoints verifies', async () => {
    const l = buildLedger(50, 16);
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
});
