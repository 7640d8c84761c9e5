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
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
  }
  throw new LedgerError('ERR_LEDGER_ENTRY_MALFORMED', `A value of type ${typeof value} cannot be hashed.`);
}
