import { runServiceMain } from '@passerelle/service-host';
import { createCommuneService } from './service.js';
import { COMMUNE_SETTINGS_SCHEMA, type CommuneSettings } from './settings-schema.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables, validated against
// COMMUNE_SETTINGS_SCHEMA; see README.md.
await runServiceMain<CommuneSettings>(
  'commune',
  'commune',
  (config, settings) => createCommuneService({ ...config, ...settings.extra }),
  { schema: COMMUNE_SETTINGS_SCHEMA },
);
