import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/** Codes of the "procedure and services" section of the catalogue. */
export type ProcedureErrorCode = Extract<
  ErrorCode,
  | 'ERR_OUT_OF_SEQUENCE'
  | 'ERR_UNKNOWN_DOSSIER'
  | 'ERR_DOSSIER_NOT_YET_KNOWN'
  | 'ERR_DOSSIER_CLOSED'
  | 'ERR_DUPLICATE_DECISION'
  | 'ERR_NOT_COMPETENT'
  | 'ERR_NIS_CODE_INVALID'
  | 'ERR_DATE_INVALID'
  | 'ERR_PERIOD_INVALID'
  | 'ERR_EXTENSION_NOT_ALLOWED'
  | 'ERR_DOSSIER_CONFLICT'
  | 'ERR_NOT_HOSTED'
  | 'ERR_STATE_UNREADABLE'
  | 'ERR_UNKNOWN_ACTION'
  | 'ERR_ACTION_INPUT_INVALID'
  | 'ERR_ACTOR_INVALID'
>;

/**
 * An error of the procedure: a message out of sequence, an unknown or closed dossier, a period beyond
 * its legal maximum. The exchange runtime dead-letters the non-retryable ones at once with their code.
 */
export class ProcedureError extends PasserelleError<ProcedureErrorCode> {}
