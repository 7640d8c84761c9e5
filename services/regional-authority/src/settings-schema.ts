import { POLICY_SETTING, serviceSettingsSchema } from '@passerelle/service-host';
import { DEFAULT_REGION_TIME_LIMITS, type RegionTimeLimits } from './rules.js';

/** The regional authority service's own settings, beside the host's. */
export interface RegionalAuthoritySettings {
  timeLimits?: Partial<RegionTimeLimits>;
  policy?: 'automatic';
}

/** The regional authority service process's settings: the host's, its delays, and the automatic policy. */
export const REGIONAL_AUTHORITY_SETTINGS_SCHEMA = serviceSettingsSchema('regional-authority', {
  timeLimits: {
    description: 'The delays the region gives.',
    type: 'object',
    properties: {
      reviewAfterWorkingDays: {
        description: 'Working days after the application before the region rules without the fee proof.',
        type: 'integer',
        minimum: 0,
        default: DEFAULT_REGION_TIME_LIMITS.reviewAfterWorkingDays,
      },
      respondWithinWorkingDays: {
        description: 'Working days given to provide missing items.',
        type: 'integer',
        minimum: 0,
        default: DEFAULT_REGION_TIME_LIMITS.respondWithinWorkingDays,
      },
    },
    additionalProperties: false,
  },
  policy: POLICY_SETTING,
});
