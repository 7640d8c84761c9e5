import { runServiceMain } from '@passerelle/service-host';
import { createImmigrationOfficeService } from './service.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables; see README.md.
await runServiceMain('immigration-office', 'immigration-office', (config, settings) => {
  const { feeAmountCents, feePaymentWorkingDays } = settings.extra;
  return createImmigrationOfficeService({
    ...config,
    ...(typeof feeAmountCents === 'number' ? { feeAmountCents } : {}),
    ...(typeof feePaymentWorkingDays === 'number' ? { feePaymentWorkingDays } : {}),
  });
});
