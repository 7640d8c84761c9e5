import { LedgerError } from './ledger-error.js';

/**
 * Serialises `value` as canonical JSON: object keys sorted by UTF-16 code units (as RFC 8785 does), no
 * whitespace, `undefined` properties omitted. Hashes of ledger entries are taken over this form, so two
 * writers or verifiers always hash the same bytes for the same entry whatever key order they received.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw new LedgerError('ERR_LEDGER_ENTRY_MALFORMED', 'A non-finite number cannot be hashed.');
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      const v: unknown = value[i];
      out += canonicalJson(v === undefined ? null : v);
    }
    return `${out}]`;
  }
  if (typeof value === 'object') {
    // Plain loops: this runs once per ledger entry on the verifier's main thread.
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    let out = '{';
    let first = true;
    for (const k of keys) {
      const v = obj[k];
      if (v === undefined) continue;
      out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
      first = false;
    }
    return `${out}}`;
  }
  throw new LedgerError('ERR_LEDGER_ENTRY_MALFORMED', `A value of type ${typeof value} cannot be hashed.`);
}
