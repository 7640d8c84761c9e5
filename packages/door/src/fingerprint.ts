import { createHash } from 'node:crypto';

/**
 * JSON with object members in code-point order at every level: two bodies that differ only by the order
 * of their members give the same text.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The fingerprint of a request for `Idempotency-Key`: SHA-256 over its method, its route (the pattern, not
 * the raw path), its path parameters and its parsed body, each length-prefixed so that no two requests
 * collide by concatenation.
 *
 * @example
 * ```ts
 * requestFingerprint('POST', '/dossiers/:dossierId/decisions', { dossierId: 'd-1' }, { outcome: 'granted' });
 * ```
 */
export function requestFingerprint(method: string, route: string, params: unknown, body: unknown): string {
  const hash = createHash('sha256');
  for (const part of [method, route, canonicalJson(params ?? {}), canonicalJson(body ?? null)]) {
    hash.update(`${Buffer.byteLength(part)}:${part}\n`);
  }
  return hash.digest('hex');
}
