import fastify, { type FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, test } from 'vitest';
import { accessPlugin, doorServerOptions, problemsPlugin } from '../src/index.js';
import { OFFICER_ID_PATTERN, parseOfficer } from '../src/internal.js';
import {
  type DemoClient,
  basic,
  bearer,
  http,
  makeClient,
  tokenFor,
  useDemoDoor,
  clientToken,
  postJson,
} from './fixtures.js';

const FORM = 'application/x-www-form-urlencoded';

/** Every method and path of the app, read from fastify's own route tree (a route added later is covered). */
function routesOf(app: FastifyInstance): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const node = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!node) continue;
    stack.length = (node[1] ?? '').length / 4;
    stack.push(node[2] ?? '');
    for (const method of (node[3] ?? '').split(', ').filter(Boolean))
      routes.push({ method, url: stack.join('') });
  }
  return routes;
}

const hex = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/** Spellings of a path: those the router takes to the route, and those meant to confuse a check on the raw text. */
function mangled(path: string, origin: string): Record<string, string> {
  return {
    'as routed': path,
    'first character encoded': path.replace(/[A-Za-z0-9]/, hex),
    'every character encoded': path.replace(/[^/]/g, hex),
    'double-encoded': path.replace(/[A-Za-z0-9]/, (c) => `%25${hex(c).slice(1)}`),
    'upper case': path.toUpperCase(),
    'slashes doubled': path.replace(/\//g, '//'),
    'dot-dot segment': `/x/..${path}`,
    'trailing slash': `${path}/`,
    'empty query': `${path}?`,
    'semicolon parameter': `${path};x=1`,
    'absolute form': `${origin}${path}`,
    'malformed encoding': path.replace(/[A-Za-z0-9]/, '%ZZ'),
  };
}
const REACH_THE_ROUTE = [
  'as routed',
  'first character encoded',
  'every character encoded',
  'empty query',
  'absolute form',
];

describe('door access', () => {
  const demo = useDemoDoor();
  let admin: DemoClient;
  let adminToken: string;

  beforeAll(async () => {
    admin = await makeClient(demo, 'door-admin', ['admin']);
    adminToken = await tokenFor(demo, admin);
  });

  const token = (client: DemoClient, form: Record<string, string>, authorization = basic(client)) =>
    http(
      demo,
      'POST',
      '/oauth2/token',
      { authorization, 'content-type': FORM },
      new URLSearchParams(form).toString(),
    );

  test('access - the token endpoint issues an opaque short-lived bearer token for client credentials', async () => {
    const client = await makeClient(demo, 'portal-wib', ['read', 'decide']);
    const res = await token(client, { grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json).toEqual({
      access_token: expect.stringMatching(/^pat_[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 600,
      scope: 'read decide',
    });
    const narrowed = await token(client, { grant_type: 'client_credentials', scope: 'read' });
    expect(narrowed.json.scope).toBe('read');
    // the narrowed token cannot decide
    const decide = await http(
      demo,
      'POST',
      '/dossiers/dossier-0001/decisions',
      bearer(narrowed.json.access_token, {
        'passerelle-officer': 'off-3f9a27c1',
        'idempotency-key': 'narrow-1',
      }),
      JSON.stringify({ outcome: 'granted' }),
    );
    expect(decide.status).toBe(403);
    expect(decide.json.requiredScopes).toEqual(['decide']);
  });

  test('access - the token endpoint refuses wrong credentials, other grants, scopes not given, repeated fields', async () => {
    const client = await makeClient(demo, 'registry-sync', ['read']);
    const cases: [string, Awaited<ReturnType<typeof token>>, number, string][] = [
      [
        'wrong secret',
        await token({ ...client, secret: `${client.secret}x` }, { grant_type: 'client_credentials' }),
        401,
        'invalid_client',
      ],
      [
        'unknown client',
        await token({ id: 'nobody', secret: client.secret }, { grant_type: 'client_credentials' }),
        401,
        'invalid_client',
      ],
      [
        'no credentials',
        await token(client, { grant_type: 'client_credentials' }, ''),
        401,
        'invalid_client',
      ],
      ['password grant', await token(client, { grant_type: 'password' }), 400, 'unsupported_grant_type'],
      ['no grant', await token(client, { scope: 'read' }), 400, 'invalid_request'],
      [
        'scope not given',
        await token(client, { grant_type: 'client_credentials', scope: 'read decide' }),
        400,
        'invalid_scope',
      ],
      [
        'unknown scope',
        await token(client, { grant_type: 'client_credentials', scope: 'root' }),
        400,
        'invalid_scope',
      ],
      [
        'secret in the form',
        await token(client, { grant_type: 'client_credentials', client_secret: client.secret }),
        400,
        'invalid_request',
      ],
    ];
    const twice = await http(
      demo,
      'POST',
      '/oauth2/token',
      { authorization: basic(client), 'content-type': FORM },
      'grant_type=client_credentials&grant_type=client_credentials',
    );
    cases.push(['grant twice', twice, 400, 'invalid_request']);
    for (const [what, res, status, error] of cases) {
      expect(res.status, what).toBe(status);
      expect(res.headers['content-type'], what).toBe('application/problem+json; charset=utf-8');
      expect(res.json.error, what).toBe(error);
      expect(res.text, what).not.toContain(client.secret);
      if (status === 401)
        expect(res.headers['www-authenticate'], what).toBe(`Basic realm="${demo.door.options.name}"`);
    }
  });

  test('access - scopes are each on their own: read cannot decide, decide cannot administer, admin cannot read', async () => {
    const reader = await clientToken(demo, 'reader-only', ['read']);
    const decider = await clientToken(demo, 'decider-only', ['decide']);
    expect((await http(demo, 'GET', '/dossiers', bearer(reader))).status).toBe(200);
    const decide = await http(
      demo,
      'POST',
      '/dossiers/dossier-0004/decisions',
      bearer(reader, { 'passerelle-officer': 'off-3f9a27c1', 'idempotency-key': 'r-1' }),
      JSON.stringify({ outcome: 'granted' }),
    );
    expect([decide.status, decide.json.type]).toEqual([403, 'urn:problem-type:belgif:missingScope']);
    expect((await http(demo, 'GET', '/clients', bearer(decider))).status).toBe(403);
    expect((await http(demo, 'GET', '/dossiers', bearer(adminToken))).status).toBe(403);
  });

  test('access - a revoked client: its live tokens are refused at once, and it gets no other', async () => {
    const client = await makeClient(demo, 'to-revoke', ['read']);
    const live = await tokenFor(demo, client);
    expect((await http(demo, 'GET', '/dossiers', bearer(live))).status).toBe(200);
    const revoked = await http(demo, 'POST', '/clients/to-revoke/revoke', bearer(adminToken), '{}');
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: 'to-revoke', revokedBy: 'door-admin' });
    const after = await http(demo, 'GET', '/dossiers', bearer(live));
    expect([after.status, after.json.type]).toEqual([401, 'urn:problem-type:belgif:invalidAccessToken']);
    expect((await token(client, { grant_type: 'client_credentials' })).status).toBe(401);
  });

  test('access - an admin client creates a client over HTTP; its secret is shown once and stored only as a keyed hash', async () => {
    const created = await postJson(demo, adminToken, '/clients', {
      id: 'commune-21004-desk',
      scopes: ['read', 'decide'],
    });
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe('/clients/commune-21004-desk');
    expect(created.json).toMatchObject({
      id: 'commune-21004-desk',
      scopes: ['read', 'decide'],
      createdBy: 'door-admin',
    });
    const secret = created.json.secret as string;
    expect(secret).toMatch(/^pdc_[A-Za-z0-9_-]{43}$/);
    const shown = await http(demo, 'GET', '/clients/commune-21004-desk', bearer(adminToken));
    expect(shown.json.secret).toBeUndefined();
    expect(shown.text).not.toContain(secret);
    // what the bucket holds: neither the secret nor its plain SHA-256
    const { Kvm } = await import('@nats-io/kv');
    const kv = await new Kvm(demo.nc).open(`door-${demo.door.options.name}-clients`);
    const stored = (await kv.get('commune-21004-desk'))!.string();
    const { createHash } = await import('node:crypto');
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(createHash('sha256').update(secret).digest('hex'));
    expect((await tokenFor(demo, { id: 'commune-21004-desk', secret })).length).toBeGreaterThan(0);
    const again = await postJson(demo, adminToken, '/clients', {
      id: 'commune-21004-desk',
      scopes: ['read'],
    });
    expect([again.status, again.json.code]).toEqual([409, 'ERR_CLIENT_EXISTS']);
    const list = await http(demo, 'GET', '/clients?pageSize=2', bearer(adminToken));
    expect(list.json.items).toHaveLength(2);
    expect(list.json.next).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/clients\?pageSize=2&cursor=|cursor=.*pageSize=2/,
    );
  });

  test('access - a client given a new secret: the old one gets no token, the new one does', async () => {
    // through the door's own API: the token endpoint's rate limit is another test's
    const client = await makeClient(demo, 'to-rotate', ['read']);
    const before = await demo.door.access.issueToken('to-rotate', client.secret, undefined);
    const { secret } = await demo.door.clients.rotateSecret('to-rotate');
    expect(secret).not.toBe(client.secret);
    await expect(demo.door.access.issueToken('to-rotate', client.secret, undefined)).rejects.toMatchObject({
      code: 'ERR_CLIENT_AUTHENTICATION_FAILED',
    });
    await expect(demo.door.access.issueToken('to-rotate', secret, 'read')).resolves.toBeDefined();
    // a token issued before runs to its expiry
    expect((await http(demo, 'GET', '/dossiers', bearer(before.token))).status).toBe(200);
    await expect(demo.door.clients.rotateSecret('no-such-client')).rejects.toMatchObject({
      code: 'ERR_CLIENT_NOT_FOUND',
    });
  });

  test('access - the officer header: required where the route says so, a pseudonymous id, never a name or an e-mail', async () => {
    const decider = await clientToken(demo, 'officer-desk', ['read', 'decide']);
    const decide = (officer: string | undefined, dossier: string) =>
      http(
        demo,
        'POST',
        `/dossiers/${dossier}/decisions`,
        bearer(decider, {
          'idempotency-key': `o-${dossier}`,
          ...(officer === undefined ? {} : { 'passerelle-officer': officer }),
        }),
        JSON.stringify({ outcome: 'granted' }),
      );
    const missing = await decide(undefined, 'dossier-0005');
    expect([missing.status, missing.json.code]).toEqual([400, 'ERR_OFFICER_INVALID']);
    for (const bad of ['Jan Peeters', 'jan.peeters@example.be', 'jpeeters', 'off-xyz12345', 'OFF-3F9A27C1']) {
      const res = await decide(bad, 'dossier-0005');
      expect(res.status, bad).toBe(400);
      expect(res.text, bad).not.toContain(bad);
    }
    const ok = await decide('off-3f9a27c1', 'dossier-0005');
    expect(ok.status).toBe(201);
    expect(ok.json.decidedBy).toEqual({ client: 'officer-desk', officer: 'off-3f9a27c1' });
    expect(parseOfficer('0192d0c4-8f43-7b6e-9a1e-2f0d2c1e4a55')).toBe('0192d0c4-8f43-7b6e-9a1e-2f0d2c1e4a55');
    expect(OFFICER_ID_PATTERN.test('marie@commune.be')).toBe(false);
  });

  test('access - a route that says neither scope nor public is refused when it is added', async () => {
    const app = fastify(doorServerOptions());
    await app.register(problemsPlugin, { realm: 'check' });
    await app.register(accessPlugin, { access: demo.door.access });
    app.get('/guarded', { config: { scope: 'read' } }, () => ({ ok: true }));
    app.get('/open', { config: { public: true } }, () => ({ ok: true }));
    expect(() => app.get('/forgotten', () => ({ leaked: true }))).toThrow(
      expect.objectContaining({ code: 'ERR_ROUTE_UNGUARDED' }),
    );
    expect(() =>
      app.get('/misspelt', { config: { scope: 'write' as 'read' } }, () => ({ leaked: true })),
    ).toThrow(expect.objectContaining({ code: 'ERR_ROUTE_UNGUARDED' }));
    await app.close();
  });

  test('access - no token, a wrong token and mangled paths on every protected route: 400, 401 or 404, never the route', async () => {
    const routes = routesOf(demo.app);
    const publicRoutes = new Set([
      'GET /healthz',
      'HEAD /healthz',
      'GET /openapi.json',
      'HEAD /openapi.json',
      'POST /oauth2/token',
    ]);
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([...publicRoutes, 'GET /events', 'POST /webhooks']),
    );
    const protectedRoutes = routes.filter((r) => !publicRoutes.has(`${r.method} ${r.url}`));
    expect(protectedRoutes.length).toBeGreaterThanOrEqual(15);
    const credentials: Record<string, Record<string, string>> = {
      'no token': {},
      'a wrong token': { authorization: `Bearer pat_${'B'.repeat(43)}` },
      'another scheme': { authorization: basic(admin) },
    };
    let reached = 0;
    for (const route of protectedRoutes) {
      const path = route.url.replace(/:[A-Za-z]+/g, (p) =>
        p === ':dossierId'
          ? 'dossier-0001'
          : p === ':clientId'
            ? 'door-admin'
            : p === ':eventId'
              ? '0192d0c4-8f43-7b6e-9a1e-2f0d2c1e4a55'
              : `whs-${'0'.repeat(32)}`,
      );
      for (const [variant, target] of Object.entries(mangled(path, demo.origin))) {
        for (const [what, headers] of Object.entries(credentials)) {
          const res = await http(
            demo,
            route.method,
            target,
            headers,
            route.method === 'POST' ? '' : undefined,
          );
          const label = `${route.method} ${target} (${variant}, ${what})`;
          expect([400, 401, 404], label).toContain(res.status);
          if (REACH_THE_ROUTE.includes(variant)) {
            expect(res.status, label).toBe(401);
            reached++;
          }
        }
      }
    }
    expect(reached).toBe(protectedRoutes.length * REACH_THE_ROUTE.length * Object.keys(credentials).length);
    // with a token, an encoded path reaches its route: the router decides, not the raw text
    const reader = await clientToken(demo, 'encoded-reader', ['read']);
    const encoded = await http(demo, 'GET', '/%64ossiers/dossier-0001', bearer(reader));
    expect([encoded.status, encoded.json.dossierId]).toEqual([200, 'dossier-0001']);
  });
});

describe('door access - time and limits', () => {
  const clock = { now: Date.parse('2026-11-27T09:00:00Z') };
  const demo = useDemoDoor({
    now: () => new Date(clock.now),
    tokenLifetimeMs: 60_000,
    tokenRateLimit: { max: 3, windowMs: 60_000 },
  });

  test('access - a token past its expiry is refused as expiredAccessToken', async () => {
    const reader = await clientToken(demo, 'clocked-reader', ['read']);
    expect((await http(demo, 'GET', '/dossiers', bearer(reader))).status).toBe(200);
    clock.now += 61_000;
    const res = await http(demo, 'GET', '/dossiers', bearer(reader));
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({
      type: 'urn:problem-type:belgif:expiredAccessToken',
      title: 'Expired Access Token',
    });
    expect(res.headers['www-authenticate']).toContain('error_description="The access token expired"');
  });

  test('access - the token endpoint is rate-limited per address: tooManyRequests with Retry-After', async () => {
    const client = await makeClient(demo, 'hammer', ['read']);
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(
        await http(
          demo,
          'POST',
          '/oauth2/token',
          { authorization: basic(client), 'content-type': FORM },
          'grant_type=client_credentials',
        ),
      );
    }
    // the first request of this describe's token was one of the three
    const limited = answers.find((a) => a.status === 429)!;
    expect(limited).toBeDefined();
    expect(limited.json).toMatchObject({
      type: 'urn:problem-type:belgif:tooManyRequests',
      status: 429,
      limit: 3,
      code: 'ERR_RATE_LIMITED',
      retryable: true,
    });
    expect(limited.json.retryAfterSec).toBeGreaterThan(0);
    expect(limited.headers['retry-after']).toBe(String(limited.json.retryAfterSec));
  });
});
