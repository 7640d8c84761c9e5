import { defineSettings } from '@passerelle/settings';
import { LAUNCHER_SETTINGS_SCHEMA } from './launcher-settings-schema.js';

/** The settings of `pnpm start`, validated against {@link LAUNCHER_SETTINGS_SCHEMA}. */
export interface LauncherSettings {
  home: string;
  port: number;
  portalPort?: number;
  auditorPort?: number;
  checkpointEvery: number;
  checkpointSeconds: number;
  logLevel: string;
}

const launcherSettings = defineSettings<LauncherSettings>('pnpm start', LAUNCHER_SETTINGS_SCHEMA);

/**
 * Reads and validates the launcher's settings from the environment; ERR_CONFIG_INVALID names the first
 * bad one by JSON pointer and variable.
 *
 * @example
 * ```ts
 * const { home, port } = readLauncherSettings(process.env);
 * ```
 */
export function readLauncherSettings(env: Readonly<Record<string, string | undefined>>): LauncherSettings {
  return launcherSettings.read({ env });
}
