export { automaticOfficePolicy } from './policy.js';
export {
  decisionDeadlineOverrun,
  feeCheck,
  feeOverdue,
  feePaymentRequest,
  feeRefusal,
  MOBILITY_DOCUMENTS,
  OBJECTION_DAYS,
  SHORT_TERM_MOBILITY_MAX_DAYS,
  SHORT_TERM_MOBILITY_WINDOW_DAYS,
  mobilityDaysInWindow,
  mobilityDecision,
  mobilityMissing,
  mobilityObjectionGround,
  objectionDeadline,
  objectionPeriodOver,
  openOfficeDossier,
  outcomeOf,
  permitToIssue,
  residenceGrant,
  residenceRefusal,
  schemeOf,
  stayEnded,
  visaRequired,
} from './rules.js';
export type { FeeAccount, MobilityFile, OfficeDossier, OfficeRouting } from './rules.js';
export { IMMIGRATION_OFFICE, createImmigrationOfficeService } from './service.js';
export type { ImmigrationOfficeConfig, ImmigrationOfficeService } from './service.js';
export { evolveOffice, officeTable } from './table.js';
export type { MobilityDecisionInput, OfficeEvent, OfficeSettings, ResidenceDecision } from './table.js';
