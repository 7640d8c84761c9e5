// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to exchange's users.
export { REQUIRED_JS_API_LEVEL, assertJetStreamApiLevel, versionAtLeast } from './connection.js';
export { loadClientCredentials, ownerApiPrefix } from './credentials.js';
export { JetStreamApiCodes, streamConfigs } from './streams.js';
export type { StreamLayoutOptions } from './streams.js';
export { deadLetterSubject } from './subjects.js';
export { ensureConsumers, inboxConsumerName } from './consumers.js';
export { REPLAY_HEADER, writeDeadLetter } from './dead-letters.js';
export { IdempotencyStore, idempotencyBucketName } from './idempotency.js';
export { Outbox, assertReceiptClaims, outboxBucketName } from './receipts.js';
export type { OutboxRecord, ReceiptClaims } from './receipts.js';
export { REDACTED_KEYS, REDACT_PATHS, redactPaths, redactionOptions } from './logger.js';
export { publishWithRetry } from './publish.js';
export { provisionParticipant } from './connect.js';
