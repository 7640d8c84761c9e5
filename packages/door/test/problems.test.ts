import { PasserelleError } from '@passerelle/errors';
import fastify from 'fastify';
import { describe, expect, test } from 'vitest';
import { doorServerOptions, problemsPlugin, validationIssues } from '../src/index.js';
import { BELGIF_PROBLEM_TYPES, PROBLEM_MAPPING } from '../src/internal.js';
import {
  type Answer,
  bearer,
  http,
  useDemoDoor,
  useClientTokens,
  postKeyed,
  postJson,
  postDecision,
} from './fixtures.js';

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const GUIDE = 'https://www.belgif.be/specification/rest/api-guide';
const UUID_URN = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The answer has this status and its problem these members. */
function expectProblem(res: Answer, status: number, members: Record<string, unknown>): void {
  expect(res.status).toBe(status);
  expect(res.json).toMatchObject(members);
}

describe('problems', () => {
  const demo = useDemoDoor();
  const tokens = useClientTokens(demo, {
    decider: ['case-desk', ['read', 'decide']],
    reader: ['reader', ['read']],
  });

  const decide = (dossierId: string, body: unknown, extra: Record<string, string> = {}) =>
    postDecision(demo, tokens.decider, dossierId, typeof body === 'string' ? body : JSON.stringify(body), {
      'idempotency-key': `k-${Math.random()}`,
      ...extra,
    });

  test('problems - a body that breaks the schema is a badRequest with one issue per bad input, JSON pointers, no validator text', async () => {
    const res = await decide('dossier-0001', {
      outcome: 'maybe',
      period: { from: 'not a date' },
      surname: 'Janssens',
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe(PROBLEM_JSON);
    expect(res.json).toMatchObject({
      type: 'urn:problem-type:belgif:badRequest',
      href: `${GUIDE}/problems/badRequest.html`,
      title: 'Bad Request',
      status: 400,
      detail: 'The input message is incorrect.',
    });
    expect(res.json.instance).toMatch(UUID_URN);
    const issues = res.json.issues as { type: string; in: string; name: string; detail: string }[];
    expect(issues.map((i) => [i.type.split(':').pop(), i.in, i.name]).sort()).toEqual(
      [
        ['schemaViolation', 'body', '/outcome'],
        ['schemaViolation', 'body', '/period/from'],
        ['schemaViolation', 'body', '/period/to'],
        ['unknownInput', 'body', '/surname'],
      ].sort(),
    );
    expect(issues.find((i) => i.name === '/outcome')?.detail).toBe(
      '/outcome must be one of: "granted", "refused".',
    );
    expect(issues.find((i) => i.name === '/period/to')?.detail).toBe('/period/to is required.');
    // the request's values are never echoed, nor the validator's wording
    expect(res.text).not.toContain('maybe');
    expect(res.text).not.toContain('Janssens');
    expect(res.text).not.toContain('not a date');
    expect(res.text).not.toMatch(/must NOT have|must have required property|must be equal to one of/);
  });

  test('problems - a bad path parameter, query parameter and header are issues "in" path, query and header', async () => {
    const path = await decide('x', { outcome: 'granted' });
    expect(path.status).toBe(400);
    expect(path.json.issues).toEqual([
      expect.objectContaining({
        in: 'path',
        name: 'dossierId',
        detail: 'dossierId does not have the expected form.',
      }),
    ]);
    const query = await http(demo, 'GET', '/dossiers?pageSize=9&colour=red', bearer(tokens.reader));
    expect(query.status).toBe(400);
    expect(query.json.issues.map((i: { in: string; name: string }) => `${i.in}:${i.name}`).sort()).toEqual([
      'query:colour',
      'query:pageSize',
    ]);
    const header = await decide(
      'dossier-0001',
      { outcome: 'granted' },
      { 'passerelle-officer': 'Jan Peeters' },
    );
    expectProblem(header, 400, {
      type: 'urn:problem-type:belgif:badRequest',
      code: 'ERR_OFFICER_INVALID',
    });
    expect(header.json.issues).toEqual([
      expect.objectContaining({
        in: 'header',
        name: 'Passerelle-Officer',
        type: 'urn:problem-type:belgif:input-validation:invalidInput',
      }),
    ]);
    expect(header.text).not.toContain('Jan Peeters');
  });

  test('problems - unreadable JSON, an empty JSON body and a wrong media type', async () => {
    const broken = await decide('dossier-0001', '{"outcome": "gran');
    expect(broken.status).toBe(400);
    expect(broken.json.issues).toEqual([
      expect.objectContaining({ in: 'body', name: '', detail: 'The body is not valid JSON.' }),
    ]);
    expect(broken.text).not.toContain('gran');
    const media = await decide('dossier-0001', '<outcome>granted</outcome>', {
      'content-type': 'application/xml',
    });
    expectProblem(media, 415, {
      type: 'urn:problem-type:passerelle:mediaTypeNotAllowed',
      status: 415,
    });
  });

  test('problems - a body over the route limit is payloadTooLarge with the limit', async () => {
    const res = await postJson(demo, tokens.decider, '/notes', { note: 'x'.repeat(200) });
    expectProblem(res, 413, {
      type: 'urn:problem-type:belgif:payloadTooLarge',
      status: 413,
      limit: 64,
    });
  });

  test('problems - no route: one resourceNotFound for everyone, echoing nothing', async () => {
    const anonymous = await http(demo, 'GET', '/secret-admin-panel');
    const known = await http(demo, 'DELETE', '/dossiers', { authorization: `Bearer ${tokens.decider}` });
    for (const res of [anonymous, known]) {
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toBe(PROBLEM_JSON);
      expect({ ...res.json, instance: undefined }).toEqual({
        type: 'urn:problem-type:belgif:resourceNotFound',
        href: `${GUIDE}/problems/resourceNotFound.html`,
        title: 'Resource Not Found',
        status: 404,
        detail: 'No such resource.',
        instance: undefined,
      });
    }
    expect(anonymous.text).not.toContain('secret-admin-panel');
  });

  test('problems - a path whose %xx does not decode is a badRequest before any route, not echoed', async () => {
    const res = await http(demo, 'GET', '/dossiers/%ZZsecret');
    expectProblem(res, 400, {
      type: 'urn:problem-type:belgif:badRequest',
      detail: 'The request is malformed.',
    });
    expect(res.text).not.toContain('secret');
  });

  test('problems - a request-target the HTTP parser refuses is a badRequest problem too, without a body for HEAD', async () => {
    const res = await http(demo, 'GET', '%2Fdossiers');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe(PROBLEM_JSON);
    expect(res.headers['connection']).toBe('close');
    expect(res.json).toMatchObject({
      type: 'urn:problem-type:belgif:badRequest',
      status: 400,
      detail: 'The request is malformed.',
    });
    const head = await http(demo, 'HEAD', '%2Fdossiers');
    expect([head.status, head.text]).toEqual([400, '']);
  });

  test('problems - a resource a path names that does not exist is resourceNotFound with the code and the path input', async () => {
    const res = await http(demo, 'GET', '/dossiers/dossier-9999', bearer(tokens.reader));
    expectProblem(res, 404, {
      type: 'urn:problem-type:belgif:resourceNotFound',
      code: 'ERR_DOSSIER_NOT_FOUND',
      issues: [expect.objectContaining({ in: 'path', name: 'dossierId' })],
    });
  });

  test('problems - a catalogue code without a Belgif equivalent is urn:problem-type:passerelle:<type> with code', async () => {
    expect((await decide('dossier-0002', { outcome: 'granted' })).status).toBe(201);
    const again = await decide('dossier-0002', { outcome: 'refused' });
    expectProblem(again, 409, {
      type: 'urn:problem-type:passerelle:duplicateDecision',
      title: 'Duplicate decision',
      status: 409,
      detail: 'This dossier was decided already.',
      code: 'ERR_DUPLICATE_DECISION',
    });
    expect(again.json.retryable).toBeUndefined();
  });

  test('problems - a 5xx says nothing of its cause; a retryable catalogue 5xx says retryable', async () => {
    const res = await http(demo, 'POST', '/boom', bearer(tokens.reader), '{}');
    expect(res.status).toBe(500);
    expect({ ...res.json, instance: undefined }).toEqual({
      type: 'urn:problem-type:belgif:internalServerError',
      href: `${GUIDE}/problems/internalServerError.html`,
      title: 'Internal Server Error',
      status: 500,
      instance: undefined,
    });
    expect(res.text).not.toMatch(/db-internal|hunter2|password|at .*\.ts/);
    demo.failNext(1);
    const notSent = await postKeyed(demo, tokens.decider, '/flaky', 'boom-1', '{}');
    expectProblem(notSent, 503, {
      type: 'urn:problem-type:passerelle:notSent',
      code: 'ERR_NOT_SENT',
      retryable: true,
    });
    expect(notSent.json.detail).toBeUndefined();
  });

  test('problems - access problems: noAccessToken, invalidAccessToken, missingScope, with their challenges', async () => {
    const none = await http(demo, 'GET', '/dossiers');
    expectProblem(none, 401, {
      type: 'urn:problem-type:belgif:noAccessToken',
      title: 'No Access Token',
    });
    expect(none.headers['www-authenticate']).toBe(`Bearer realm="${demo.door.options.name}"`);
    const wrong = await http(demo, 'GET', '/dossiers', { authorization: `Bearer pat_${'A'.repeat(43)}` });
    expectProblem(wrong, 401, { type: 'urn:problem-type:belgif:invalidAccessToken' });
    expect(wrong.headers['www-authenticate']).toContain('error="invalid_token"');
    const scope = await decide(
      'dossier-0003',
      { outcome: 'granted' },
      { authorization: `Bearer ${tokens.reader}` },
    );
    expectProblem(scope, 403, {
      type: 'urn:problem-type:belgif:missingScope',
      title: 'Missing Scope',
      status: 403,
      requiredScopes: ['decide'],
      code: 'ERR_SCOPE_MISSING',
    });
    expect(scope.headers['www-authenticate']).toContain('error="insufficient_scope", scope="decide"');
  });

  test('problems - every mapped code names a Belgif type that exists, with its status', () => {
    for (const [code, mapping] of Object.entries(PROBLEM_MAPPING)) {
      if (!mapping?.belgif) continue;
      const standard = BELGIF_PROBLEM_TYPES[mapping.belgif];
      // the guide's badRequest and resourceNotFound carry one status; the others must agree with theirs
      expect(standard.status, code).toBe(mapping.status);
    }
  });

  test('problems - validation issues: a failed oneOf is one issue, not one per branch', () => {
    const issues = validationIssues(
      [
        {
          keyword: 'required',
          instancePath: '',
          schemaPath: '#/oneOf/0/required',
          params: { missingProperty: 'a' },
        },
        {
          keyword: 'required',
          instancePath: '',
          schemaPath: '#/oneOf/1/required',
          params: { missingProperty: 'b' },
        },
        { keyword: 'oneOf', instancePath: '', schemaPath: '#/oneOf', params: { passingSchemas: null } },
      ],
      'body',
    );
    expect(issues).toEqual([
      expect.objectContaining({
        in: 'body',
        name: '',
        detail: 'The body does not match any of the allowed forms.',
      }),
    ]);
  });

  test('problems - a service adds members of its own to a problem, never over the standard ones', async () => {
    const app = fastify({ ...doorServerOptions(), logger: false });
    await app.register(problemsPlugin, {
      realm: 'demo',
      members: (request) =>
        request.url.startsWith('/opened')
          ? { dossierId: 'dossier-0042', status: 200, code: 'ERR_X' }
          : undefined,
    });
    app.post('/opened', { config: { public: true } }, () => {
      throw new PasserelleError('ERR_NOT_SENT', 'The exchange did not take the message.');
    });
    app.post('/plain', { config: { public: true } }, () => {
      throw new PasserelleError('ERR_NOT_SENT', 'The exchange did not take the message.');
    });
    const opened = await app.inject({ method: 'POST', url: '/opened' });
    expect(opened.statusCode).toBe(503);
    expect(opened.json()).toMatchObject({
      type: 'urn:problem-type:passerelle:notSent',
      status: 503,
      code: 'ERR_NOT_SENT',
      dossierId: 'dossier-0042',
    });
    expect(opened.json().dossierId).toBe('dossier-0042');
    expect((await app.inject({ method: 'POST', url: '/plain' })).json().dossierId).toBeUndefined();
    await app.close();
  });
});
