import { policySetting, runServiceMain } from '@passerelle/service-host';
import { automaticOfficePolicy } from './policy.js';
import { createImmigrationOfficeService } from './service.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables; see README.md. No automatic decision
// unless the file says `"policy": "automatic"`.
await runServiceMain('immigration-office', 'immigration-office', (config, settings) => {
  const { feeAmountCents, feePaymentWorkingDays } = settings.extra;
  return createImmigrationOfficeService({
    ...config,
    ...(typeof feeAmountCents === 'number' ? { feeAmountCents } : {}),
    ...(typeof feePaymentWorkingDays === 'number' ? { feePaymentWorkingDays } : {}),
    ...policySetting('immigration-office', settings, automaticOfficePolicy),
  });
});
