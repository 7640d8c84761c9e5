export {
  ALLOWED_MEDIA_TYPES,
  DOCUMENTS_BUCKET,
  type DocumentMediaType,
  type DocumentRef,
  DocumentStore,
  type PutDocumentInput,
  isAllowedMediaType,
  readDocument,
} from './document-store.js';
export { type DocumentErrorCode, DocumentError } from './document-error.js';
export { DecisionArchive, type DecisionDocumentRef } from './decision-archive.js';
export { DirectObjectReader, type ObjectSource } from './direct-object-reader.js';
