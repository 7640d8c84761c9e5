import { describe, expect, test } from 'vitest';
import { canonicalJson } from '../src/canonical-json.js';
import { type LedgerEntry, entryHash } from '../src/entry.js';
import { storedEntryHash } from '../src/stored-hash.js';
import { buildLedger } from './fixtures.js';

describe('stored hash', () => {
  test('stored hash - equals entryHash for stored envelope and checkpoint entries', async () => {
    const l = await buildLedger(12, 5);
    for (const [i, e] of l.entries.entries()) {
      expect(storedEntryHash(l.lines[i] as string, e)).toBe(entryHash(e));
      expect(storedEntryHash(canonicalJson(e), e)).toBe(e.hash);
    }
  });

  test('stored hash - non-canonical text (spaces, key order) falls back to the full canonical hash', async () => {
    const l = await buildLedger(3, 10);
    const e = l.entries[1] as LedgerEntry;
    const spaced = JSON.stringify(e, null, 1);
    expect(storedEntryHash(spaced, JSON.parse(spaced) as LedgerEntry)).toBe(e.hash);
    const { hash, ...rest } = e;
    const reordered = JSON.stringify({ hash, ...Object.fromEntries(Object.entries(rest).reverse()) });
    expect(storedEntryHash(reordered, JSON.parse(reordered) as LedgerEntry)).toBe(e.hash);
  });

  test('stored hash - an altered member changes the hash on the fast path', async () => {
    const l = await buildLedger(3, 10);
    const e = l.entries[2] as LedgerEntry;
    const altered = (l.lines[2] as string).replace('"receivedAt":"2026', '"receivedAt":"2027');
    expect(altered).not.toBe(l.lines[2]);
    expect(storedEntryHash(altered, JSON.parse(altered) as LedgerEntry)).not.toBe(e.hash);
  });
});
