import { type Contracts, createSchemaCompiler, describeSchemaIssues, valueAt } from '@passerelle/contracts';
import { PasserelleError } from '@passerelle/errors';
import { type JsonSchema, ProcedureError } from '@passerelle/procedure';

/** Whether a `$ref` names a shared definition (`…/defs/<file>#/$defs/<Name>`), which stays a reference. */
function isDefinitionRef(ref: string, definitionIds: ReadonlySet<string>): boolean {
  const [base, fragment] = ref.split('#');
  return definitionIds.has(base ?? '') && /^\/\$defs\/[A-Za-z][A-Za-z0-9]*$/.test(fragment ?? '');
}

/**
 * An action's input schema with every `$ref` into a message schema (`https://passerelle.invalid/schemas/
 * work-authorisation-decided.v1.json#/oneOf/1/properties/reason`), or into a part of a definition, replaced
 * by the part it names, and that part's own relative references made absolute: what is left refers only to
 * whole shared definitions (`…/defs/common.v1.json#/$defs/<Name>`), which OpenAPI bundling
 * (`bundleSchemas`) rewrites to components.
 * Throws ERR_CONFIG_INVALID, naming `where`, for a reference that names nothing.
 *
 * @example
 * ```ts
 * resolveInputSchema(contracts, table.actions['decide-work'].input, 'decide-work');
 * ```
 */
export function resolveInputSchema(contracts: Contracts, schema: JsonSchema, where: string): JsonSchema {
  const definitionIds = new Set(contracts.definitions().map((d) => String(d.schema.$id)));
  // the schemas a reference may name a part of: the message schemas and the definitions files
  const schemas = new Map([
    ...contracts.schemas().map((s) => [String(s.schema.$id), s.schema] as const),
    ...contracts.definitions().map((d) => [String(d.schema.$id), d.schema] as const),
  ]);
  const bad = (problem: string): PasserelleError =>
    new PasserelleError('ERR_CONFIG_INVALID', `action input ${where}: ${problem}`, {
      details: { setting: `actions.${where}.input` },
    });
  const resolve = (node: unknown, base: string | undefined, depth: number): unknown => {
    if (depth > 32) throw bad('references nest too deep');
    if (Array.isArray(node)) return node.map((n) => resolve(n, base, depth));
    if (typeof node !== 'object' || node === null) return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key !== '$ref' || typeof value !== 'string') {
        out[key] = resolve(value, base, depth);
        continue;
      }
      const absolute = base ? new URL(value, base).href : value;
      if (isDefinitionRef(absolute, definitionIds)) {
        out[key] = absolute;
        continue;
      }
      const [id, fragment] = absolute.split('#');
      const target = schemas.get(id ?? '');
      const part = target && fragment !== undefined ? valueAt(target, fragment) : undefined;
      if (typeof part !== 'object' || part === null)
        throw bad(`$ref ${value} names no part of a message schema`);
      // the part named takes the reference's place; the node's own keywords (a description) stay
      Object.assign(out, resolve(part, id, depth + 1));
    }
    return out;
  };
  return resolve(schema, undefined, 0) as JsonSchema;
}

/** Checks an action's input against its resolved schema. */
export type InputValidator = (input: unknown) => void;

/**
 * Compiles the resolved input schemas of a table's actions, with the shared definitions: each validator
 * throws ERR_ACTION_INPUT_INVALID (details.errors: `{ path, keyword, message }[]`, never the values).
 */
export function compileInputValidators(
  contracts: Contracts,
  inputs: ReadonlyMap<string, JsonSchema>,
): Map<string, InputValidator> {
  const ajv = createSchemaCompiler();
  for (const d of contracts.definitions()) ajv.addSchema(d.schema);
  const validators = new Map<string, InputValidator>();
  for (const [action, schema] of inputs) {
    const check = ajv.compile(schema);
    validators.set(action, (input) => {
      if (check(input)) return;
      const all = check.errors ?? [];
      const { errors, summary } = describeSchemaIssues(all);
      throw new ProcedureError(
        'ERR_ACTION_INPUT_INVALID',
        `The input of ${action} fails its schema${summary}.`,
        { details: { action, errors } },
      );
    });
  }
  return validators;
}
