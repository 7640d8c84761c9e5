import { type Logger, pino } from 'pino';

/**
 * Paths pino removes from every log line: payloads (personal data), keys and key material, raw
 * envelopes. Log lines carry meta only (ids, types, participants, codes).
 */
export const REDACT_PATHS = [
  'payload',
  '*.payload',
  'jwe',
  '*.jwe',
  'keys',
  '*.keys',
  'key',
  '*.key',
  'privateKey',
  '*.privateKey',
  'd',
  '*.d',
  'data',
  '*.data',
  'credentials',
  '*.credentials',
];

/** Creates the process logger with redaction (level from `PASSERELLE_LOG_LEVEL`, default info). */
export function createLogger(
  name: string,
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const level = options.level ?? process.env['PASSERELLE_LOG_LEVEL'] ?? 'info';
  const opts = { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  return options.destination ? pino(opts, options.destination as never) : pino(opts);
}

export type { Logger };
