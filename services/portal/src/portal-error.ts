import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/** Codes of the portal's own section of the catalogue. */
export type PortalErrorCode = Extract<
  ErrorCode,
  | 'ERR_UNAUTHENTICATED'
  | 'ERR_REQUEST_INVALID'
  | 'ERR_DOSSIER_NOT_FOUND'
  | 'ERR_DOSSIER_CLOSED'
  | 'ERR_IDEMPOTENCY_KEY_REUSED'
  | 'ERR_IDEMPOTENCY_IN_PROGRESS'
  | 'ERR_CONFIG_INVALID'
>;

/**
 * An error of the portal: authentication, request shape, dossier ownership, idempotency (documents throw
 * `DocumentError` of `@passerelle/documents`).
 * `details` carries paths and ids, never payload values.
 *
 * @example
 * ```ts
 * throw new PortalError('ERR_DOSSIER_NOT_FOUND', 'No dossier of this integrator has this id.');
 * ```
 */
export class PortalError extends PasserelleError<PortalErrorCode> {}

/** HTTP status of each code the portal answers with; anything else is a 500. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = {
  ERR_UNAUTHENTICATED: 401,
  ERR_REQUEST_INVALID: 400,
  ERR_SCHEMA_INVALID: 400,
  ERR_DOCUMENT_UNKNOWN: 400,
  ERR_DOSSIER_CONTEXT_INVALID: 400,
  ERR_CONTRACT_FORBIDDEN: 403,
  ERR_DOSSIER_NOT_FOUND: 404,
  ERR_DOSSIER_CLOSED: 409,
  ERR_IDEMPOTENCY_IN_PROGRESS: 409,
  ERR_DOCUMENT_TOO_LARGE: 413,
  ERR_MEDIA_TYPE_NOT_ALLOWED: 415,
  ERR_IDEMPOTENCY_KEY_REUSED: 422,
  ERR_NOT_SENT: 503,
  ERR_SEND_OUTCOME_UNKNOWN: 503,
  ERR_EXCHANGE_CLOSED: 503,
};
