export { automaticOfficePolicy } from './policy.js';
export type { FeeAccount, MobilityFile, OfficeDossier, OfficeRouting } from './rules.js';
export { IMMIGRATION_OFFICE, createImmigrationOfficeService } from './service.js';
export type { ImmigrationOfficeConfig, ImmigrationOfficeService } from './service.js';
export { evolveOffice, officeTable } from './table.js';
export type { MobilityDecisionInput, OfficeEvent, OfficeSettings, ResidenceDecision } from './table.js';
