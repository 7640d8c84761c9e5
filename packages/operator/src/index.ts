export {
  CREDENTIALS_VALIDITY_DAYS,
  EXCHANGE_ACCOUNT,
  EXCHANGE_API_PREFIX,
  OPERATOR_NAME,
  PARTICIPANT_CONNECTIONS,
  ParticipantNatsLimits,
  STORES_ACCOUNT,
  SYSTEM_ACCOUNT,
  accountPlan,
  encodeDeployment,
  encodeStoresAccount,
  objectStoreRelayImports,
  encodeParticipantAccount,
  encodeUserJwt,
  inboxPrefixOf,
  mirrorDeliverPrefix,
  ownerApiPrefix,
} from './accounts.js';
export type {
  AccountPlan,
  DeploymentKeys,
  EncodedDeployment,
  ParticipantAccountPlan,
  PlannedExport,
  PlannedImport,
} from './accounts.js';
export {
  DIRECTORY_MIRROR_BYTES,
  ExchangeJetStreamLimits,
  KIND_STORAGE,
  participantJetStreamLimits,
} from './limits.js';
export type { JetStreamLimits, KindStorage } from './limits.js';
export { readDeploymentFile } from './deployment-file.js';
export type { DeploymentFile } from './deployment-file.js';
export { CLAIMS_UPDATE_SUBJECT, pushAccountJwts } from './claims-push.js';
export { provisionInExchange, provisionOwnAccount, whileAccountStarts } from './provision.js';
export { openOperatorHome } from './operator-home.js';
export type { OperatorHome, Revocations } from './operator-home.js';
export { readRegistry } from './registry.js';
export type { IssuedUser, PublishedKey, Registry, RegistryEntry } from './registry.js';
export {
  REGISTRATION_TYP,
  ROTATION_PROOF_TYP,
  makeRegistrationRequest,
  verifyRegistrationRequest,
} from './registration-request.js';
export type { RegistrationClaims, RegistrationRequest } from './registration-request.js';
export { ONBOARDED_KINDS, accountSettingsOf, approveParticipant } from './approve.js';
export type { Approval, LifecycleOptions } from './approve.js';
export { DEFAULT_ROTATION_OVERLAP_MS, finishRotation, rotateParticipant } from './rotate.js';
export { revokeParticipant } from './revoke.js';
export type { Revocation } from './revoke.js';
export { BODY_FILES, KEY_VALIDITY_DAYS, acceptApproval, requestRegistration } from './body.js';
export { EXPIRY_WARNING_DAYS, listParticipants } from './list.js';
export type { ParticipantStatus } from './list.js';
