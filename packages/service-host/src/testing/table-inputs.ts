import { type Contracts, loadContracts } from '@passerelle/contracts';
import type { BodyTable, DossierRecord } from '@passerelle/procedure';
import { type TableInputs, compileTableInputs } from '../table-inputs.js';

/** A table's inputs compiled against the repository's contracts, with what a test checks of them. */
export interface LoadedTableInputs extends TableInputs {
  readonly contracts: Contracts;
  /** Every `$ref` left in the resolved schemas, as its JSON text (`"$ref":"…"`). */
  readonly references: readonly string[];
}

/**
 * Loads the repository's contracts and compiles the action inputs of `table` against them, as the host
 * does at start.
 */
export async function loadTableInputs<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
): Promise<LoadedTableInputs> {
  const contracts = await loadContracts();
  const compiled = compileTableInputs(contracts, table);
  const references = [...compiled.inputs.values()].flatMap(
    (schema) => JSON.stringify(schema).match(/"\$ref":"[^"]*"/g) ?? [],
  );
  return { ...compiled, contracts, references };
}
