import { serviceSettingsSchema } from '@passerelle/service-host';

/** The commune service's own settings, beside the host's. */
export interface CommuneSettings {
  registerBucket?: string;
}

/** The commune service process's settings: the host's, and the register bucket. */
export const COMMUNE_SETTINGS_SCHEMA = serviceSettingsSchema('commune', {
  registerBucket: {
    description: 'The register bucket (the permits the commune filed).',
    type: 'string',
    minLength: 1,
    'x-default': '`svc-commune-register`',
  },
});
