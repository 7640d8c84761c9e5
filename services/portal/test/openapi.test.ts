import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { loadContracts } from '@passerelle/contracts';
import { buildOpenApiDocument } from '../src/index.js';
import { OPENAPI_FILE, renderOpenApiFile } from '../src/openapi-file.js';

describe('portal OpenAPI document', () => {
  test('openapi - the committed openapi.json is current (run pnpm --filter @passerelle/portal gen:openapi)', async () => {
    const contracts = await loadContracts();
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(await renderOpenApiFile(contracts));
  });

  test('openapi - 3.1 with the message schemas as request bodies and every $ref resolvable', async () => {
    const doc = buildOpenApiDocument(await loadContracts()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    const body = doc.paths['/v1/dossiers']?.['post']?.requestBody?.content['application/json']?.schema;
    expect(body).toEqual({ $ref: '#/components/schemas/ApplicationSubmitted' });
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/documents',
      '/v1/dossiers',
      '/v1/dossiers/{dossierId}',
      '/v1/dossiers/{dossierId}/documents',
      '/v1/dossiers/{dossierId}/fee-proof',
    ]);
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
    expect(JSON.stringify(doc)).not.toContain('$id');
  });
});
