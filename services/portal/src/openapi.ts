import type { Contracts } from '@passerelle/contracts';
import { ALLOWED_MEDIA_TYPES } from '@passerelle/documents';
import { CLOSED_STATES } from './dossier-status.js';

type Json = Record<string, unknown>;

/** The message types integrators post, with the route that posts each. */
const POSTED_TYPES = ['application-submitted', 'documents-added', 'fee-proof-submitted'] as const;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rewrites `$ref`s to `#/components/schemas/<name>` and drops `$id` / `$schema` / `$defs` (hoisted). */
function rewrite(node: unknown, refName: (ref: string) => string): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, refName));
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$id' || k === '$schema' || k === '$defs') continue;
    out[k] =
      k === '$ref' && typeof v === 'string' ? `#/components/schemas/${refName(v)}` : rewrite(v, refName);
  }
  return out;
}

function definitionName(ref: string): string {
  const m = /#\/\$defs\/([A-Za-z0-9_]+)$/.exec(ref);
  if (!m?.[1]) throw new Error(`unsupported $ref ${ref} in the schemas`);
  return m[1];
}

function pascal(type: string): string {
  return type.replace(/(^|-)([a-z0-9])/g, (_m, _d: string, c: string) => c.toUpperCase());
}

const errorResponse = (description: string): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/**
 * The portal's OpenAPI 3.1 document, built from the exchange's JSON Schemas (2020-12, which OpenAPI 3.1
 * embeds as is): request bodies are the message schemas, shared definitions become components.
 *
 * @example
 * ```ts
 * const doc = buildOpenApiDocument(await loadContracts());
 * ```
 */
export function buildOpenApiDocument(contracts: Contracts): Json {
  const components: Json = {};
  const put = (name: string, schema: unknown): void => {
    if (name in components) throw new Error(`two schemas are named ${name}`);
    components[name] = schema;
  };
  for (const defs of contracts.definitions()) {
    const $defs = defs.schema['$defs'];
    if (!isObject($defs)) continue;
    for (const [name, schema] of Object.entries($defs)) put(name, rewrite(schema, definitionName));
  }
  const bodyName = new Map<string, string>();
  for (const type of POSTED_TYPES) {
    const version = contracts.latestVersion(type);
    const loaded = contracts.schemas().find((s) => s.type === type && s.version === version);
    if (!loaded) throw new Error(`no schema for ${type} v${version}`);
    const name = typeof loaded.schema['title'] === 'string' ? loaded.schema['title'] : pascal(type);
    bodyName.set(type, name);
    put(name, rewrite(loaded.schema, definitionName));
  }

  put('Error', {
    type: 'object',
    description: 'Every error answer. `code` is stable (docs/errors.md); `errors` lists failing JSON paths.',
    properties: {
      code: { type: 'string', pattern: '^ERR_[A-Z0-9_]+$' },
      message: { type: 'string' },
      errors: {
        type: 'array',
        items: {
          type: 'object',
          properties: { path: { type: 'string' }, message: { type: 'string' } },
          required: ['path', 'message'],
        },
      },
      dossierId: {
        type: 'string',
        description:
          'On a 5xx answer to an application: the dossier it opened, kept because the application may have reached the administrations. GET /v1/dossiers/{dossierId} follows it; a retry with the same Idempotency-Key sends the application again under the same ids.',
      },
    },
    required: ['code', 'message'],
  });
  put('SentMessage', {
    type: 'object',
    description: 'One message the portal published (one per recipient of the fan-out).',
    properties: {
      id: { type: 'string', description: 'Message id (UUID v7).' },
      type: { type: 'string' },
      recipient: { type: 'string', description: 'Participant id.' },
    },
    required: ['id', 'type', 'recipient'],
  });
  put('Accepted', {
    type: 'object',
    properties: {
      dossierId: { type: 'string', pattern: '^[A-Za-z0-9-]{8,64}$', description: 'Pseudonymous dossier id.' },
      state: { type: 'string' },
      messages: { type: 'array', items: { $ref: '#/components/schemas/SentMessage' } },
    },
    required: ['dossierId', 'state', 'messages'],
  });
  put('DossierStatus', {
    type: 'object',
    description: 'What the portal learnt of a dossier from the administrations; no personal data.',
    properties: {
      dossierId: { type: 'string' },
      category: { type: 'string' },
      procedure: { type: 'string', enum: ['first', 'renewal'] },
      state: {
        type: 'string',
        enum: [
          'submitted',
          'missing-items',
          'admissible',
          'inadmissible',
          'fee-payment-requested',
          'work-authorised',
          'work-refused',
          'residence-granted',
          'residence-refused',
          'fee-refused',
          'permit-issued',
          'permit-renewed',
          'stay-ended',
        ],
      },
      closed: { type: 'boolean', description: `True in states ${CLOSED_STATES.join(', ')}.` },
      missingItems: { type: 'array', items: { type: 'string' } },
      respondBy: { type: 'string', format: 'date' },
      feeRequest: { type: 'object' },
      decisions: { type: 'object' },
      createdAt: { type: 'string', format: 'date-time' },
      updatedAt: { type: 'string', format: 'date-time' },
      events: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            at: { type: 'string', format: 'date-time' },
            type: { type: 'string' },
            direction: { type: 'string', enum: ['sent', 'received'] },
            party: { type: 'string', description: 'Participant id.' },
            messageId: { type: 'string' },
            summary: { type: 'string' },
          },
          required: ['at', 'type', 'direction', 'party', 'messageId'],
        },
      },
    },
    required: ['dossierId', 'category', 'procedure', 'state', 'closed', 'createdAt', 'updatedAt', 'events'],
  });

  const idempotencyKey = {
    name: 'Idempotency-Key',
    in: 'header',
    required: false,
    description:
      'Makes a retry safe: the same key again returns the first answer and publishes nothing twice; the same key with another request is 422 ERR_IDEMPOTENCY_KEY_REUSED. Kept 24 hours.',
    schema: { type: 'string', minLength: 1, maxLength: 255 },
  };
  const dossierId = {
    name: 'dossierId',
    in: 'path',
    required: true,
    schema: { type: 'string', pattern: '^[A-Za-z0-9-]{8,64}$' },
  };
  const common = {
    '401': errorResponse('No or bad bearer token (ERR_UNAUTHENTICATED).'),
  };
  const jsonBody = (type: string): Json => ({
    required: true,
    content: { 'application/json': { schema: { $ref: `#/components/schemas/${bodyName.get(type) ?? ''}` } } },
  });
  const accepted = (description: string): Json => ({
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Accepted' } } },
  });
  const bodyErrors = {
    '400': errorResponse(
      'The body fails the schema (ERR_SCHEMA_INVALID, with `errors[].path`) or names a document not uploaded by this integrator (ERR_DOCUMENT_UNKNOWN).',
    ),
    '403': errorResponse('The exchange agreement forbids the message (ERR_CONTRACT_FORBIDDEN).'),
    '409': errorResponse(
      'The dossier is closed (ERR_DOSSIER_CLOSED) or the same Idempotency-Key is in progress (ERR_IDEMPOTENCY_IN_PROGRESS).',
    ),
    '422': errorResponse('The Idempotency-Key was used with another request (ERR_IDEMPOTENCY_KEY_REUSED).'),
    '503': errorResponse(
      'The exchange did not confirm the message. ERR_NOT_SENT: nothing was sent (the stream or the outbox did not answer through its retries, or the portal was shutting down); retrying is safe. ERR_SEND_OUTCOME_UNKNOWN: it may have been delivered; retry with the same Idempotency-Key, which sends it exactly once. For an application the body names the dossierId, which the portal keeps unless nothing was sent.',
    ),
  };

  return {
    openapi: '3.1.0',
    info: {
      title: 'Passerelle portal API',
      version: '1.0.0',
      description:
        "The integrators' door to the Passerelle exchange: file single-permit applications, upload documents (stored encrypted), add documents and fee proof, and follow each dossier's status. Request bodies are the exchange's message schemas.",
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ bearer: [] }],
    paths: {
      '/v1/documents': {
        post: {
          operationId: 'uploadDocument',
          summary:
            'Upload a document (raw body, streamed, stored encrypted); returns the reference to put in messages.',
          parameters: [idempotencyKey],
          requestBody: {
            required: true,
            content: Object.fromEntries(
              ALLOWED_MEDIA_TYPES.map((t) => [t, { schema: { type: 'string', contentMediaType: t } }]),
            ),
          },
          responses: {
            '201': {
              description:
                'Stored; the reference is a read capability: keep it as confidential as the document.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { document: { $ref: '#/components/schemas/DocumentRef' } },
                    required: ['document'],
                  },
                },
              },
            },
            ...common,
            '413': errorResponse('Empty or larger than the limit (ERR_DOCUMENT_TOO_LARGE).'),
            '415': errorResponse('Media type not allowed (ERR_MEDIA_TYPE_NOT_ALLOWED).'),
            '422': bodyErrors['422'],
          },
        },
      },
      '/v1/dossiers': {
        post: {
          operationId: 'submitApplication',
          summary:
            'Submit an application: publishes application-submitted to the region and the Immigration Office.',
          parameters: [idempotencyKey],
          requestBody: jsonBody('application-submitted'),
          responses: {
            '201': accepted('Dossier created and application published.'),
            ...common,
            ...bodyErrors,
          },
        },
      },
      '/v1/dossiers/{dossierId}': {
        get: {
          operationId: 'getDossier',
          summary: "A dossier's status and history (meta and rulings, no personal data).",
          parameters: [dossierId],
          responses: {
            '200': {
              description: 'The status.',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/DossierStatus' } } },
            },
            ...common,
            '404': errorResponse('No dossier of this integrator has this id (ERR_DOSSIER_NOT_FOUND).'),
          },
        },
      },
      '/v1/dossiers/{dossierId}/documents': {
        post: {
          operationId: 'addDocuments',
          summary: 'Add documents to a dossier: publishes documents-added.',
          parameters: [dossierId, idempotencyKey],
          requestBody: jsonBody('documents-added'),
          responses: {
            '202': accepted('Published.'),
            ...common,
            ...bodyErrors,
            '404': errorResponse('No dossier of this integrator has this id (ERR_DOSSIER_NOT_FOUND).'),
          },
        },
      },
      '/v1/dossiers/{dossierId}/fee-proof': {
        post: {
          operationId: 'addFeeProof',
          summary: 'Add the proof of payment of the fee: publishes fee-proof-submitted.',
          parameters: [dossierId, idempotencyKey],
          requestBody: jsonBody('fee-proof-submitted'),
          responses: {
            '202': accepted('Published.'),
            ...common,
            ...bodyErrors,
            '404': errorResponse('No dossier of this integrator has this id (ERR_DOSSIER_NOT_FOUND).'),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'One token per integrator; the portal stores only its SHA-256.',
        },
      },
      schemas: components,
    },
  };
}
