import { policySetting, runServiceMain } from '@passerelle/service-host';
import { automaticRegionPolicy } from './policy.js';
import { createRegionalAuthorityService } from './service.js';
import { REGIONAL_AUTHORITY_SETTINGS_SCHEMA, type RegionalAuthoritySettings } from './settings-schema.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables, validated against
// REGIONAL_AUTHORITY_SETTINGS_SCHEMA; see README.md. No automatic decision unless the file says
// `"policy": "automatic"`.
await runServiceMain<RegionalAuthoritySettings>(
  'regional-authority',
  'regional-authority',
  (config, settings) =>
    createRegionalAuthorityService({
      ...config,
      timeLimits: settings.extra.timeLimits ?? {},
      ...policySetting(settings, automaticRegionPolicy),
    }),
  { schema: REGIONAL_AUTHORITY_SETTINGS_SCHEMA },
);
