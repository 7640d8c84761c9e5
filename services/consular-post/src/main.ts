import { policySetting, runServiceMain } from '@passerelle/service-host';
import { automaticPostPolicy } from './policy.js';
import { createConsularPostService } from './service.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables; see README.md. No automatic decision
// unless the file says `"policy": "automatic"`.
await runServiceMain('consular-post', 'consular-post', (config, settings) =>
  createConsularPostService({ ...config, ...policySetting('consular-post', settings, automaticPostPolicy) }),
);
