// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to operator's users.
export { CREDENTIALS_VALIDITY_DAYS, EXCHANGE_API_PREFIX, ParticipantNatsLimits } from './accounts.js';
export { makeRegistrationRequest, verifyRegistrationRequest } from './registration-request.js';
export { DIRECTORY_MIRROR_BYTES, KIND_STORAGE } from './limits.js';
export { withNativeSigning } from './native-signing.js';
