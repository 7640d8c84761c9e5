export type {
  CommuneDossier,
  CommuneGrant,
  CommuneRouting,
  ProvisionalDocument,
  RegisteredPermit,
  ResidenceCheck,
  ResidenceCheckInput,
} from './rules.js';
export { createCommuneService } from './service.js';
export type { CommuneConfig, CommuneService } from './service.js';
export { communeTable, evolveCommune } from './table.js';
export type {
  ArrivalInput,
  CommuneEvent,
  PresentedAnnex46,
  RegisterPermit,
  RenewalPendingInput,
} from './table.js';
