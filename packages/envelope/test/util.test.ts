import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { deriveMessageId, newMessageId } from '../src/index.js';
import { EnvelopeError } from '../src/internal.js';
import { UUID_V7, decodeBase64Url, isBase64Url, parseStrictJson, sha256Hex } from '../src/internal.js';

describe('util', () => {
  test('util - newMessageId mints ordered UUID v7 values', () => {
    const ids = Array.from({ length: 2000 }, () => newMessageId());
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    const t = Date.now() + 60_000;
    expect(parseInt(newMessageId(t).replace(/-/g, '').slice(0, 12), 16)).toBe(t);
  });

  test('util - deriveMessageId: the same UUID v7 for the same base and label, another for another label', () => {
    const base = newMessageId();
    const a = deriveMessageId(base, 'post-ankara');
    expect(a).toMatch(UUID_V7);
    expect(deriveMessageId(base, 'post-ankara')).toBe(a);
    expect(a.slice(0, 13)).toBe(base.slice(0, 13)); // the base's millisecond timestamp
    const others = ['post-lagos', 'commune-21004', 'immigration-office'].map((l) => deriveMessageId(base, l));
    expect(new Set([a, ...others, base]).size).toBe(5);
    expect(deriveMessageId(newMessageId(), 'post-ankara')).not.toBe(a);
  });

  test('util - parseStrictJson refuses duplicate keys, trailing data and deep nesting, keeps __proto__ as data', () => {
    expect(parseStrictJson('{"a":[1,{"b":"\\u00e9"}],"c":null}', 'x')).toEqual({
      a: [1, { b: 'é' }],
      c: null,
    });
    for (const bad of [
      '{"a":1,"a":2}',
      '{"a":{"b":1,"b":1}}',
      '{} x',
      '['.repeat(100) + ']'.repeat(100),
      "{'a':1}",
      '{"a":01}',
      '',
    ]) {
      expect(() => parseStrictJson(bad, 'x')).toThrow(EnvelopeError);
    }
    const o = parseStrictJson('{"__proto__":{"polluted":1}}', 'x') as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(o['__proto__']).toEqual({ polluted: 1 });
  });

  test('util - parseStrictJson gives the same value or the same refusal for compact and spaced-out text', () => {
    // compact text as JSON.stringify writes it takes the fast path; the same value spaced out takes the full parser
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const compact = JSON.stringify(value);
        expect(parseStrictJson(compact, 'x')).toEqual(parseStrictJson(JSON.stringify(value, null, 1), 'x'));
        expect(parseStrictJson(compact, 'x')).toEqual(JSON.parse(compact));
      }),
    );
    // nesting: 65 levels (depth 0 to 64) pass, 66 do not, whichever path reads them
    for (const space of ['', ' ']) {
      const nested = (n: number, inner = ''): string =>
        `${'['.repeat(n)}${inner}${']'.repeat(n)}`.split('').join(space);
      expect(() => parseStrictJson(nested(65), 'x')).not.toThrow();
      expect(() => parseStrictJson(nested(66), 'x')).toThrow(/nesting too deep/);
      expect(() => parseStrictJson(nested(64, '1'), 'x')).not.toThrow();
      expect(() => parseStrictJson(nested(65, '1'), 'x')).toThrow(/nesting too deep/);
    }
    expect(() => parseStrictJson('{"a":1,"b":{"c":2,"c":2}}', 'x')).toThrow(/duplicate key/);
    // backslashes before quotes, quotes and colons inside keys and values, spaced-out colons
    const tricky = { 'a\\': 1, a: '\\":', 'b\\"': [':'], 'c":': 'd\\\\":' };
    const text = JSON.stringify(tricky);
    expect(parseStrictJson(text, 'x')).toEqual(tricky);
    expect(() => parseStrictJson(`${text.slice(0, -1)},"a":2}`, 'x')).toThrow(/duplicate key/);
    expect(() => parseStrictJson(`${text.slice(0, -1)},"c\\":":2}`, 'x')).toThrow(/duplicate key/);
    expect(() => parseStrictJson('{"a":1, "a" :2}', 'x')).toThrow(/duplicate key/);
    // numbers of any length, as JSON.parse reads them, on both paths
    for (const n of [`1${'0'.repeat(500)}`, `0.${'0'.repeat(500)}1`, `-1e${'9'.repeat(400)}`]) {
      expect(parseStrictJson(`{"n":${n}}`, 'x')).toEqual({ n: JSON.parse(n) as number });
      expect(parseStrictJson(`{ "n" : ${n} }`, 'x')).toEqual({ n: JSON.parse(n) as number });
    }
  });

  test('util - parseStrictJson refuses every object with a key written twice, compact or spaced out', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 }),
        fc.nat(),
        fc.boolean(),
        (object, pick, spaced) => {
          const keys = Object.keys(object);
          const key = keys[pick % keys.length]!;
          const text = JSON.stringify(object, null, spaced ? 1 : undefined);
          // the same key once more, with another value, as the last member
          const doubled = `${text.slice(0, text.lastIndexOf('}'))},${JSON.stringify(key)}:0}`;
          expect(() => parseStrictJson(doubled, 'x')).toThrow(/duplicate key/);
        },
      ),
    );
  });

  test('util - sha256Hex is the SHA-256 of the UTF-8 bytes, in lower-case hex', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('util - isBase64Url accepts exactly the spelling that re-encodes to itself; decodeBase64Url refuses the others', () => {
    const char = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/ .');
    fc.assert(
      fc.property(fc.array(char, { maxLength: 13 }), (chars) => {
        const s = chars.join('');
        const canonical =
          /^[A-Za-z0-9_-]*$/.test(s) && Buffer.from(s, 'base64url').toString('base64url') === s;
        expect(isBase64Url(s)).toBe(canonical);
        if (canonical) expect(decodeBase64Url(s, 'x')).toEqual(Buffer.from(s, 'base64url'));
        else expect(codeOfThrow(() => decodeBase64Url(s, 'x'))).toBe('ERR_ENVELOPE_MALFORMED');
      }),
      { numRuns: 5000 },
    );
    // every byte string's own encoding, and each respelling of its last character
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const s = Buffer.from(bytes).toString('base64url');
        expect(isBase64Url(s)).toBe(true);
        for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') {
          const other = s.slice(0, -1) + c;
          if (s !== '' && other !== s && Buffer.from(other, 'base64url').equals(Buffer.from(bytes)))
            expect(isBase64Url(other)).toBe(false);
        }
      }),
    );
  });
});

function codeOfThrow(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err instanceof EnvelopeError ? err.code : err;
  }
  return 'no error';
}
