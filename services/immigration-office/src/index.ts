export { automaticOfficePolicy } from './policy.js';
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
export { IMMIGRATION_OFFICE, createImmigrationOfficeService } from './service.js';
export type { ImmigrationOfficeConfig, ImmigrationOfficeService } from './service.js';
export { evolveOffice, officeTable } from './table.js';
export type { OfficeEvent, OfficeSettings, ResidenceDecision } from './table.js';
