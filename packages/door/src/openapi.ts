import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { BELGIF_PROBLEM_TYPES, PROBLEM_MEDIA_TYPE } from './problem.js';
import { isDoorScope } from './scopes.js';
import { TOKEN_PATH } from './token-route.js';

/** Options of {@link registerDoorOpenApi}. */
export interface DoorOpenApiOptions {
  title: string;
  version: string;
  description?: string;
  /** The door's public base URL: the document's server and the token URL's base. */
  publicUrl: string;
}

/** The path the document is served at. */
export const OPENAPI_PATH = '/openapi.json';

/** The guide's `Problem` with the `InputValidationIssue` items of `issues`, and the members doors add. */
export const PROBLEM_SCHEMA = {
  $id: 'Problem',
  description:
    'A problem (RFC 9457) typed per the Belgif REST guide: `urn:problem-type:belgif:<type>` for its standardized types, `urn:problem-type:passerelle:<type>` for the Passerelle catalogue codes (docs/errors.md).',
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', format: 'uri', examples: ['urn:problem-type:belgif:badRequest'] },
    href: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer', minimum: 400, maximum: 599 },
    detail: { type: 'string' },
    instance: { type: 'string', format: 'uri' },
    code: { type: 'string', description: 'The Passerelle catalogue code.' },
    retryable: { type: 'boolean', description: 'Whether the same request may succeed later.' },
    requiredScopes: { type: 'array', items: { type: 'string' } },
    limit: { type: 'integer' },
    retryAfterSec: { type: 'integer' },
    error: { type: 'string', description: 'The OAuth 2.0 error code (token endpoint only).' },
    error_description: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'title', 'in', 'name'],
        properties: {
          type: { type: 'string', format: 'uri' },
          href: { type: 'string', format: 'uri' },
          title: { type: 'string' },
          detail: { type: 'string' },
          in: { type: 'string', enum: ['body', 'path', 'query', 'header'] },
          name: {
            type: 'string',
            description:
              'The JSON pointer of a body input (RFC 6901), or the name of a path, query or header input.',
          },
        },
      },
    },
  },
} as const;

/** The `Idempotency-Key` header an idempotent route requires (checked by the idempotency plugin). */
const IDEMPOTENCY_KEY_HEADER = {
  type: 'string',
  pattern: '^[\\x21-\\x7e]{1,255}$',
  description:
    'Required: makes a retry safe. The same key with the same request gets the first answer again (`Idempotent-Replayed: true`) and nothing is done twice; with another request it is refused (422). Kept 24 hours, per client.',
} as const;

/** A route's header schema with `Idempotency-Key` added, for the document only (not for validation). */
function withIdempotencyKey(headers: unknown): object {
  const own = (headers ?? {}) as { properties?: Record<string, unknown>; required?: string[] };
  return {
    ...own,
    type: 'object',
    properties: { ...own.properties, 'idempotency-key': IDEMPOTENCY_KEY_HEADER },
    required: [...new Set([...(own.required ?? []), 'idempotency-key'])],
  };
}

const problemResponse = {
  description: `A problem: ${Object.keys(BELGIF_PROBLEM_TYPES).join(', ')}, or a Passerelle type.`,
  content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: 'Problem#' } } },
};

/**
 * Registers `@fastify/swagger` (OpenAPI 3.1, built from the routes' own JSON Schemas) with a door's shared
 * parts: the `Problem` schema and a `default` problem response on every operation (the guide's rule), the
 * OAuth 2.0 client-credentials security scheme with the scope each route requires (from its config), the
 * required `Idempotency-Key` header of idempotent routes, HTTP Basic for the token endpoint; and serves the document at `GET /openapi.json`, publicly. Register it
 * before the routes it describes.
 *
 * @example
 * ```ts
 * await registerDoorOpenApi(app, { title: 'Regional authority', version: '1.0.0', publicUrl });
 * ```
 */
export async function registerDoorOpenApi(app: FastifyInstance, options: DoorOpenApiOptions): Promise<void> {
  const base = options.publicUrl.replace(/\/+$/, '');
  app.addSchema(PROBLEM_SCHEMA);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: options.title,
        version: options.version,
        ...(options.description ? { description: options.description } : {}),
      },
      servers: [{ url: base }],
      components: {
        securitySchemes: {
          doorToken: {
            type: 'oauth2',
            description: 'A bearer token from the token endpoint (client credentials).',
            flows: {
              clientCredentials: {
                tokenUrl: `${base}${TOKEN_PATH}`,
                scopes: {
                  read: 'Consult dossiers and events, and subscribe to them.',
                  decide: 'Take actions on dossiers.',
                  admin: "Manage the door's clients.",
                },
              },
            },
          },
          clientSecretBasic: {
            type: 'http',
            scheme: 'basic',
            description: 'The client id and secret, for the token endpoint only.',
          },
        },
      },
    },
    // shared schemas are components named by their $id (`Problem`), not `def-<n>`
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`,
    },
    transform: ({ schema, url, route }) => {
      const config = (route.config ?? {}) as { scope?: unknown; public?: unknown; idempotent?: unknown };
      const own = (schema ?? {}) as FastifySchema & {
        security?: unknown;
        response?: Record<string, unknown>;
      };
      const security = isDoorScope(config.scope) ? [{ doorToken: [config.scope] }] : (own.security ?? []);
      return {
        url,
        schema: {
          ...own,
          ...(config.idempotent === true ? { headers: withIdempotencyKey(own.headers) } : {}),
          security,
          response: { ...own.response, default: problemResponse },
        },
      };
    },
  });
  app.get(OPENAPI_PATH, { config: { public: true }, schema: { hide: true } }, () => app.swagger());
}
