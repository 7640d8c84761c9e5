import { createHash } from 'node:crypto';
import { LedgerError } from './ledger-error.js';

// RFC 6962 §2.1 domain separation: a leaf can never be passed off as an inner node.
const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** Merkle leaf hash of a ledger entry: SHA-256(0x00 ‖ entry hash bytes). */
export function leafHash(entryHashHex: string): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(Buffer.from(entryHashHex, 'hex')).digest();
}

/** Merkle inner node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function rootOfLeaves(leaves: readonly Buffer[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 1) return leaves[lo] as Buffer;
  const k = split(n);
  return nodeHash(rootOfLeaves(leaves, lo, lo + k), rootOfLeaves(leaves, lo + k, hi));
}

/**
 * RFC 6962 Merkle tree hash of a batch of entry hashes (hex), as hex.
 *
 * @example
 * ```ts
 * const root = merkleRoot(batch.map((e) => e.hash));
 * ```
 */
export function merkleRoot(entryHashes: readonly string[]): string {
  if (entryHashes.length === 0) {
    throw new LedgerError('ERR_LEDGER_CHECKPOINT_INVALID', 'A checkpoint cannot cover an empty batch.');
  }
  return rootOfLeaves(entryHashes.map(leafHash), 0, entryHashes.length).toString('hex');
}

/** RFC 6962 audit path (hex sibling hashes, leaf to root) of leaf `index` in a batch of entry hashes. */
export function inclusionPath(entryHashes: readonly string[], index: number): string[] {
  if (!Number.isInteger(index) || index < 0 || index >= entryHashes.length) {
    throw new LedgerError(
      'ERR_LEDGER_NOT_FOUND',
      `Leaf ${index} is outside a batch of ${entryHashes.length}.`,
    );
  }
  const leaves = entryHashes.map(leafHash);
  const path: string[] = [];
  const walk = (m: number, lo: number, hi: number): void => {
    const n = hi - lo;
    if (n === 1) return;
    const k = split(n);
    if (m < k) {
      walk(m, lo, lo + k);
      path.push(rootOfLeaves(leaves, lo + k, hi).toString('hex'));
    } else {
      walk(m - k, lo + k, hi);
      path.push(rootOfLeaves(leaves, lo, lo + k).toString('hex'));
    }
  };
  walk(index, 0, leaves.length);
  return path;
}

/**
 * Root implied by an audit path (RFC 9162 §2.1.3.2), or `undefined` when the path has the wrong length for
 * `index` in a tree of `size` leaves.
 */
export function rootFromPath(
  entryHashHex: string,
  index: number,
  size: number,
  path: readonly string[],
): string | undefined {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return undefined;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(entryHashHex);
  for (const p of path) {
    if (!/^[0-9a-f]{64}$/.test(p)) return undefined;
    if (sn === 0) return undefined;
    const sibling = Buffer.from(p, 'hex');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(sibling, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r.toString('hex') : undefined;
}
