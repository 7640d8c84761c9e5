export {
  attestRenewalPending,
  extendProvisional,
  issuePermit,
  registerArrival,
  renewPermit,
} from './rules.js';
export type {
  CommuneDossier,
  CommuneGrant,
  CommuneRouting,
  ProvisionalDocument,
  RegisteredPermit,
} from './rules.js';
export { createCommuneService } from './service.js';
export type { CommuneConfig, CommuneService, PresentedAnnex46 } from './service.js';
