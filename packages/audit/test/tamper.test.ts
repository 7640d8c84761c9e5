import { beforeAll, describe, expect, test } from 'vitest';
import { CHECKPOINT_TYP } from '../src/chain.js';
import { type CheckpointLedgerEntry, type LedgerEntry, sealEntry } from '../src/entry.js';
import { signCompact } from '@passerelle/envelope';
import { verifyLedger } from '../src/verify.js';
import { buildLedger, makeKey, makeKeys } from './fixtures.js';

// One ledger of 10 000 envelopes (plus checkpoints) with real ES256 seals, shared by every case.
let ledger: Awaited<ReturnType<typeof buildLedger>>;
beforeAll(async () => {
  ledger = await buildLedger(10_000, 250);
}, 120_000);

/** Re-links entries from `index` on, as a forger who recomputes every later hash would. */
function rechain(entries: LedgerEntry[], index: number): LedgerEntry[] {
  const out = entries.map((e) => ({ ...e }));
  for (let i = Math.max(1, index); i < out.length; i++) {
    const { hash: _h, ...rest } = { ...(out[i] as LedgerEntry), prevHash: (out[i - 1] as LedgerEntry).hash };
    out[i] = sealEntry(rest);
  }
  return out;
}

const lines = (entries: LedgerEntry[]): string[] => entries.map((e) => JSON.stringify(e));
const verify = (input: string[]) => verifyLedger(input, { resolver: ledger.resolver, threads: 2 });

// Each case verifies the whole ledger; generous timeouts because the two cores are shared with other suites.
describe('tamper', { timeout: 120_000 }, () => {
  test('tamper - the untouched 10 000-entry ledger verifies', async () => {
    expect(ledger.entries.length).toBeGreaterThanOrEqual(10_000);
    const report = await verify(ledger.lines);
    expect(report.failure).toBeUndefined();
    expect(report.entries).toBe(ledger.entries.length);
    expect(report.checkpoints).toBe(40);
  });

  test('tamper - one altered byte of one entry is named by seq (hash mismatch)', async () => {
    const i = 4321;
    const target = ledger.entries[i] as LedgerEntry;
    const input = [...ledger.lines];
    const line = input[i] as string;
    const at = line.indexOf('"jweSha256":"') + '"jweSha256":"'.length;
    input[i] = line.slice(0, at) + (line[at] === 'a' ? 'b' : 'a') + line.slice(at + 1);
    const report = await verify(input);
    expect(report.failure).toEqual({
      seq: target.seq,
      code: 'ERR_LEDGER_HASH_MISMATCH',
      reason: expect.any(String),
    });
  });

  test('tamper - an altered byte that breaks the JSON is named by seq (malformed)', async () => {
    const input = [...ledger.lines];
    input[777] = (input[777] as string).replace('{', '[');
    const report = await verify(input);
    expect(report.failure).toMatchObject({ seq: 778, code: 'ERR_LEDGER_ENTRY_MALFORMED' });
  });

  test('tamper - an altered meta with every later hash recomputed is caught by the seal', async () => {
    const i = 5000;
    const entries = [...ledger.entries];
    const e = entries[i] as LedgerEntry;
    if (e.kind !== 'envelope') throw new Error('fixture: expected an envelope entry');
    entries[i] = { ...e, meta: { ...e.meta, recipient: 'commune-99999' } };
    const report = await verify(lines(rechain(entries, i)));
    expect(report.failure).toMatchObject({ seq: e.seq, code: 'ERR_LEDGER_SEAL_INVALID' });
  });

  test('tamper - one flipped signature byte with every later hash recomputed is caught by the worker', async () => {
    const i = 8888;
    const entries = [...ledger.entries];
    const e = entries[i] as LedgerEntry;
    if (e.kind !== 'envelope') throw new Error('fixture: expected an envelope entry');
    const sig = e.seal.slice(e.seal.lastIndexOf('.') + 1);
    const flipped = (sig[5] === 'A' ? 'B' : 'A') + '';
    entries[i] = {
      ...e,
      seal: `${e.seal.slice(0, e.seal.lastIndexOf('.') + 1)}${sig.slice(0, 5)}${flipped}${sig.slice(6)}`,
    };
    const report = await verify(lines(rechain(entries, i)));
    expect(report.failure).toMatchObject({ seq: e.seq, code: 'ERR_LEDGER_SEAL_INVALID' });
  });

  test('tamper - a ledger that recorded a seal or a checkpoint respelled (unused base64url bits set) is refused at that seq', async () => {
    // the last character of an ES256 signature (86 characters) has four unused bits: the same signature
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respell = (jws: string): string => jws.slice(0, -1) + alphabet[alphabet.indexOf(jws.slice(-1)) | 1];
    for (const [kind, seq, code] of [
      ['envelope', 7, 'ERR_LEDGER_SEAL_INVALID'],
      ['checkpoint', 11, 'ERR_LEDGER_CHECKPOINT_INVALID'],
    ] as const) {
      // written so from the start: every hash and checkpoint root covers the respelled text
      const small = await buildLedger(30, 10, await makeKeys(), (k, s, seal) =>
        k === kind && s === seq ? respell(seal) : seal,
      );
      expect(small.entries[seq - 1]).toMatchObject({ kind, seq });
      const report = await verifyLedger(small.lines, { resolver: small.resolver, threads: 1 });
      expect(report.failure).toMatchObject({ seq, code });
    }
  });

  test('tamper - a removed entry is named as the missing seq', async () => {
    const input = [...ledger.lines];
    input.splice(6000, 1);
    const report = await verify(input);
    expect(report.failure).toMatchObject({ seq: 6001, code: 'ERR_LEDGER_GAP' });
  });

  test('tamper - a removed entry with renumbered, re-hashed successors is caught by its checkpoint', async () => {
    const entries = ledger.entries.filter((_, i) => i !== 6000).map((e, i) => ({ ...e, seq: i + 1 }));
    const report = await verify(lines(rechain(entries, 6000)));
    const cp = entries.find((e) => e.seq > 6000 && e.kind === 'checkpoint') as LedgerEntry;
    expect(report.failure).toMatchObject({ seq: cp.seq, code: 'ERR_LEDGER_CHECKPOINT_INVALID' });
  });

  test('tamper - two swapped entries are named at the first position', async () => {
    const input = [...ledger.lines];
    [input[3000], input[3100]] = [input[3100] as string, input[3000] as string];
    const report = await verify(input);
    expect(report.failure).toMatchObject({ seq: 3001, code: 'ERR_LEDGER_GAP' });
  });

  test('tamper - a checkpoint re-signed by another key is named by its seq', async () => {
    const index = ledger.entries.findIndex((e, i) => i > 2000 && e.kind === 'checkpoint');
    const original = ledger.entries[index] as CheckpointLedgerEntry;
    const forger = await makeKey('auditor-sig-1');
    const forged = sealEntry<CheckpointLedgerEntry>({
      ...original,
      seal: await signCompact(original.meta, forger, { typ: CHECKPOINT_TYP }),
    });
    const entries = [...ledger.entries];
    entries[index] = forged;
    const report = await verify(lines(rechain(entries, index + 1)));
    expect(report.failure).toMatchObject({ seq: original.seq, code: 'ERR_LEDGER_CHECKPOINT_INVALID' });
  });

  test('tamper - a checkpoint signed by an unknown key id is named by its seq', async () => {
    const index = ledger.entries.findIndex((e, i) => i > 7000 && e.kind === 'checkpoint');
    const original = ledger.entries[index] as CheckpointLedgerEntry;
    const forged = sealEntry<CheckpointLedgerEntry>({
      ...original,
      seal: await signCompact(original.meta, await makeKey('rogue-1'), { typ: CHECKPOINT_TYP }),
    });
    const entries = [...ledger.entries];
    entries[index] = forged;
    const report = await verify(lines(rechain(entries, index + 1)));
    expect(report.failure).toMatchObject({ seq: original.seq, code: 'ERR_LEDGER_CHECKPOINT_INVALID' });
  });
});
