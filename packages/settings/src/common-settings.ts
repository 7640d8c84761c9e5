import type { SettingSchema } from './settings-schema.js';

/** The `logLevel` setting every process takes (`PASSERELLE_LOG_LEVEL`, a pino level). */
export const LOG_LEVEL_SETTING: SettingSchema = {
  description: 'pino level of the log lines.',
  type: 'string',
  enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  default: 'info',
  'x-env': 'PASSERELLE_LOG_LEVEL',
};

/** A TCP port (0: any free one); spread it with a `description`, a `default` and an `x-env`. */
export const PORT_SETTING = { type: 'integer', minimum: 0, maximum: 65535 } as const;

/** A path to a file or folder: a non-empty string. */
export const PATH_SETTING = { type: 'string', minLength: 1 } as const;
