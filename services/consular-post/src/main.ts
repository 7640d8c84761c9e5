import { policySetting, runServiceMain } from '@passerelle/service-host';
import { automaticPostPolicy } from './policy.js';
import { createConsularPostService } from './service.js';
import { CONSULAR_POST_SETTINGS_SCHEMA, type ConsularPostSettings } from './settings-schema.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables, validated against
// CONSULAR_POST_SETTINGS_SCHEMA; see README.md. No automatic decision unless the file says
// `"policy": "automatic"`.
await runServiceMain<ConsularPostSettings>(
  'consular-post',
  'consular-post',
  (config, settings) =>
    createConsularPostService({ ...config, ...policySetting(settings, automaticPostPolicy) }),
  { schema: CONSULAR_POST_SETTINGS_SCHEMA },
);
