import { runServiceMain } from '@passerelle/service-host';
import { createConsularPostService } from './service.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables; see README.md.
await runServiceMain('consular-post', 'consular-post', (config) => createConsularPostService(config));
