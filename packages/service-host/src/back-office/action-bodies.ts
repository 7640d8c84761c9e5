import {
  type Contracts,
  bundleSchemas,
  createSchemaCompiler,
  sharedSchemas,
  withSharedRefs,
} from '@passerelle/contracts';
import { bodyValidatorCompiler, schemaInvalidBody } from '@passerelle/door';
import type { JsonSchema } from '@passerelle/procedure';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';

type Json = Record<string, unknown>;
type Validate = ReturnType<ReturnType<typeof createSchemaCompiler>['compile']>;

/** The definition a resolved input's `$ref` names (`…/defs/common.v1.json#/$defs/<Name>`), or undefined. */
function definitionName(ref: string): string | undefined {
  return /#\/\$defs\/([A-Za-z][A-Za-z0-9]*)$/.exec(ref)?.[1];
}

/**
 * The request bodies of a body's actions: each action's input schema (resolved by the host: references to
 * shared definitions only) as a route's body, the definitions it uses as shared schemas (components of the
 * OpenAPI document), validated the one way Passerelle validates (`createSchemaCompiler`, draft 2020-12).
 * A body that fails is `ERR_SCHEMA_INVALID`: a `badRequest` naming each bad input by its JSON pointer,
 * never its value.
 */
export class ActionBodies {
  private constructor(
    private readonly shared: Map<string, Json>,
    private readonly bodies: ReadonlyMap<string, Json>,
    private readonly validators: ReadonlyMap<string, Validate>,
  ) {}

  /** Gathers and compiles the actions' input schemas. */
  static of(contracts: Contracts, inputs: ReadonlyMap<string, JsonSchema>): ActionBodies {
    const used = new Set<string>();
    const bodies = new Map<string, Json>();
    for (const [action, schema] of inputs) {
      bodies.set(action, withSharedRefs(schema, (ref) => definitionName(ref) ?? ref, used) as Json);
    }
    const shared = sharedSchemas(bundleSchemas(contracts, ''), used);
    const ajv = createSchemaCompiler();
    for (const defs of contracts.definitions()) ajv.addSchema(defs.schema);
    const validators = new Map<string, Validate>();
    for (const [action, schema] of inputs) validators.set(action, ajv.compile(schema));
    return new ActionBodies(shared, bodies, validators);
  }

  /** Adds the definitions to the app as shared schemas. */
  addTo(app: FastifyInstance): void {
    for (const [name, schema] of [...this.shared].sort(([a], [b]) => a.localeCompare(b))) {
      app.addSchema({ ...schema, $id: name });
    }
  }

  /** The body schema of an action's route. */
  body(action: string): Json {
    const body = this.bodies.get(action);
    if (!body) throw new Error(`no action ${action}`);
    return body;
  }

  /** The route's `validatorCompiler`: the body by the action's input schema, the other parts like it. */
  validatorCompiler(action: string): FastifySchemaCompiler<FastifySchema> {
    const validate = this.validators.get(action)!;
    return bodyValidatorCompiler(createSchemaCompiler(), (data) =>
      validate(data) ? undefined : schemaInvalidBody(validate.errors ?? [], { action }),
    );
  }
}
