import { PasserelleError } from '@passerelle/errors';

/** Codes a {@link ContractError} may carry (catalogue section "contracts and schemas"). */
export type ContractErrorCode =
  | 'ERR_CONTRACT_FILE_INVALID'
  | 'ERR_CONTRACT_FORBIDDEN'
  | 'ERR_SCHEMA_INVALID'
  | 'ERR_UNKNOWN_TYPE'
  | 'ERR_UNKNOWN_SCHEMA_VERSION'
  | 'ERR_DOSSIER_CONTEXT_INVALID';

/**
 * An error of the exchange agreement or of a message schema: a bad contract file at start-up, a sender
 * not allowed to send a type, a payload that fails its schema. `details` holds file names, JSON paths
 * and ajv keywords, never payload values.
 *
 * @example
 * ```ts
 * try { contracts.validate('residence-decided', 1, payload); }
 * catch (err) { if (err instanceof ContractError && err.code === 'ERR_SCHEMA_INVALID') console.log(err.details); }
 * ```
 */
export class ContractError extends PasserelleError<ContractErrorCode> {}
