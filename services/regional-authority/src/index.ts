export {
  DEFAULT_REGION_TIME_LIMITS,
  automaticWorkDecision,
  completenessRuling,
  isCompetent,
  missingItems,
  openDossier,
  requiredDocuments,
  schemeOf,
  workAuthorisationPayload,
} from './rules.js';
export type { RegionDossier, RegionRouting, RegionTimeLimits, WorkDecision } from './rules.js';
export { automaticRegionPolicy, createRegionalAuthorityService } from './service.js';
export type {
  RegionDecisionPolicy,
  RegionalAuthorityConfig,
  RegionalAuthorityService,
  WorkDecisionInput,
} from './service.js';
