export { createAuthenticator, hashToken } from './auth.js';
export type { Authenticator } from './auth.js';
export { DEFAULT_MAX_DOCUMENT_BYTES, SCHEMA_MAX_DOCUMENT_BYTES, assertPortalConfig } from './config.js';
export type { PortalConfig, PortalIntegrator } from './config.js';
export {
  ALLOWED_MEDIA_TYPES,
  DOCUMENTS_BUCKET,
  DocumentError,
  DocumentStore,
  isAllowedMediaType,
} from '@passerelle/documents';
export type { DocumentMediaType, DocumentRef, PutDocumentInput } from '@passerelle/documents';
export { DossierStore, dossierBucketName } from './dossier-store.js';
export { CLOSED_STATES, RECEIVED_TYPES, applyReceived, isClosed } from './dossier-status.js';
export type { DossierEvent, DossierRecord, DossierState } from './dossier-status.js';
export { errorBody, errorStatus } from './http-errors.js';
export type { ErrorBody, ErrorPathIssue } from './http-errors.js';
export {
  HttpIdempotencyStore,
  assertIdempotencyKey,
  httpIdempotencyBucketName,
  requestFingerprint,
} from './idempotency.js';
export type { IdempotentRequest, StoredResponse } from './idempotency.js';
export { PORTAL_REDACT_PATHS, createPortalLogger } from './logger.js';
export { buildOpenApiDocument } from './openapi.js';
export { HTTP_STATUS_BY_CODE, PortalError } from './portal-error.js';
export type { PortalErrorCode } from './portal-error.js';
export {
  createPortalService,
  dossierContextOf,
  portalOperationsProbes,
  provisionPortalStores,
} from './service.js';
