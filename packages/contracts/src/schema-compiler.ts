import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * A JSON Schema compiler set up the one way Passerelle validates: draft 2020-12, ajv strict mode, all
 * errors, every ajv-formats format (full mode: `date` checks the day of the month). `loadContracts` uses
 * one per load; other tools that must agree with it (benchmarks, API descriptions) use this too.
 *
 * @example
 * ```ts
 * const ajv = createSchemaCompiler();
 * ajv.compile({ type: 'string', format: 'date' })('2028-02-30'); // false
 * ```
 */
export function createSchemaCompiler(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormatsModule.default(ajv);
  return ajv;
}
