export {
  accountPlan,
  encodeDeployment,
  encodeParticipantAccount,
  encodeUserJwt,
  inboxPrefixOf,
} from './accounts.js';
export type {
  AccountPlan,
  DeploymentKeys,
  EncodedDeployment,
  ParticipantAccountPlan,
  PlannedExport,
  PlannedImport,
} from './accounts.js';
export { readDeploymentFile } from './deployment-file.js';
export type { DeploymentFile } from './deployment-file.js';
export { provisionOwnAccount, whileAccountStarts } from './provision.js';
export { openOperatorHome } from './operator-home.js';
export type { OperatorHome, Revocations } from './operator-home.js';
export { readRegistry } from './registry.js';
export type { IssuedUser, PublishedKey, Registry, RegistryEntry } from './registry.js';
export type { RegistrationRequest } from './registration-request.js';
export { accountSettingsOf, approveParticipant } from './approve.js';
export type { Approval, LifecycleOptions } from './approve.js';
export { DEFAULT_ROTATION_OVERLAP_MS, finishRotation, rotateParticipant } from './rotate.js';
export { revokeParticipant } from './revoke.js';
export type { Revocation } from './revoke.js';
export { BODY_FILES, acceptApproval, requestRegistration } from './body.js';
export { listParticipants } from './list.js';
export type { ParticipantStatus } from './list.js';
