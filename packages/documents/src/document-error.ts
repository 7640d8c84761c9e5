import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/** Codes of the document store. */
export type DocumentErrorCode = Extract<
  ErrorCode,
  | 'ERR_DOCUMENT_TOO_LARGE'
  | 'ERR_MEDIA_TYPE_NOT_ALLOWED'
  | 'ERR_DOCUMENT_UNKNOWN'
  | 'ERR_DOCUMENT_INTEGRITY'
  | 'ERR_DECISION_DOCUMENT_MISSING'
  | 'ERR_DECISION_DOCUMENT_MISMATCH'
  | 'ERR_NOT_PROVISIONED'
>;

/**
 * An error of the document stores: upload refused (size, media type), a reference that names no document of
 * its integrator, a stored document that does not decrypt to its reference, a decision document missing or
 * stating something else than its message, or a store that is not there.
 * `details` carries paths and limits, never document content, hashes or keys.
 */
export class DocumentError extends PasserelleError<DocumentErrorCode> {}
