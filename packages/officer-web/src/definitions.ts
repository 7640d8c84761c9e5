import { createSchemaCompiler, valueAt } from '@passerelle/contracts';
import { type InputIssue, validationIssues } from '@passerelle/door';
import type { JsonSchema } from '@passerelle/procedure';
import type { SchemaResolver } from './schema-form.js';

/** A `$ref` resolver over the shared definitions files (`$id` and a `#/$defs/…` fragment). */
export function definitionsResolver(definitions: readonly JsonSchema[]): SchemaResolver {
  const byId = new Map(definitions.map((d) => [String(d['$id']), d] as const));
  return (ref) => {
    const [id = '', fragment = ''] = ref.split('#');
    const part = valueAt(byId.get(id), fragment);
    return typeof part === 'object' && part !== null ? (part as JsonSchema) : undefined;
  };
}

const CACHED = 256;

/**
 * Checks a form's input against the schema of the branches it chose, with the shared definitions, and
 * reports the door's issues (JSON pointers, the door's sentences, never the values typed). Compiled
 * schemas are kept, a few hundred at most (a form has one per choice of branches).
 */
export class FormChecker {
  readonly #ajv = createSchemaCompiler();
  readonly #compiled = new Map<string, ReturnType<ReturnType<typeof createSchemaCompiler>['compile']>>();

  constructor(definitions: readonly JsonSchema[]) {
    for (const d of definitions) this.#ajv.addSchema(d);
  }

  /** The issues of `input` against `schema`; none when it passes. */
  issues(schema: JsonSchema, input: unknown): InputIssue[] {
    const key = JSON.stringify(schema);
    let check = this.#compiled.get(key);
    if (!check) {
      check = this.#ajv.compile(schema);
      if (this.#compiled.size >= CACHED) this.#compiled.delete(this.#compiled.keys().next().value!);
      this.#compiled.set(key, check);
    }
    return check(input) ? [] : validationIssues(check.errors ?? [], 'body');
  }
}
