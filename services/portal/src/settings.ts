import { join, resolve } from 'node:path';
import { defineSettings } from '@passerelle/settings';
import { PORTAL_SETTINGS_SCHEMA } from './settings-schema.js';

/**
 * The portal process's settings, validated against {@link PORTAL_SETTINGS_SCHEMA} (which describes each,
 * with its variable and default), the defaults that depend on other settings filled in.
 */
export interface PortalSettings {
  /** Absolute. */
  home: string;
  /** Absent: the one `pnpm start` recorded in `<home>/server.json`. */
  natsUrl?: string;
  participant: string;
  doorSecretFile: string;
  publicUrl: string;
  adminClientFile?: string;
  directoryState: string;
  legacyState: boolean;
  /** `PASSERELLE_DOSSIER_KEYS` (default false). */
  dossierKeys: boolean;
  host: string;
  port: number;
  metricsPort?: number;
  logLevel: string;
}

const portalSettings = defineSettings<
  Omit<PortalSettings, 'doorSecretFile' | 'publicUrl' | 'directoryState'> &
    Partial<Pick<PortalSettings, 'doorSecretFile' | 'publicUrl' | 'directoryState'>>
>('portal', PORTAL_SETTINGS_SCHEMA);

/**
 * Reads and validates the portal's settings from the environment; throws ERR_CONFIG_INVALID naming the
 * first bad setting by JSON pointer and variable.
 *
 * @example
 * ```ts
 * const settings = readPortalSettings(process.env);
 * ```
 */
export function readPortalSettings(env: Readonly<Record<string, string | undefined>>): PortalSettings {
  const values = portalSettings.read({ env });
  const home = resolve(values.home);
  return {
    ...values,
    home,
    doorSecretFile: values.doorSecretFile ?? join(home, 'keys', values.participant, 'door.secret'),
    publicUrl: values.publicUrl ?? `http://${values.host}:${values.port}`,
    directoryState: values.directoryState ?? join(home, `directory-state.${values.participant}.json`),
  };
}
