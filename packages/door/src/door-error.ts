import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/** Codes of the door's own section of the catalogue, and the shared ones it answers with. */
export type DoorErrorCode = Extract<
  ErrorCode,
  | 'ERR_ACCESS_TOKEN_MISSING'
  | 'ERR_ACCESS_TOKEN_INVALID'
  | 'ERR_ACCESS_TOKEN_EXPIRED'
  | 'ERR_SCOPE_MISSING'
  | 'ERR_CLIENT_AUTHENTICATION_FAILED'
  | 'ERR_GRANT_INVALID'
  | 'ERR_CLIENT_NOT_FOUND'
  | 'ERR_CLIENT_EXISTS'
  | 'ERR_OFFICER_INVALID'
  | 'ERR_IDEMPOTENCY_KEY_MISSING'
  | 'ERR_IDEMPOTENCY_KEY_REUSED'
  | 'ERR_IDEMPOTENCY_IN_PROGRESS'
  | 'ERR_CURSOR_INVALID'
  | 'ERR_RATE_LIMITED'
  | 'ERR_ROUTE_UNGUARDED'
  | 'ERR_EVENT_INVALID'
  | 'ERR_EVENT_NOT_FOUND'
  | 'ERR_EVENT_LOG_CONFLICT'
  | 'ERR_WEBHOOK_URL_REFUSED'
  | 'ERR_SUBSCRIPTION_NOT_FOUND'
  | 'ERR_DELIVERY_NOT_FOUND'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_REQUEST_INVALID'
>;

/**
 * An error of a door: access, idempotency, events, webhooks, cursors. `details` carries names, pointers and
 * ids, never request values; the problems plugin turns it into an RFC 9457 problem.
 *
 * @example
 * ```ts
 * throw new DoorError('ERR_SCOPE_MISSING', 'This operation needs the decide scope.', {
 *   details: { requiredScopes: ['decide'] },
 * });
 * ```
 */
export class DoorError extends PasserelleError<DoorErrorCode> {}
