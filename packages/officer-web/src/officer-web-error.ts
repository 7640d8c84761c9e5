import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/** Codes of the officer page's section of the catalogue, and the shared ones it throws. */
export type OfficerWebErrorCode = Extract<
  ErrorCode,
  | 'ERR_OFFICER_SIGN_IN_FAILED'
  | 'ERR_CSRF_TOKEN_INVALID'
  | 'ERR_OFFICER_ACCOUNT_INVALID'
  | 'ERR_CONFIG_INVALID'
>;

/**
 * An error of the case officer's page or of its accounts: `details` names entries and settings, never a
 * password or what an officer typed.
 */
export class OfficerWebError extends PasserelleError<OfficerWebErrorCode> {}
