import { type Contracts, bundleSchemas, createSchemaCompiler, sharedSchemas } from '@passerelle/contracts';
import { bodyValidatorCompiler, schemaInvalidBody } from '@passerelle/door';
import { PasserelleError } from '@passerelle/errors';
import { competentRegion } from '@passerelle/procedure';
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler } from 'fastify';

/** The message types integrators post, each the body of one route. */
export const POSTED_TYPES = ['application-submitted', 'documents-added', 'fee-proof-submitted'] as const;

/** One of {@link POSTED_TYPES}. */
export type PostedType = (typeof POSTED_TYPES)[number];

type Validate = ReturnType<ReturnType<typeof createSchemaCompiler>['compile']>;
type Json = Record<string, unknown>;

/**
 * The request bodies that are exchange messages, taken from the exchange's JSON Schemas (`schemas/`,
 * through `@passerelle/contracts`): the same schemas describe them in the OpenAPI document (shared schemas
 * named by their title, and the definitions they use) and validate them, compiled the one way Passerelle
 * validates (`createSchemaCompiler`: draft 2020-12, strict, every format), so that a body the portal takes
 * is one the exchange takes. A body that fails is `ERR_SCHEMA_INVALID`, a `badRequest` naming each bad input
 * by its JSON pointer, never its value.
 */
export class MessageBodies {
  private constructor(
    private readonly shared: Map<string, Json>,
    private readonly names: ReadonlyMap<PostedType, string>,
    private readonly validators: ReadonlyMap<PostedType, Validate>,
  ) {}

  /**
   * Gathers and compiles the bodies' schemas.
   *
   * @example
   * ```ts
   * const bodies = MessageBodies.of(await loadContracts());
   * ```
   */
  static of(contracts: Contracts): MessageBodies {
    const bundle = bundleSchemas(contracts, '');
    const names = new Map<PostedType, string>();
    const wanted = new Set<string>();
    for (const type of POSTED_TYPES) {
      const name = bundle.payloads[type];
      if (!name) throw new Error(`no schema for ${type} in the contracts`);
      names.set(type, name);
      wanted.add(name);
    }
    // the definitions the bodies use, and those they use in turn
    const shared = sharedSchemas(bundle, wanted);
    const ajv = createSchemaCompiler();
    for (const defs of contracts.definitions()) ajv.addSchema(defs.schema);
    const validators = new Map<PostedType, Validate>();
    for (const type of POSTED_TYPES) {
      const version = contracts.latestVersion(type);
      const loaded = contracts.schemas().find((s) => s.type === type && s.version === version);
      if (!loaded) throw new Error(`no schema for ${type} v${version}`);
      validators.set(type, ajv.compile(loaded.schema));
    }
    return new MessageBodies(shared, names, validators);
  }

  /** Adds the schemas to the app as shared schemas (components of its OpenAPI document). */
  addTo(app: FastifyInstance): void {
    for (const [name, schema] of [...this.shared].sort(([a], [b]) => a.localeCompare(b))) {
      app.addSchema({ ...schema, $id: name });
    }
  }

  /** The reference to a shared schema (`DocumentRef`…), for a route's schema. */
  ref(name: string): { $ref: string } {
    if (!this.shared.has(name)) throw new Error(`no shared schema ${name}`);
    return { $ref: `${name}#` };
  }

  /** The values a shared schema that is an enumeration allows (`Category`…). */
  enumOf(name: string): readonly string[] {
    const values = this.shared.get(name)?.['enum'];
    if (!Array.isArray(values)) throw new Error(`the shared schema ${name} is not an enumeration`);
    return values.map(String);
  }

  /** The body schema of the route posting `type`. */
  body(type: PostedType): { $ref: string } {
    return this.ref(this.names.get(type)!);
  }

  /**
   * The route's `validatorCompiler`: its body is validated as the message `type`; its other parts (path
   * parameters) by a compiler set up like it.
   */
  validatorCompiler(type: PostedType): FastifySchemaCompiler<FastifySchema> {
    const validate = this.validators.get(type)!;
    return bodyValidatorCompiler(createSchemaCompiler(), (data) => {
      const misaddressed = type === 'application-submitted' ? deriveRegion(data) : undefined;
      if (validate(data) && !misaddressed) return undefined;
      if (!validate.errors?.length && misaddressed) {
        return new PasserelleError('ERR_SCHEMA_INVALID', 'The input message is incorrect.', {
          details: { type, issues: [misaddressed] },
        });
      }
      return schemaInvalidBody(validate.errors ?? [], { type });
    });
  }
}

/**
 * The agreement: the competent region is the one of the place of employment. The portal derives it from
 * `workplaceCommuneId` and fills `regionId` in when the integrator leaves it out, so that no application
 * reaches a region that would rule it inadmissible (`not-competent`) and send the employer back to the
 * start. A `regionId` naming another region is the issue returned (never a silent correction); an unknown
 * commune is left to the schema and to the region.
 */
function deriveRegion(data: unknown): { in: 'body'; name: string; detail: string; type: string } | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const body = data as Json;
  const workplace = body['workplaceCommuneId'];
  if (typeof workplace !== 'string') return undefined;
  let competent: string;
  try {
    competent = competentRegion(workplace);
  } catch {
    return undefined;
  }
  if (body['regionId'] === undefined) {
    body['regionId'] = competent;
    return undefined;
  }
  if (body['regionId'] === competent) return undefined;
  return {
    in: 'body',
    name: '/regionId',
    detail: `The competent region is the one of the place of employment (/workplaceCommuneId): ${competent}. Leave regionId out to have it derived.`,
    type: 'invalidInput',
  };
}
