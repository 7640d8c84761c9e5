// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to service-host's users.
export { pseudonymKeys } from './at-rest.js';
export { loadHostedConfig, readServiceSettings } from './config.js';
export { assertHostedConfig } from './host.js';
export { backOfficeSetting } from './back-office/back-office-setting.js';
export { watchCredentialExpiry } from './credential-expiry.js';
export { deadlineMetrics } from './deadline-metrics.js';
