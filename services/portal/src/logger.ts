import { type Logger, pino } from 'pino';
import { REDACT_PATHS } from '@passerelle/exchange';

/**
 * What the portal's log lines never show, beyond the exchange runtime's list: request bodies and the
 * applicant's data wherever they would appear, bearer tokens, idempotency keys, document capabilities.
 */
export const PORTAL_REDACT_PATHS = [
  ...REDACT_PATHS,
  'body',
  '*.body',
  'req.body',
  'req.headers.authorization',
  'req.headers["idempotency-key"]',
  'headers.authorization',
  'applicant',
  '*.applicant',
  'holder',
  '*.holder',
  'documents',
  '*.documents',
  'objectKey',
  '*.objectKey',
];

/**
 * The portal's pino logger with redaction (level from `PASSERELLE_LOG_LEVEL`, default info).
 *
 * @example
 * ```ts
 * const logger = createPortalLogger({ level: 'debug' });
 * ```
 */
export function createPortalLogger(
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const level = options.level ?? process.env['PASSERELLE_LOG_LEVEL'] ?? 'info';
  const opts = { name: 'portal', level, redact: { paths: PORTAL_REDACT_PATHS, censor: '[redacted]' } };
  return options.destination ? pino(opts, options.destination as never) : pino(opts);
}
