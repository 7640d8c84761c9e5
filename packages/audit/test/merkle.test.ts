import { describe, expect, test } from 'vitest';
import { canonicalJson } from '../src/canonical-json.js';
import { sha256Hex } from '../src/digest.js';
import { inclusionPath, leafHash, merkleRoot, nodeHash, rootFromPath } from '../src/merkle.js';

const hashes = (n: number): string[] => Array.from({ length: n }, (_, i) => sha256Hex(`entry-${i}`));

describe('merkle', () => {
  test('merkle - a single leaf is its own domain-separated leaf hash', () => {
    const [h] = hashes(1) as [string];
    expect(merkleRoot([h])).toBe(leafHash(h).toString('hex'));
    expect(merkleRoot([h])).not.toBe(h);
  });

  test('merkle - three leaves follow RFC 6962 (left subtree of the largest power of two)', () => {
    const [a, b, c] = hashes(3) as [string, string, string];
    const expected = nodeHash(nodeHash(leafHash(a), leafHash(b)), leafHash(c)).toString('hex');
    expect(merkleRoot([a, b, c])).toBe(expected);
  });

  test('merkle - every leaf of trees of 1 to 33 leaves has a path that rebuilds the root', () => {
    for (let n = 1; n <= 33; n++) {
      const hs = hashes(n);
      const root = merkleRoot(hs);
      for (let i = 0; i < n; i++) {
        expect(rootFromPath(hs[i] as string, i, n, inclusionPath(hs, i))).toBe(root);
      }
    }
  });

  test('merkle - a path fails for another leaf, another index or a truncated path', () => {
    const hs = hashes(10);
    const root = merkleRoot(hs);
    const path = inclusionPath(hs, 4);
    expect(rootFromPath(hs[5] as string, 4, 10, path)).not.toBe(root);
    expect(rootFromPath(hs[4] as string, 5, 10, path)).not.toBe(root);
    expect(rootFromPath(hs[4] as string, 4, 10, path.slice(1))).toBeUndefined();
    expect(rootFromPath(hs[4] as string, 4, 10, [...path, path[0] as string])).toBeUndefined();
  });

  test('merkle - canonical JSON sorts keys at every depth and omits undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[1,"x"]},"b":1}',
    );
  });
});
