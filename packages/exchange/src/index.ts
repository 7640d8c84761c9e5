export { MIN_SERVER_VERSION, connectNats } from './connection.js';
export { loadCredentials } from './credentials.js';
export type { AccountSettings, CredentialsFile, LoadedCredentials } from './credentials.js';
export { StreamNames, Subjects, provisionStreams } from './streams.js';
export type { InboxConsumerOptions } from './consumers.js';
export { getDeadLetter, listDeadLetters, replayDeadLetter } from './dead-letters.js';
export type { DeadLetter, DeadLetterReason } from './dead-letters.js';
export {
  DOSSIER_KEYS_BUCKET,
  DossierKeys,
  assertErasureBasis,
  eraseDossier,
  reapplyErasure,
} from './dossier-keys.js';
export type {
  DossierErasure,
  DossierKeyHead,
  DossierKeysOptions,
  ReappliedErasure,
  PayloadSeal,
  SealedPayload,
} from './dossier-keys.js';
export { createExchangeMetrics } from './metrics.js';
export { serveMetrics } from './probes-server.js';
export type { OperationsProbes } from './probes-server.js';
export type { ExchangeMetrics } from './metrics.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { ExchangeError } from './exchange-error.js';
export { Exchange } from './exchange.js';
export { connectExchange } from './connect.js';
export { errorSummary } from './error-summary.js';
export { isRefusedBeforePublishing } from './send.js';
export type { SendOptions, SentMessage } from './send.js';
export type {
  ExchangeOptions,
  Handlers,
  IncomingMessage,
  MessageHandler,
  Readiness,
  RejectionListener,
  Subscription,
} from './types.js';
