import { Agent, request } from 'node:http';
import { jetstreamManager } from '@nats-io/jetstream';
import { type RawAnswer, rawRequest } from '@passerelle/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPortalLogger } from '../src/index.js';
import {
  type TestIntegrator,
  captureStream,
  integrator,
  newKey,
  usePortal,
  example,
  PORTAL,
  REGION,
  OE,
} from './fixtures.js';

/**
 * The only routes that answer without a bearer token (the token endpoint takes the client's credentials).
 * Any other route the portal has must refuse a request without one.
 */
const PUBLIC_ROUTES = [
  'GET /healthz',
  'HEAD /healthz',
  'GET /openapi.json',
  'HEAD /openapi.json',
  'GET /readyz',
  'HEAD /readyz',
  'POST /oauth2/token',
];

/**
 * Credentials an attacker may present: none, a guess, the client's secret where its token goes, and the
 * client's credentials themselves (what the token endpoint takes) on an API route.
 */
function badCredentials(acme: TestIntegrator): Record<string, Record<string, string>> {
  return {
    'no token': {},
    'a wrong token': { authorization: 'Bearer pat_wrong-token-0123456789abcdefghijklmnopqrstu' },
    "the client's secret as a token": { authorization: `Bearer ${acme.secret}` },
    "the client's credentials": {
      authorization: `Basic ${Buffer.from(`${acme.id}:${acme.secret}`).toString('base64')}`,
    },
  };
}

interface Route {
  method: string;
  url: string;
}

/**
 * Every method and path of the app, read from fastify's own route tree (`printRoutes`), so that a route
 * added later is covered without touching this test.
 */
function routesOf(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const node = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!node) continue;
    const depth = (node[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(node[2] ?? '');
    for (const method of (node[3] ?? '').split(', ').filter(Boolean)) {
      routes.push({ method, url: stack.join('') });
    }
  }
  return routes;
}

const hex = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
const alternateCase = (s: string): string =>
  [...s].map((c, i) => (i % 2 ? c.toUpperCase() : c.toLowerCase())).join('');

/**
 * The raw request-targets that may reach `path` through the router, or confuse a check made on the raw
 * text: encodings, double encodings, case, extra slashes, dot segments, trailing slashes, the absolute form.
 */
function mangled(path: string, origin: string): Record<string, string> {
  return {
    'as routed': path,
    'first character encoded': path.replace(/[A-Za-z0-9]/, hex),
    'a digit encoded': path.replace(/[0-9]/, hex),
    'every character encoded': path.replace(/[^/]/g, hex),
    'every character encoded, lower-case hex': path.replace(/[^/]/g, (c) => hex(c).toLowerCase()),
    'double-encoded': path.replace(/[A-Za-z0-9]/, (c) => `%25${hex(c).slice(1)}`),
    'every character double-encoded': path.replace(/[^/]/g, (c) => `%25${hex(c).slice(1)}`),
    'upper case': path.toUpperCase(),
    'mixed case': alternateCase(path),
    'leading double slash': `/${path}`,
    'slashes doubled': path.replace(/\//g, '//'),
    'leading dot segment': `/.${path}`,
    'inner dot segment': path.replace(/^(\/[^/]+)\//, '$1/./'),
    'dot-dot segment': `/x/..${path}`,
    'encoded dot-dot segment': `/x/%2e%2e${path}`,
    'trailing slash': `${path}/`,
    'two trailing slashes': `${path}//`,
    'empty query': `${path}?`,
    'trailing encoded slash': `${path}%2F`,
    'last slash encoded': path.replace(/\/(?=[^/]*$)/, '%2F'),
    'semicolon parameter': `${path};x=1`,
    'absolute form': `${origin}${path}`,
    'malformed encoding': path.replace(/[A-Za-z0-9]/, '%ZZ'),
    'truncated encoding': `${path}%`,
  };
}

/** The spellings the router takes to the route itself (it decodes `%xx`, and reads the absolute form). */
const REACH_THE_ROUTE = [
  'as routed',
  'first character encoded',
  'a digit encoded',
  'every character encoded',
  'every character encoded, lower-case hex',
  'empty query',
  'absolute form',
];

const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const GUIDE = 'https://www.belgif.be/specification/rest/api-guide';
/** A Belgif problem as the portal answers it, its instance left out (it names the request). */
const belgifProblem = (name: string, title: string, status: number, detail: string) => ({
  type: `urn:problem-type:belgif:${name}`,
  href: `${GUIDE}/problems/${name}.html`,
  title,
  status,
  detail,
  instance: undefined,
});
const NOT_FOUND = belgifProblem('resourceNotFound', 'Resource Not Found', 404, 'No such resource.');
const MALFORMED = belgifProblem('badRequest', 'Bad Request', 400, 'The request is malformed.');

describe('portal route authentication', () => {
  const logs = captureStream();
  const running = usePortal([PORTAL, REGION, OE], {
    logger: createPortalLogger({ level: 'info', destination: logs.stream }),
  });
  let acme: TestIntegrator;
  let reader: TestIntegrator;
  let BAD_CREDENTIALS: Record<string, Record<string, string>>;
  let dossierId: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const pdf = Buffer.from('%PDF-1.7 a scanned passport ' + 'x'.repeat(2_000));

  /** One request with the request-target written exactly as given (fetch and inject would normalise it). */
  function raw(
    method: string,
    target: string,
    headers: Record<string, string>,
    body?: Buffer,
  ): Promise<RawAnswer> {
    return rawRequest(
      request,
      {
        host: '127.0.0.1',
        port: running.portal.port,
        method,
        path: target,
        agent,
        headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
      },
      body,
    );
  }

  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const bearer = (): Record<string, string> => acme.auth;

  async function uploadPdf(): Promise<Record<string, unknown>> {
    const res = await raw(
      'POST',
      '/v1/documents',
      { ...bearer(), 'content-type': 'application/pdf', 'idempotency-key': newKey() },
      pdf,
    );
    expect(res.status).toBe(201);
    return (JSON.parse(res.body) as { document: Record<string, unknown> }).document;
  }

  /** What each route would be given by an integrator: a body that succeeds with a valid token. */
  let bodies: Record<string, { type: string; body: Buffer }>;

  /** Each stream's last sequence: documents, dossiers, idempotency records and messages alike. */
  async function streamHeads(): Promise<Record<string, number>> {
    const jsm = await jetstreamManager(running.world.nc);
    const heads: Record<string, number> = {};
    for await (const info of jsm.streams.list()) heads[info.config.name] = info.state.last_seq;
    return heads;
  }

  beforeAll(async () => {
    acme = await integrator(running.portal, 'acme-hr');
    reader = await integrator(running.portal, 'acme-hr-reader', ['read']);
    BAD_CREDENTIALS = badCredentials(acme);

    const application = example('application-submitted', 'valid-ict-first-application');
    const documents = application['documents'] as Record<string, unknown>;
    for (const slot of ['passportCopy', 'employmentContract', 'medicalCertificate', 'criminalRecord']) {
      documents[slot] = await uploadPdf();
    }
    documents['healthInsurance'] = { form: 'employer-undertaking', document: await uploadPdf() };
    const submitted = await raw(
      'POST',
      '/v1/dossiers',
      { ...bearer(), 'content-type': 'application/json', 'idempotency-key': newKey() },
      json(application),
    );
    expect(submitted.status).toBe(201);
    dossierId = (JSON.parse(submitted.body) as { dossierId: string }).dossierId;
    const passport = await uploadPdf();
    bodies = {
      'POST /v1/documents': { type: 'application/pdf', body: pdf },
      'POST /v1/dossiers': { type: 'application/json', body: json(application) },
      'POST /v1/dossiers/:dossierId/documents': {
        type: 'application/json',
        body: json({
          reason: 'completion',
          documents: { passportCopy: passport },
          addedAt: '2026-11-22T08:00:00Z',
        }),
      },
      'POST /v1/dossiers/:dossierId/fee-proof': {
        type: 'application/json',
        body: json({ ...example('fee-proof-submitted', 'valid-full-fee'), proof: passport }),
      },
    };
  });
  afterAll(async () => {
    agent.destroy();
  });

  test('routes - only the listed routes are public; every other one the portal has needs a token', async () => {
    const routes = routesOf(running.app).map((r) => `${r.method} ${r.url}`);
    // the enumeration sees the routes registered in child scopes (uploads, the door's) and each GET's HEAD
    expect(routes).toEqual(
      expect.arrayContaining([
        ...PUBLIC_ROUTES,
        'POST /v1/documents',
        'GET /v1/dossiers',
        'HEAD /v1/dossiers/:dossierId',
        'GET /events',
        'POST /webhooks',
        'GET /clients',
      ]),
    );
    for (const route of PUBLIC_ROUTES.filter((r) => r.startsWith('GET') || r.startsWith('HEAD'))) {
      const [method, url] = route.split(' ') as [string, string];
      expect((await raw(method, url, {})).status, route).toBe(200);
    }
    // the token endpoint wants the client's credentials
    const token = await raw(
      'POST',
      '/oauth2/token',
      { 'content-type': 'application/x-www-form-urlencoded' },
      Buffer.from('grant_type=client_credentials'),
    );
    expect(token.status).toBe(401);
    expect(token.headers['www-authenticate']).toBe(`Basic realm="${PORTAL}"`);
    for (const route of routesOf(running.app).filter(
      (r) => !PUBLIC_ROUTES.includes(`${r.method} ${r.url}`),
    )) {
      const res = await raw(route.method, route.url.replace(/:[A-Za-z]+/g, dossierId), {});
      expect(res.status, `${route.method} ${route.url} ${res.body}`).toBe(401);
    }
  });

  test('routes - no token, a wrong token, and every mangled path on every route: 401 or 404, nothing sent or stored', async () => {
    const before = await streamHeads();
    const protectedRoutes = routesOf(running.app).filter(
      (r) => !PUBLIC_ROUTES.includes(`${r.method} ${r.url}`),
    );
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(12);
    let refusedAtRoute = 0;
    for (const route of protectedRoutes) {
      const path = route.url.replace(/:[A-Za-z]+/g, (param) => (param === ':dossierId' ? dossierId : 'x'));
      const given = bodies[`${route.method} ${route.url}`];
      for (const method of new Set([route.method, 'HEAD', 'OPTIONS'])) {
        for (const [variant, target] of Object.entries(mangled(path, running.portal.origin))) {
          for (const [credential, headers] of Object.entries(BAD_CREDENTIALS)) {
            const what = `${method} ${target} (${route.method} ${route.url}, ${variant}, ${credential})`;
            const withBody = method === 'POST' && given;
            const res = await raw(
              method,
              target,
              withBody ? { ...headers, 'content-type': given.type, 'idempotency-key': newKey() } : headers,
              withBody ? given.body : undefined,
            );
            if (res.status === 401) refusedAtRoute++;
            expect([400, 401, 404], what).toContain(res.status);
            if (res.status === 401) {
              expect(res.headers['www-authenticate'], what).toMatch(new RegExp(`^Bearer realm="${PORTAL}"`));
              if (method !== 'HEAD') {
                expect(res.headers['content-type'], what).toBe(PROBLEM_JSON);
                expect(JSON.parse(res.body).type, what).toMatch(
                  /^urn:problem-type:belgif:(noAccessToken|invalidAccessToken)$/,
                );
              }
            }
            if (res.status === 404 && method !== 'HEAD') {
              // no route: the fixed answer, which tells nothing of the dossier or the routes
              expect({ ...JSON.parse(res.body), instance: undefined }, what).toEqual(NOT_FOUND);
            }
            if (res.status === 400 && method !== 'HEAD') {
              // a path whose %xx do not decode: refused before any route, not echoed
              expect({ ...JSON.parse(res.body), instance: undefined }, what).toEqual(MALFORMED);
            }
            // what the router decodes to the route itself reaches it, and is refused there
            const reachesRoute = method === route.method && REACH_THE_ROUTE.includes(variant);
            if (reachesRoute) expect(res.status, what).toBe(401);
          }
        }
      }
    }
    // each route was reached through each spelling the router decodes, with each bad credential
    expect(refusedAtRoute).toBeGreaterThanOrEqual(
      protectedRoutes.length * REACH_THE_ROUTE.length * Object.keys(BAD_CREDENTIALS).length,
    );
    // nothing was published, uploaded, opened or recorded: every stream is where it was
    expect(await streamHeads()).toEqual(before);
    const dossier = await raw('GET', `/v1/dossiers/${dossierId}`, bearer());
    expect(dossier.status).toBe(200);
    expect((JSON.parse(dossier.body) as { events: unknown[] }).events).toHaveLength(2);
    expect(logs.text()).not.toContain(acme.token);
    expect(logs.text()).not.toContain(acme.secret);
  });

  test('routes - a read token on every route that acts: 403 missingScope, nothing sent or stored', async () => {
    const before = await streamHeads();
    const acting = Object.keys(bodies);
    expect(acting).toHaveLength(4);
    for (const route of acting) {
      const [method, url] = route.split(' ') as [string, string];
      const given = bodies[route]!;
      const res = await raw(
        method,
        url.replace(':dossierId', dossierId),
        { ...reader.auth, 'content-type': given.type, 'idempotency-key': newKey() },
        given.body,
      );
      expect(res.status, route).toBe(403);
      expect(JSON.parse(res.body), route).toMatchObject({
        type: 'urn:problem-type:belgif:missingScope',
        requiredScopes: ['decide'],
      });
      expect(res.headers['www-authenticate'], route).toMatch(/error="insufficient_scope", scope="decide"/);
    }
    // and the door's administration is for admin clients only
    expect((await raw('GET', '/clients', acme.auth)).status).toBe(403);
    expect(await streamHeads()).toEqual(before);
  });

  test('routes - an encoded path with a valid token reaches its route: the router, not the raw text, decides', async () => {
    const res = await raw('GET', `/%761/dossiers/${dossierId}`, bearer());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ dossierId, state: 'submitted' });
  });
});
