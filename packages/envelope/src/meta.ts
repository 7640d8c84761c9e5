import { EnvelopeError } from './envelope-error.js';
import { isJsonObject } from './strict-json.js';
import type { EnvelopeMeta } from './types.js';
import { UUID_V7 } from './util.js';

/** The members of {@link EnvelopeMeta}, in canonical order. */
export const META_KEYS = [
  'id',
  'type',
  'schemaVersion',
  'sender',
  'recipient',
  'dossierId',
  'issuedAt',
  'correlationId',
  'causationId',
] as const;

const TOKEN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const DOSSIER = /^[A-Za-z0-9-]{8,64}$/;
const REF = /^[A-Za-z0-9._:-]{1,128}$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

function bad(field: string, rule: string): never {
  throw new EnvelopeError('ERR_ENVELOPE_MALFORMED', `meta.${field} ${rule}.`, { details: { field } });
}

/**
 * Checks that `value` is a well-formed {@link EnvelopeMeta} (exact members, patterns, lengths) and
 * returns it typed. Messages name the field, never its value.
 */
export function assertEnvelopeMeta(value: unknown): EnvelopeMeta {
  if (!isJsonObject(value)) bad('', 'must be an object');
  for (const k of Object.keys(value)) {
    if (!(META_KEYS as readonly string[]).includes(k)) bad(k.slice(0, 32), 'is not a meta member');
  }
  const m = value;
  const str = (field: string, re: RegExp, max = 128): string => {
    const v = m[field];
    if (typeof v !== 'string' || v.length > max || !re.test(v)) bad(field, `must match ${re.source}`);
    return v;
  };
  str('id', UUID_V7);
  str('type', TOKEN, 64);
  if (
    !Number.isInteger(m['schemaVersion']) ||
    (m['schemaVersion'] as number) < 1 ||
    (m['schemaVersion'] as number) > 10_000
  ) {
    bad('schemaVersion', 'must be an integer from 1');
  }
  str('sender', TOKEN, 64);
  str('recipient', TOKEN, 64);
  str('dossierId', DOSSIER, 64);
  const issuedAt = str('issuedAt', RFC3339_UTC, 40);
  if (Number.isNaN(Date.parse(issuedAt))) bad('issuedAt', 'is not a valid date');
  str('correlationId', REF);
  if (m['causationId'] !== null) str('causationId', REF);
  return m as unknown as EnvelopeMeta;
}

/** `meta` with its members in canonical order (what seal and inner signature cover). */
export function canonicalMeta(meta: EnvelopeMeta): EnvelopeMeta {
  return {
    id: meta.id,
    type: meta.type,
    schemaVersion: meta.schemaVersion,
    sender: meta.sender,
    recipient: meta.recipient,
    dossierId: meta.dossierId,
    issuedAt: meta.issuedAt,
    correlationId: meta.correlationId,
    causationId: meta.causationId,
  };
}
