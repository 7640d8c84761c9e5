import { PasserelleError } from '@passerelle/errors';
import { policySetting, runServiceMain } from '@passerelle/service-host';
import { automaticRegionPolicy } from './policy.js';
import type { RegionTimeLimits } from './rules.js';
import { createRegionalAuthorityService } from './service.js';

function timeLimits(value: unknown): Partial<RegionTimeLimits> {
  if (value === undefined) return {};
  const limits: Partial<RegionTimeLimits> = {};
  for (const key of ['reviewAfterWorkingDays', 'respondWithinWorkingDays'] as const) {
    const v = (value as Record<string, unknown> | null)?.[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new PasserelleError(
        'ERR_CONFIG_INVALID',
        `regional-authority setting timeLimits.${key} must be a non-negative integer`,
        {
          details: { setting: `timeLimits.${key}` },
        },
      );
    }
    limits[key] = v;
  }
  return limits;
}

// Settings: PASSERELLE_CONFIG (JSON file) and PASSERELLE_* variables; see README.md. No automatic decision
// unless the file says `"policy": "automatic"`.
await runServiceMain('regional-authority', 'regional-authority', (config, settings) =>
  createRegionalAuthorityService({
    ...config,
    timeLimits: timeLimits(settings.extra.timeLimits),
    ...policySetting('regional-authority', settings, automaticRegionPolicy),
  }),
);
