import { runServiceMain, textSetting } from '@passerelle/service-host';
import { createCommuneService } from './service.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables; see README.md.
await runServiceMain('commune', 'commune', (config, settings) => {
  const registerBucket = textSetting('commune', settings, 'registerBucket');
  return createCommuneService({ ...config, ...(registerBucket ? { registerBucket } : {}) });
});
