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

/** A member of {@link EnvelopeMeta}. */
export type MetaKey = (typeof META_KEYS)[number];

const text =
  (re: RegExp, max: number) =>
  (v: unknown): boolean =>
    typeof v === 'string' && v.length <= max && re.test(v);

/** What each meta member must be: the rule named in errors, and its check. */
const FIELD_RULES: Record<MetaKey, { rule: string; ok: (v: unknown) => boolean }> = {
  id: { rule: `must match ${UUID_V7.source}`, ok: text(UUID_V7, 128) },
  type: { rule: `must match ${TOKEN.source}`, ok: text(TOKEN, 64) },
  schemaVersion: {
    rule: 'must be an integer from 1',
    ok: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 10_000,
  },
  sender: { rule: `must match ${TOKEN.source}`, ok: text(TOKEN, 64) },
  recipient: { rule: `must match ${TOKEN.source}`, ok: text(TOKEN, 64) },
  dossierId: { rule: `must match ${DOSSIER.source}`, ok: text(DOSSIER, 64) },
  issuedAt: {
    rule: `must match ${RFC3339_UTC.source}`,
    ok: (v) => text(RFC3339_UTC, 40)(v) && !Number.isNaN(Date.parse(v as string)),
  },
  correlationId: { rule: `must match ${REF.source}`, ok: text(REF, 128) },
  causationId: { rule: `must match ${REF.source}`, ok: (v) => v === null || text(REF, 128)(v) },
};

function bad(field: string, rule: string): never {
  throw new EnvelopeError('ERR_ENVELOPE_MALFORMED', `meta.${field} ${rule}.`, { details: { field } });
}

/**
 * Whether `value` is well formed for the meta member `field` (its pattern and length): identifiers,
 * participant ids, times. Used wherever an unchecked value is about to be shown or kept.
 */
export function isWellFormedMetaField(field: MetaKey, value: unknown): boolean {
  return FIELD_RULES[field].ok(value);
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
  for (const field of META_KEYS) {
    const { rule, ok } = FIELD_RULES[field];
    if (!ok(value[field])) {
      const shaped = field === 'issuedAt' && text(RFC3339_UTC, 40)(value[field]);
      bad(field, shaped ? 'is not a valid date' : rule);
    }
  }
  return value as unknown as EnvelopeMeta;
}

/**
 * The members of an unchecked meta that are meta members and well formed, and nothing else: what may be
 * shown of a message that was refused (a dead letter), whose other members could hold anything.
 */
export function wellFormedMetaFields(value: unknown): Partial<EnvelopeMeta> {
  if (!isJsonObject(value)) return {};
  const out: Record<string, unknown> = {};
  for (const field of META_KEYS) {
    if (field in value && FIELD_RULES[field].ok(value[field])) out[field] = value[field];
  }
  return out;
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
