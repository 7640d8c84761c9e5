import { type Logger, pino } from 'pino';
import { REDACTED_KEYS, REDACT_PATHS, redactPaths, redactionOptions } from '@passerelle/exchange/internal';

/**
 * What the portal's log lines never show, at any depth, beyond the exchange runtime's list: request
 * bodies, decision documents and their capabilities.
 */
const PORTAL_REDACTED_KEYS = [...REDACTED_KEYS, 'body', 'documents', 'objectKey'];

/** Paths of request parts the portal's log lines never show: bearer tokens, idempotency keys. */
const PORTAL_HEADER_PATHS = [
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'headers["idempotency-key"]',
];

/** Everything the portal's logger redacts, in pino's `redact` syntax (top level, one level down, headers). */
export const PORTAL_REDACT_PATHS = [
  ...REDACT_PATHS,
  ...redactPaths(PORTAL_REDACTED_KEYS.filter((k) => !REDACTED_KEYS.includes(k))),
  ...PORTAL_HEADER_PATHS,
];

/**
 * The portal's pino logger with redaction (default level info; the process passes its `logLevel` setting).
 *
 * @example
 * ```ts
 * const logger = createPortalLogger({ level: 'debug' });
 * ```
 */
export function createPortalLogger(
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const level = options.level ?? 'info';
  const opts = { name: 'portal', level, ...redactionOptions(PORTAL_REDACTED_KEYS, PORTAL_HEADER_PATHS) };
  return options.destination ? pino(opts, options.destination as never) : pino(opts);
}
