import { loadNativeAddon } from './native-addon.js';

/**
 * P-256 work with keys used again and again (`native/p256-fixed.c`, built by `pnpm install`): for a public
 * key it builds once a table of the key's multiples (148 KiB, ≈ 1.3 ms), the kind OpenSSL keeps for the
 * generator, after which an ES256 verification costs about a third of node:crypto's and an ECDH-ES
 * agreement (fresh ephemeral key and Z) about half of the agreement addon's. Points are 65-byte
 * uncompressed SEC 1 encodings, checked to be on the curve.
 */
export interface NativeKeyTables {
  /** The table of a public key; throws (`ERR_P256_POINT`) unless `point` is a point of P-256. */
  key(point: Buffer): NativeKeyTable;
  /** ES256: whether `signature` (r ‖ s, 64 bytes) signs the SHA-256 of `data` with the table's key. */
  verify(key: NativeKeyTable, data: Buffer, signature: Buffer): boolean;
  /** The same on libuv's thread pool (the SHA-256 of `data` is taken before the call returns). */
  verifyOnPool(key: NativeKeyTable, data: Buffer, signature: Buffer): Promise<boolean>;
  /** A fresh ephemeral key pair and its agreement with the table's key: epk (65 bytes) ‖ Z (32 bytes). */
  ephemeral(key: NativeKeyTable): Buffer;
}

/** An opaque handle held by the addon (the table is freed with it). */
export type NativeKeyTable = { readonly __nativeP256Table: unique symbol };

/** Whether the addon is in use here, and if not, why. */
export type NativeKeyTablesStatus =
  { available: true; tables: NativeKeyTables } | { available: false; reason: string };

let status: NativeKeyTablesStatus | undefined;

/** Loads the addon once (see `loadNativeAddon` for when it is unavailable). */
export function nativeKeyTables(): NativeKeyTablesStatus {
  if (!status) {
    const loaded = loadNativeAddon<NativeKeyTables>('p256-fixed');
    status = loaded.available ? { available: true, tables: loaded.addon } : loaded;
  }
  return status;
}

/** The tables of the keys a provider uses most, built at a key's `after`-th use, at most `max` kept. */
export interface KeyTableCache {
  /** The key's table if it has one (or has just reached its `after`-th use); counts the use. */
  lookup(id: string, point: () => Buffer): NativeKeyTable | undefined;
  readonly tables: NativeKeyTables;
}

/**
 * Tables for the keys in use: each use of a key without a table is counted, and at the `after`-th its table
 * is built; at most `max` tables are kept (≈ 148 KiB each), the least recently used dropped first. A key
 * whose table cannot be built (not a curve point) is not tried again; the caller's own path then refuses it.
 */
export function createKeyTableCache(tables: NativeKeyTables, after: number, max = 64): KeyTableCache {
  const built = new Map<string, NativeKeyTable | null>();
  const uses = new Map<string, number>();
  return {
    tables,
    lookup(id, point) {
      const table = built.get(id);
      if (table !== undefined) {
        // most recently used last: Map keeps insertion order
        built.delete(id);
        built.set(id, table);
        return table ?? undefined;
      }
      const count = (uses.get(id) ?? 0) + 1;
      if (count < after) {
        // counted for many more keys than tables are kept: a key in use reaches its table between clears
        if (uses.size >= 64 * max) uses.clear();
        uses.set(id, count);
        return undefined;
      }
      uses.delete(id);
      let made: NativeKeyTable | null;
      try {
        made = tables.key(point());
      } catch {
        made = null;
      }
      if (built.size >= max) built.delete(built.keys().next().value as string);
      built.set(id, made);
      return made ?? undefined;
    },
  };
}
