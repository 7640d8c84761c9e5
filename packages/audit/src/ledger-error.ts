import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/** Codes of the audit ledger (section "audit ledger" of the catalogue). */
export type LedgerErrorCode = Extract<ErrorCode, `ERR_LEDGER_${string}` | 'ERR_PROOF_INVALID'>;

/**
 * Error of the audit ledger. `details.seq` names the ledger entry at fault when there is one; messages carry
 * ids, sequence numbers and hashes, never personal data.
 */
export class LedgerError extends PasserelleError<LedgerErrorCode> {}
