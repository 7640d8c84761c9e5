import { runServiceMain } from '@passerelle/service-host';
import { createCommuneService } from './service.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables; see README.md.
await runServiceMain('commune', 'commune', (config) => createCommuneService(config));
