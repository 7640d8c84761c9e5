import { Validator } from '@seriousme/openapi-schema-validator';
import { format } from 'prettier';
import { beforeAll, describe, expect, test } from 'vitest';
import { usePortal } from './fixtures.js';

const PORTAL = 'portal-employers';

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}

interface Document {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

describe('portal OpenAPI document', () => {
  const running = usePortal([PORTAL], {
    listen: false,
    // the public URL the committed document names
    door: { publicUrl: 'https://portal.example.be' },
  });
  let doc: Document;
  let served: string;

  beforeAll(async () => {
    const res = await running.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    served = res.body;
    doc = res.json();
  });

  test('openapi - the document is OpenAPI 3.1, generated from the routes, and valid for an independent validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: 'https://portal.example.be' }]);
    const result = await new Validator().validate(JSON.parse(served) as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test('openapi - the committed openapi.json is this document (pnpm --filter @passerelle/portal gen:openapi writes it)', async () => {
    const rendered = await format(served, {
      parser: 'json',
      printWidth: 110,
      singleQuote: true,
      trailingComma: 'all',
    });
    await expect(rendered).toMatchFileSnapshot('../openapi.json');
  });

  test('openapi - request bodies are the message schemas; every operation has its scope and a problem response', () => {
    const operation = (path: string, method: string): Operation => {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      return op!;
    };
    const bodies: Record<string, string> = {
      '/v1/dossiers': 'ApplicationSubmitted',
      '/v1/dossiers/{dossierId}/documents': 'DocumentsAdded',
      '/v1/dossiers/{dossierId}/fee-proof': 'FeeProofSubmitted',
    };
    for (const [path, schema] of Object.entries(bodies)) {
      const op = operation(path, 'post');
      expect(op.requestBody?.content['application/json']?.schema).toEqual({
        $ref: `#/components/schemas/${schema}`,
      });
      expect(op.security).toEqual([{ doorToken: ['decide'] }]);
      expect(op.parameters).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ in: 'header', name: 'idempotency-key', required: true }),
        ]),
      );
    }
    const upload = operation('/v1/documents', 'post');
    expect(Object.keys(upload.requestBody!.content).sort()).toEqual(
      ['application/json', 'application/pdf', 'application/xml', 'image/jpeg', 'image/png'].sort(),
    );
    expect(upload.responses['201']?.content?.['application/json']).toBeDefined();
    const list = operation('/v1/dossiers', 'get');
    expect(list.security).toEqual([{ doorToken: ['read'] }]);
    expect(list.parameters!.map((p) => `${p.in}:${p.name}`).sort()).toEqual(
      [
        'query:pageSize',
        'query:cursor',
        'query:state',
        'query:category',
        'query:closed',
        'query:updatedSince',
      ].sort(),
    );
    expect(JSON.stringify(list.responses['200'])).toContain('DossierSummary');
    expect(operation('/v1/dossiers/{dossierId}', 'get').security).toEqual([{ doorToken: ['read'] }]);
    expect(operation('/events', 'get').security).toEqual([{ doorToken: ['read'] }]);
    expect(operation('/webhooks', 'post').security).toEqual([{ doorToken: ['read'] }]);
    expect(operation('/healthz', 'get').security).toEqual([]);
    expect(operation('/oauth2/token', 'post').security).toEqual([{ clientSecretBasic: [] }]);
    expect(operation('/clients', 'post').security).toEqual([{ doorToken: ['admin'] }]);
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        expect(
          op.responses['default']?.content?.['application/problem+json']?.schema.$ref,
          `${method} ${path}`,
        ).toBe('#/components/schemas/Problem');
      }
    }
    // every $ref resolves to a component
    const refs: string[] = [];
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (n && typeof n === 'object') {
        for (const [k, v] of Object.entries(n)) {
          if (k === '$ref' && typeof v === 'string') refs.push(v);
          else walk(v);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.slice('#/components/schemas/'.length)], ref).toBeDefined();
    }
    for (const name of [
      'Problem',
      'ApplicationSubmitted',
      'DocumentRef',
      'DossierStatus',
      'DossierSummary',
    ]) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
  });
});
