import { POLICY_SETTING, serviceSettingsSchema } from '@passerelle/service-host';

/** The consular post service's own settings, beside the host's. */
export interface ConsularPostSettings {
  policy?: 'automatic';
}

/** The consular post service process's settings: the host's, and the automatic policy. */
export const CONSULAR_POST_SETTINGS_SCHEMA = serviceSettingsSchema('consular-post', {
  policy: POLICY_SETTING,
});
