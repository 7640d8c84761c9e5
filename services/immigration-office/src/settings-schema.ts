import { POLICY_SETTING, serviceSettingsSchema } from '@passerelle/service-host';

/** The Immigration Office service's own settings, beside the host's. */
export interface ImmigrationOfficeSettings {
  feeAmountCents: number;
  feePaymentWorkingDays: number;
  policy?: 'automatic';
}

/** The Immigration Office service process's settings: the host's, the fee, and the automatic policy. */
export const IMMIGRATION_OFFICE_SETTINGS_SCHEMA = serviceSettingsSchema('immigration-office', {
  feeAmountCents: {
    description: 'The fee every category pays, in euro cents (Art. 1/2/1).',
    type: 'integer',
    minimum: 1,
    default: 35_800,
  },
  feePaymentWorkingDays: {
    description: 'Working days given to pay the rest of a fee paid short.',
    type: 'integer',
    minimum: 1,
    default: 15,
  },
  policy: POLICY_SETTING,
});
