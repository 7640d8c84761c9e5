import { describe, expect, test } from 'vitest';
import { valueAt } from '../src/index.js';
import { parsePointer, pick, pointerCovers } from '../src/internal.js';

describe('pointers', () => {
  test('pointer - parse unescapes ~1 and ~0', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/a~1b/c~0d')).toEqual(['a/b', 'c~d']);
  });

  test('pointer - pick keeps only the allow-listed parts, wildcards included', () => {
    const doc = {
      a: 1,
      b: { c: 2, d: 3 },
      list: [
        { x: 1, y: 2 },
        { x: 3, y: 4 },
      ],
      e: null,
    };
    expect(pick(doc, ['/b/c'])).toEqual({ b: { c: 2 } });
    expect(pick(doc, ['/list/*/x'])).toEqual({ list: [{ x: 1 }, { x: 3 }] });
    expect(pick(doc, ['/a', '/missing/deep', '/e'])).toEqual({ a: 1, e: null });
    expect(pick(doc, [''])).toEqual(doc);
    expect(pick(doc, ['/b/*'])).toEqual({ b: { c: 2, d: 3 } });
  });

  test('pointer - valueAt and pointerCovers', () => {
    expect(valueAt({ a: { b: ['x', 'y'] } }, '/a/b/1')).toBe('y');
    expect(valueAt({ a: 1 }, '/a/b')).toBeUndefined();
    expect(pointerCovers('/holder', '/holder/passportNumber')).toBe(true);
    expect(pointerCovers('', '/anything')).toBe(true);
    expect(pointerCovers('/holder/familyName', '/holder')).toBe(false);
    expect(pointerCovers('/documents/*', '/documents/criminalRecord')).toBe(true);
  });
});
