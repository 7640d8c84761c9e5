import { PasserelleError } from '@passerelle/errors';

/** Codes of the harness's failures (entries of the error catalogue). */
export type HarnessErrorCode =
  | 'ERR_NATS_SERVER_NOT_FOUND'
  | 'ERR_NATS_SERVER_TOO_OLD'
  | 'ERR_NATS_SERVER_START_FAILED'
  | 'ERR_NATS_SERVER_PORT_IN_USE'
  | 'ERR_DOCKER_UNAVAILABLE';

/** A nats-server could not be found or started. */
export class HarnessError extends PasserelleError<HarnessErrorCode> {}
