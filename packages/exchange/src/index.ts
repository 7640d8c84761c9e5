export {
  MIN_SERVER_VERSION,
  REQUIRED_JS_API_LEVEL,
  assertJetStreamApiLevel,
  assertServerVersion,
  connectNats,
  versionAtLeast,
} from './connection.js';
export { loadClientCredentials, loadCredentials, ownerApiPrefix } from './credentials.js';
export type {
  AccountSettings,
  CredentialsFile,
  LoadedClientCredentials,
  LoadedCredentials,
} from './credentials.js';
export { JetStreamApiCodes, StreamNames, Subjects, provisionStreams, streamConfigs } from './streams.js';
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
export type { InboxConsumerOptions } from './consumers.js';
export {
  DeadLetterHeaders,
  REPLAY_HEADER,
  getDeadLetter,
  listDeadLetters,
  replayDeadLetter,
  writeDeadLetter,
} from './dead-letters.js';
export type { DeadLetter, DeadLetterReason } from './dead-letters.js';
export { DOSSIER_KEYS_BUCKET, DossierKeys, assertErasureBasis, eraseDossier } from './dossier-keys.js';
export type {
  DossierErasure,
  DossierKeyHead,
  DossierKeysOptions,
  PayloadSeal,
  SealedPayload,
} from './dossier-keys.js';
export { IdempotencyStore, idempotencyBucketName } from './idempotency.js';
export type { ClaimResult, IdempotencyRecord } from './idempotency.js';
export { Outbox, RECEIPT_TYP, assertReceiptClaims, outboxBucketName } from './receipts.js';
export type { OutboxRecord, ReceiptClaims } from './receipts.js';
export { collectMetrics, createExchangeMetrics, serveMetrics } from './metrics.js';
export type { OperationsProbes } from './metrics.js';
export type { ExchangeMetrics } from './metrics.js';
export { REDACTED_KEYS, REDACT_PATHS, createLogger, redactPaths, redactionOptions } from './logger.js';
export type { Logger } from './logger.js';
export { publishWithRetry } from './publish.js';
export type { RetryOptions } from './publish.js';
export { ExchangeError } from './exchange-error.js';
export { Exchange } from './exchange.js';
export { connectExchange, provisionParticipant } from './connect.js';
export { errorSummary } from './error-summary.js';
export { isRefusedBeforePublishing } from './send.js';
export type { SendOptions, SentMessage } from './send.js';
export { classifyNatsFailure } from './nats-failure.js';
export type { NatsFailure } from './nats-failure.js';
export type {
  ExchangeOptions,
  Handlers,
  IncomingMessage,
  MessageHandler,
  Readiness,
  RejectionListener,
  Subscription,
} from './types.js';
