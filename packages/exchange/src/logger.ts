import { type Logger, type LoggerOptions, pino } from 'pino';

/**
 * Members pino removes from every log line, at any depth: payloads and the people they describe
 * (personal data), keys and key material, raw envelopes and bodies. Log lines carry meta only (ids,
 * types, participants, codes).
 */
export const REDACTED_KEYS: readonly string[] = [
  'payload',
  'jwe',
  'data',
  'applicant',
  'holder',
  'keys',
  'key',
  'privateKey',
  'd',
  'credentials',
];

/** The top-level and one-level paths of `keys`, in pino's `redact` syntax. */
export function redactPaths(keys: readonly string[]): string[] {
  return keys.flatMap((k) => [k, `*.${k}`]);
}

/** The top-level and one-level paths of {@link REDACTED_KEYS}, in pino's `redact` syntax. */
export const REDACT_PATHS: readonly string[] = redactPaths(REDACTED_KEYS);

const CENSOR = '[redacted]';
/** Deeper than this, a log object is cut rather than walked. */
const MAX_DEPTH = 8;

/**
 * `value` with the value of every member named in `keys` replaced by the censor, however deep it sits in
 * plain objects and arrays. Instances of classes (errors, requests) are left to pino's serializers.
 */
function censorDeep(value: unknown, keys: ReadonlySet<string>, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) return CENSOR;
  if (Array.isArray(value)) return value.map((v) => censorDeep(v, keys, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = keys.has(k) ? CENSOR : censorDeep(v, keys, depth + 1);
  }
  return out;
}

/**
 * pino options that keep `keys` out of log lines at any depth (pino's own `redact` paths stop at the
 * depth they spell; a payload nested in an event object would pass them), and `paths` as pino spells them.
 */
export function redactionOptions(
  keys: readonly string[],
  paths: readonly string[] = [],
): Pick<LoggerOptions, 'redact' | 'formatters'> {
  const set = new Set(keys);
  return {
    // the fast paths for the common shapes; the formatter covers every other depth
    redact: { paths: [...redactPaths(keys), ...paths], censor: CENSOR },
    formatters: { log: (obj) => censorDeep(obj, set, 0) as Record<string, unknown> },
  };
}

/** Creates the process logger with redaction (level from `PASSERELLE_LOG_LEVEL`, default info). */
export function createLogger(
  name: string,
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const level = options.level ?? process.env['PASSERELLE_LOG_LEVEL'] ?? 'info';
  const opts = { name, level, ...redactionOptions(REDACTED_KEYS) };
  return options.destination ? pino(opts, options.destination as never) : pino(opts);
}

export type { Logger };
