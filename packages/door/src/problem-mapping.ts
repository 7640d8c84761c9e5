import type { ErrorCode } from '@passerelle/errors';
import type { BelgifProblemName } from './problem.js';

/**
 * How a catalogue code is answered over HTTP: its status, and the guide's standardized type when one means
 * the same (the problem then carries the code as its `code` member); otherwise the problem's type is the
 * code's own `urn:problem-type:passerelle:<type>`.
 */
export interface ProblemMapping {
  status: number;
  belgif?: BelgifProblemName;
}

/**
 * The catalogue codes a door answers with. A code absent from this table is internal (a ledger gap, a
 * configuration error): it is answered as `internalServerError`, with nothing of it in the answer.
 */
export const PROBLEM_MAPPING: Readonly<Partial<Record<ErrorCode, ProblemMapping>>> = {
  // access (the door)
  ERR_ACCESS_TOKEN_MISSING: { status: 401, belgif: 'noAccessToken' },
  ERR_ACCESS_TOKEN_INVALID: { status: 401, belgif: 'invalidAccessToken' },
  ERR_ACCESS_TOKEN_EXPIRED: { status: 401, belgif: 'expiredAccessToken' },
  ERR_SCOPE_MISSING: { status: 403, belgif: 'missingScope' },
  ERR_ROUTE_UNGUARDED: { status: 403, belgif: 'missingPermission' },
  ERR_CLIENT_AUTHENTICATION_FAILED: { status: 401 },
  ERR_GRANT_INVALID: { status: 400 },
  ERR_CLIENT_NOT_FOUND: { status: 404, belgif: 'resourceNotFound' },
  ERR_CLIENT_EXISTS: { status: 409 },
  ERR_RATE_LIMITED: { status: 429, belgif: 'tooManyRequests' },
  // request shape
  ERR_OFFICER_INVALID: { status: 400, belgif: 'badRequest' },
  ERR_IDEMPOTENCY_KEY_MISSING: { status: 400, belgif: 'badRequest' },
  ERR_CURSOR_INVALID: { status: 400, belgif: 'badRequest' },
  ERR_REQUEST_INVALID: { status: 400, belgif: 'badRequest' },
  ERR_SCHEMA_INVALID: { status: 400, belgif: 'badRequest' },
  ERR_WEBHOOK_URL_REFUSED: { status: 400, belgif: 'badRequest' },
  ERR_IDEMPOTENCY_KEY_REUSED: { status: 422 },
  ERR_IDEMPOTENCY_IN_PROGRESS: { status: 409 },
  ERR_UNAUTHENTICATED: { status: 401, belgif: 'invalidAccessToken' },
  // events and webhooks
  ERR_EVENT_NOT_FOUND: { status: 404, belgif: 'resourceNotFound' },
  ERR_SUBSCRIPTION_NOT_FOUND: { status: 404, belgif: 'resourceNotFound' },
  ERR_DELIVERY_NOT_FOUND: { status: 404, belgif: 'resourceNotFound' },
  ERR_EVENT_LOG_CONFLICT: { status: 503 },
  // contracts, documents and the exchange
  ERR_DOSSIER_CONTEXT_INVALID: { status: 400 },
  ERR_UNKNOWN_TYPE: { status: 400 },
  ERR_UNKNOWN_SCHEMA_VERSION: { status: 400 },
  ERR_PARTICIPANT_ID_INVALID: { status: 400 },
  ERR_CONTRACT_FORBIDDEN: { status: 403 },
  ERR_DOCUMENT_UNKNOWN: { status: 400 },
  ERR_DOCUMENT_TOO_LARGE: { status: 413, belgif: 'payloadTooLarge' },
  ERR_MEDIA_TYPE_NOT_ALLOWED: { status: 415 },
  ERR_DEAD_LETTER_NOT_FOUND: { status: 404, belgif: 'resourceNotFound' },
  ERR_DEAD_LETTER_NOT_REPLAYABLE: { status: 409 },
  ERR_NOT_SENT: { status: 503 },
  ERR_SEND_OUTCOME_UNKNOWN: { status: 503 },
  ERR_EXCHANGE_CLOSED: { status: 503 },
  ERR_OUTBOX_UNAVAILABLE: { status: 503 },
  // the procedure: an action out of sequence or on a dossier it does not fit
  ERR_DOSSIER_NOT_FOUND: { status: 404, belgif: 'resourceNotFound' },
  ERR_DOSSIER_ERASED: { status: 410 },
  ERR_UNKNOWN_DOSSIER: { status: 404, belgif: 'resourceNotFound' },
  ERR_NOT_HOSTED: { status: 404, belgif: 'resourceNotFound' },
  ERR_DOSSIER_CLOSED: { status: 409 },
  ERR_OUT_OF_SEQUENCE: { status: 409 },
  ERR_DUPLICATE_DECISION: { status: 409 },
  ERR_DOSSIER_NOT_YET_KNOWN: { status: 409 },
  ERR_DOSSIER_CONFLICT: { status: 409 },
  ERR_UNKNOWN_ACTION: { status: 404, belgif: 'resourceNotFound' },
  ERR_ACTION_INPUT_INVALID: { status: 400, belgif: 'badRequest' },
  ERR_ACTOR_INVALID: { status: 400, belgif: 'badRequest' },
  ERR_NOT_COMPETENT: { status: 422 },
  ERR_EXTENSION_NOT_ALLOWED: { status: 422 },
  ERR_NIS_CODE_INVALID: { status: 400 },
  ERR_DATE_INVALID: { status: 400 },
  ERR_PERIOD_INVALID: { status: 400 },
};
