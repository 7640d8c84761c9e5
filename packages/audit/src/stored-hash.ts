import { sha256Hex } from './digest.js';
import { type LedgerEntry, entryHash } from './entry.js';

/** Whether every object in `value` lists its keys in canonical (UTF-16 code unit) order. */
function keysSorted(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every(keysSorted);
  const obj = value as Record<string, unknown>;
  let prev: string | undefined;
  for (const k of Object.keys(obj)) {
    if (prev !== undefined && !(prev < k)) return false;
    if (!keysSorted(obj[k])) return false;
    prev = k;
  }
  return true;
}

/**
 * Hash of an entry read back as `text`, equal to {@link entryHash} of the parsed `entry`. Stored entries are
 * canonical JSON already, so when re-serialising the parsed value gives `text` back with every key in
 * canonical order, the canonical form without `hash` is `text` with that one top-level member cut out — no
 * need to rebuild it. Anything else (whitespace, key order, numbers written differently) takes the full path.
 * This keeps the verifier's main thread, which hashes every entry, off the critical path of the workers.
 */
export function storedEntryHash(text: string, entry: LedgerEntry): string {
  const record = entry as unknown as Record<string, unknown>;
  if (JSON.stringify(entry) !== text || !keysSorted(entry)) return entryHash(entry);
  const keys = Object.keys(record);
  const idx = keys.indexOf('hash');
  if (idx < 0) return entryHash(entry);
  let prefix = '{';
  for (let i = 0; i < idx; i++) {
    const k = keys[i] as string;
    const v = record[k];
    // Only flat members may precede `hash`, so the member found below is the top-level one.
    if (typeof v === 'object' && v !== null) return entryHash(entry);
    prefix += `${JSON.stringify(k)}:${JSON.stringify(v)},`;
  }
  const member = `"hash":${JSON.stringify(record['hash'])}`;
  if (!text.startsWith(prefix + member)) return entryHash(entry);
  const rest = text.slice(prefix.length + member.length);
  // `rest` is either `}` (hash was the last member) or `,…}`.
  const without = rest === '}' ? `${idx > 0 ? prefix.slice(0, -1) : prefix}}` : prefix + rest.slice(1);
  return sha256Hex(without);
}
