export { automaticRegionPolicy } from './policy.js';
export { automaticWorkDecision } from './rules.js';
export type {
  CompletenessFacts,
  RegionDossier,
  RegionRouting,
  RegionTimeLimits,
  WorkDecision,
} from './rules.js';
export { createRegionalAuthorityService } from './service.js';
export type { RegionalAuthorityConfig, RegionalAuthorityService } from './service.js';
export { evolveRegion, regionTable } from './table.js';
export type { RegionEvent } from './table.js';
