import { fastify } from 'fastify';
import { describe, expect, test } from 'vitest';
import { hashToken } from '../src/index.js';
import { authPlugin } from '../src/plugins/auth.js';
import { errorsPlugin } from '../src/plugins/errors.js';

const TOKEN = 'nameless-token-0123456789abcdef';

/** A bare app with the portal's error answers and authentication, and one route of each kind. */
async function appWith(integrators: { name: string; tokenSha256: string }[]) {
  const app = fastify();
  await app.register(errorsPlugin);
  await app.register(authPlugin, { integrators });
  app.get('/v1/whoami', (request) => ({ integrator: request.integrator }));
  app.get('/public', { config: { public: true } }, () => ({ ok: true }));
  // a public route that reads the integrator by mistake
  app.get('/public-reads-integrator', { config: { public: true } }, (request) => ({
    integrator: request.integrator,
  }));
  // `public` must be exactly true: anything else is authenticated
  app.get('/almost-public', { config: { public: 'yes' as unknown as boolean } }, () => ({ ok: true }));
  return app;
}

describe('portal auth plugin', () => {
  test('auth plugin - a token whose integrator has an empty name is refused: 401, never an empty integrator', async () => {
    const app = await appWith([{ name: '', tokenSha256: hashToken(TOKEN) }]);
    const res = await app.inject({ url: '/v1/whoami', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'ERR_UNAUTHENTICATED' });
    expect(res.headers['www-authenticate']).toBe('Bearer');
    await app.close();
  });

  test('auth plugin - only `public: true` opens a route; the integrator cannot be read on a public one', async () => {
    const app = await appWith([{ name: 'acme-hr', tokenSha256: hashToken(TOKEN) }]);
    expect((await app.inject({ url: '/public' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/almost-public' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/v1/whoami' })).statusCode).toBe(401);
    const named = await app.inject({ url: '/v1/whoami', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(named.json()).toEqual({ integrator: 'acme-hr' });
    const leaked = await app.inject({ url: '/public-reads-integrator' });
    expect(leaked.statusCode).toBe(401);
    expect(leaked.json()).toMatchObject({ code: 'ERR_UNAUTHENTICATED' });
    // no route: the fixed 404, with or without a token
    const none = await app.inject({ url: '/v1/nothing-here' });
    expect(none.statusCode).toBe(404);
    expect(none.json()).toEqual({ code: 'ERR_REQUEST_INVALID', message: 'No such route.' });
    await app.close();
  });
});
