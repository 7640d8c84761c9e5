import { Validator } from '@seriousme/openapi-schema-validator';
import { beforeAll, describe, expect, test } from 'vitest';
import { bearer, http, useDemoDoor, clientToken } from './fixtures.js';

interface Operation {
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, unknown> };
}

describe('door OpenAPI', () => {
  const demo = useDemoDoor();
  let doc: {
    openapi: string;
    servers: { url: string }[];
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
  };

  beforeAll(async () => {
    const res = await http(demo, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    doc = res.json;
  });

  test('openapi - the document is OpenAPI 3.1, served publicly, and valid for an independent validator', async () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: demo.origin }]);
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test('openapi - every operation has the scope its route requires, and a default problem response', () => {
    const expected: Record<string, string[] | undefined> = {
      'post /dossiers/{dossierId}/decisions': ['decide'],
      'get /dossiers': ['read'],
      'post /clients': ['admin'],
      'get /events': ['read'],
      'post /webhooks': ['read'],
      'post /oauth2/token': undefined,
      'get /healthz': undefined,
    };
    for (const [operation, scopes] of Object.entries(expected)) {
      const [method, path] = operation.split(' ') as [string, string];
      const op = doc.paths[path]?.[method];
      expect(op, operation).toBeDefined();
      if (scopes) expect(op!.security, operation).toEqual([{ doorToken: scopes }]);
      expect(op!.responses['default']?.content?.['application/problem+json']?.schema.$ref, operation).toBe(
        '#/components/schemas/Problem',
      );
    }
    expect(doc.paths['/oauth2/token']!['post']!.security).toEqual([{ clientSecretBasic: [] }]);
    expect(doc.paths['/oauth2/token']!['post']!.requestBody!.content).toHaveProperty(
      'application/x-www-form-urlencoded',
    );
    expect(doc.paths['/healthz']!['get']!.security).toEqual([]);
    expect(doc.paths['/openapi.json']).toBeUndefined();
    expect(doc.components.securitySchemes['doorToken']).toMatchObject({
      type: 'oauth2',
      flows: {
        clientCredentials: {
          tokenUrl: `${demo.origin}/oauth2/token`,
          scopes: { read: expect.any(String), decide: expect.any(String), admin: expect.any(String) },
        },
      },
    });
    expect(doc.components.schemas).toHaveProperty('Problem');
  });

  test('openapi - the document is built from the routes’ schemas: parameters, bodies and collections', () => {
    const decide = doc.paths['/dossiers/{dossierId}/decisions']!['post']!;
    expect(decide.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'path', name: 'dossierId' }),
        // an idempotent route documents the header it requires
        expect.objectContaining({ in: 'header', name: 'idempotency-key', required: true }),
      ]),
    );
    expect(decide.requestBody!.content).toHaveProperty('application/json');
    const list = doc.paths['/dossiers']!['get']!;
    expect(list.parameters!.map((p) => `${p.in}:${p.name}`).sort()).toEqual([
      'query:cursor',
      'query:pageSize',
      'query:state',
    ]);
    expect(JSON.stringify(list.responses['200'])).toContain('"next"');
  });
});

describe('door collections', () => {
  const demo = useDemoDoor();
  let reader: string;

  beforeAll(async () => {
    reader = await clientToken(demo, 'reader', ['read']);
  });

  test('collections - pages follow their next links to the end: { self, items, pageSize, next }', async () => {
    const seen: string[] = [];
    let target: string | undefined = '/dossiers?state=open';
    let pages = 0;
    while (target) {
      const res = await http(demo, 'GET', target, bearer(reader));
      expect(res.status).toBe(200);
      expect(Object.keys(res.json).sort()).toEqual(
        res.json.next ? ['items', 'next', 'pageSize', 'self'] : ['items', 'pageSize', 'self'],
      );
      expect(res.json.pageSize).toBe(3);
      expect(res.json.self).toBe(`${demo.origin}${target}`);
      seen.push(...res.json.items.map((d: { dossierId: string }) => d.dossierId));
      target = res.json.next ? (res.json.next as string).replace(demo.origin, '') : undefined;
      pages++;
    }
    expect(pages).toBe(2);
    expect(seen).toEqual(['dossier-0001', 'dossier-0003', 'dossier-0005', 'dossier-0007']);
  });

  test('collections - a cursor altered, or taken to other filters, is a badRequest naming it', async () => {
    const first = await http(demo, 'GET', '/dossiers?state=open&pageSize=2', bearer(reader));
    const next = new URL(first.json.next as string);
    const cursor = next.searchParams.get('cursor')!;
    const altered = `${cursor.slice(0, -2)}${cursor.endsWith('A') ? 'B' : 'A'}${cursor.slice(-1)}`;
    const forged = Buffer.from('"dossier-0006"').toString('base64url') + '.' + cursor.split('.')[1];
    for (const [what, query] of [
      ['altered', `state=open&pageSize=2&cursor=${encodeURIComponent(altered)}`],
      ['forged position', `state=open&pageSize=2&cursor=${encodeURIComponent(forged)}`],
      ['other filters', `state=closed&pageSize=2&cursor=${encodeURIComponent(cursor)}`],
      ['truncated', `state=open&pageSize=2&cursor=${encodeURIComponent(cursor.slice(0, 10))}`],
    ]) {
      const res = await http(demo, 'GET', `/dossiers?${query}`, bearer(reader));
      expect(res.status, what).toBe(400);
      expect(res.json, what).toMatchObject({
        code: 'ERR_CURSOR_INVALID',
        issues: [expect.objectContaining({ in: 'query', name: 'cursor' })],
      });
    }
    expect(
      (await http(demo, 'GET', `/dossiers?${next.searchParams.toString()}`, bearer(reader))).status,
    ).toBe(200);
  });

  test('collections - links are built on the public URL, never on the request’s host or absolute form', async () => {
    const res = await http(demo, 'GET', 'http://attacker.example/dossiers?pageSize=2', {
      ...bearer(reader),
      host: 'attacker.example',
    });
    expect(res.status).toBe(200);
    expect(res.json.self).toBe(`${demo.origin}/dossiers?pageSize=2`);
    expect(res.json.next.startsWith(`${demo.origin}/dossiers?`)).toBe(true);
  });
});
