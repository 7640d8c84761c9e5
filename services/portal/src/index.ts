export { DEFAULT_MAX_DOCUMENT_BYTES, SCHEMA_MAX_DOCUMENT_BYTES, assertPortalConfig } from './config.js';
export type { PortalConfig, PortalDoorSettings } from './config.js';
export {
  ALLOWED_MEDIA_TYPES,
  DOCUMENTS_BUCKET,
  DocumentError,
  DocumentStore,
  isAllowedMediaType,
} from '@passerelle/documents';
export type { DocumentMediaType, DocumentRef, PutDocumentInput } from '@passerelle/documents';
export { dossierContextOf } from './dossier-context.js';
export { DossierStore, dossierBucketName } from './dossier-store.js';
export type { DossierChange } from './dossier-store.js';
export { CLOSED_STATES, DOSSIER_STATES, RECEIVED_TYPES, applyReceived, isClosed } from './dossier-status.js';
export type { DossierEvent, DossierRecord, DossierState } from './dossier-status.js';
export { PORTAL_REDACT_PATHS, createPortalLogger } from './logger.js';
export { PortalError } from './portal-error.js';
export type { PortalErrorCode } from './portal-error.js';
export { createPortalService, portalDoor, provisionPortalStores } from './service.js';
export { STATUS_EVENT_TYPES } from './status-feed.js';
export { ensureDoorClient, ensureDoorSecret, readDoorSecret } from '@passerelle/door';
export type { ClientCredentials } from '@passerelle/door';
export { readPortalSettings } from './settings.js';
export type { PortalSettings } from './settings.js';
export { PORTAL_SETTINGS_SCHEMA } from './settings-schema.js';
