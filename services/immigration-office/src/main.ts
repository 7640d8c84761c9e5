import { policySetting, runServiceMain } from '@passerelle/service-host';
import { automaticOfficePolicy } from './policy.js';
import { createImmigrationOfficeService } from './service.js';
import { IMMIGRATION_OFFICE_SETTINGS_SCHEMA, type ImmigrationOfficeSettings } from './settings-schema.js';

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables, validated against
// IMMIGRATION_OFFICE_SETTINGS_SCHEMA; see README.md. No automatic decision unless the file says
// `"policy": "automatic"`.
await runServiceMain<ImmigrationOfficeSettings>(
  'immigration-office',
  'immigration-office',
  (config, settings) => {
    const { feeAmountCents, feePaymentWorkingDays } = settings.extra;
    return createImmigrationOfficeService({
      ...config,
      feeAmountCents,
      feePaymentWorkingDays,
      ...policySetting(settings, automaticOfficePolicy),
    });
  },
  { schema: IMMIGRATION_OFFICE_SETTINGS_SCHEMA },
);
