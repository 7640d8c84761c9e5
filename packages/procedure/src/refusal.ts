import type { Refusal } from './decider.js';
import { ProcedureError, type ProcedureErrorCode } from './procedure-error.js';

/**
 * A step's refusal with its catalogue code: what a rule returns instead of throwing.
 *
 * @example
 * ```ts
 * return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${dossierId} needs no visa.`, { dossierId, step: 'visa-issued' });
 * ```
 */
export function refuse(
  code: ProcedureErrorCode,
  message: string,
  details?: Record<string, unknown>,
): Refusal {
  return { refusal: new ProcedureError(code, message, details ? { details } : {}) };
}

/** Whether a rule's result is a {@link Refusal}. */
export function isRefusal(value: unknown): value is Refusal {
  return (
    typeof value === 'object' &&
    value !== null &&
    'refusal' in value &&
    (value as Refusal).refusal instanceof ProcedureError
  );
}

/**
 * Runs a procedure helper that throws its typed error (`capPeriod`, `extendProvisionalDocument`) and gives
 * the error back as a refusal, so the rule that calls it refuses instead of throwing. Anything else thrown
 * is a bug and goes on.
 *
 * @example
 * ```ts
 * const period = attempt(() => capPeriod(requested, limits));
 * if (isRefusal(period)) return period;
 * ```
 */
export function attempt<T>(compute: () => T): T | Refusal {
  try {
    return compute();
  } catch (err) {
    if (err instanceof ProcedureError) return { refusal: err };
    throw err;
  }
}
