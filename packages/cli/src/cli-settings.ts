import { defineSettings } from '@passerelle/settings';
import { CLI_SETTINGS_SCHEMA } from './settings-schema.js';

/** The CLI's settings, validated against {@link CLI_SETTINGS_SCHEMA}. */
export interface CliSettings {
  natsUrl?: string;
  credentials?: string;
  home: string;
}

const cliSettings = defineSettings<CliSettings>('passerelle', CLI_SETTINGS_SCHEMA);

/**
 * Reads and validates the CLI's settings from the environment; ERR_CONFIG_INVALID names the first bad one
 * by JSON pointer and variable.
 *
 * @example
 * ```ts
 * const { home } = readCliSettings(process.env);
 * ```
 */
export function readCliSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): CliSettings {
  return cliSettings.read({ env });
}
