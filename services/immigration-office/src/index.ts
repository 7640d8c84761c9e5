export {
  decisionDeadlineOverrun,
  feeCheck,
  feeOverdue,
  feePaymentRequest,
  feeRefusal,
  openOfficeDossier,
  outcomeOf,
  permitToIssue,
  residenceGrant,
  residenceRefusal,
  schemeOf,
  stayEnded,
  visaRequired,
} from './rules.js';
export type { FeeAccount, OfficeDossier, OfficeRouting } from './rules.js';
export { IMMIGRATION_OFFICE, automaticOfficePolicy, createImmigrationOfficeService } from './service.js';
export type {
  ImmigrationOfficeConfig,
  ImmigrationOfficeService,
  OfficeDeadlineReport,
  OfficeDecisionPolicy,
  ResidenceDecision,
  ResidenceDecisionInput,
} from './service.js';
