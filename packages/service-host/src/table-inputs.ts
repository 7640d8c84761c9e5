import type { Contracts } from '@passerelle/contracts';
import type { BodyTable, DossierRecord, JsonSchema } from '@passerelle/procedure';
import { type InputValidator, compileInputValidators, resolveInputSchema } from './action-inputs.js';

/** A table's action inputs as the host checks them: each schema resolved, then compiled. */
export interface TableInputs {
  /** Each action's input schema, resolved (see {@link resolveInputSchema}). */
  readonly inputs: ReadonlyMap<string, JsonSchema>;
  /** Each action's input check, throwing `ERR_ACTION_INPUT_INVALID`. */
  readonly validators: ReadonlyMap<string, InputValidator>;
}

/**
 * Resolves and compiles the input schema of every action of `table`: what the host does at start, and
 * what a body's tests do to check its actions against the message schemas.
 *
 * @example
 * ```ts
 * const { validators } = compileTableInputs(await loadContracts(), regionTable());
 * validators.get('decide-work')!({ decision: 'refused', reason: 'labour-market' });
 * ```
 */
export function compileTableInputs<S extends DossierRecord, E>(
  contracts: Contracts,
  table: BodyTable<S, E>,
): TableInputs {
  const inputs = new Map(
    Object.entries(table.actions).map(([name, a]) => [name, resolveInputSchema(contracts, a.input, name)]),
  );
  return { inputs, validators: compileInputValidators(contracts, inputs) };
}
