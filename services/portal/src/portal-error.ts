import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/** Codes the portal throws itself (access, idempotency and problems come from `@passerelle/door`). */
export type PortalErrorCode = Extract<
  ErrorCode,
  'ERR_DOSSIER_NOT_FOUND' | 'ERR_DOSSIER_ERASED' | 'ERR_DOSSIER_CLOSED' | 'ERR_CONFIG_INVALID'
>;

/**
 * An error of the portal: dossier ownership and state, settings (documents throw `DocumentError` of
 * `@passerelle/documents`; access, idempotency and cursors `DoorError` of `@passerelle/door`). `details`
 * carries paths and ids, never payload values. Over HTTP each is an RFC 9457 problem with the code as its
 * `code` member (the door's `PROBLEM_MAPPING` gives its status).
 *
 * @example
 * ```ts
 * throw new PortalError('ERR_DOSSIER_NOT_FOUND', 'No dossier of this integrator has this id.');
 * ```
 */
export class PortalError extends PasserelleError<PortalErrorCode> {}
