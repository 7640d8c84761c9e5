// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to exchange's users.
export {
  REQUIRED_JS_API_LEVEL,
  assertJetStreamApiLevel,
  assertServerVersion,
  versionAtLeast,
} from './connection.js';
export { loadClientCredentials, ownerApiPrefix } from './credentials.js';
export type { LoadedClientCredentials } from './credentials.js';
export { JetStreamApiCodes, streamConfigs } from './streams.js';
export type { StreamLayoutOptions } from './streams.js';
export {
  deadLetterSubject,
  inboxFilter,
  messageSubject,
  parseMessageSubject,
  receiptFilter,
  receiptSubject,
} from './subjects.js';
export {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_DELIVER,
  backoffDelay,
  ensureConsumers,
  inboxConsumerConfig,
  inboxConsumerName,
  receiptConsumerConfig,
  receiptConsumerName,
} from './consumers.js';
export { DeadLetterHeaders, REPLAY_HEADER, writeDeadLetter } from './dead-letters.js';
export { IdempotencyStore, idempotencyBucketName } from './idempotency.js';
export type { ClaimResult, IdempotencyRecord } from './idempotency.js';
export { Outbox, RECEIPT_TYP, assertReceiptClaims, outboxBucketName } from './receipts.js';
export type { OutboxRecord, ReceiptClaims } from './receipts.js';
export { REDACTED_KEYS, REDACT_PATHS, redactPaths, redactionOptions } from './logger.js';
export { publishWithRetry } from './publish.js';
export type { RetryOptions } from './publish.js';
export { provisionParticipant } from './connect.js';
