import { describe, expect, test } from 'vitest';
import { EnvelopeError, canonicalJson, newMessageId, parseStrictJson, sha256Hex } from '../src/index.js';

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

  test('util - canonicalJson and sha256Hex are stable', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
