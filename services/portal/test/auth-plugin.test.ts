import { randomBytes } from 'node:crypto';
import { Door, doorServerOptions } from '@passerelle/door';
import { connect } from '@nats-io/transport-node';
import { useNatsServer } from '@passerelle/testing/vitest';
import { fastify } from 'fastify';
import { describe, expect, test } from 'vitest';
import { authPlugin } from '../src/plugins/auth.js';
import { portalProblemsPlugin } from '../src/plugins/problems.js';

describe('portal auth plugin', () => {
  const nats = useNatsServer();

  /** A bare app with the portal's problems and access, and one route of each kind. */
  async function appWith() {
    const nc = await connect({ servers: nats.url });
    const door = await Door.open({
      name: `portal-auth-${randomBytes(3).toString('hex')}`,
      nc,
      secret: randomBytes(32),
      publicUrl: 'https://portal.example.be',
      service: 'be.passerelle.portal.v1',
      api: { title: 'Auth', version: '1.0.0' },
    });
    const app = fastify({ ...doorServerOptions(), logger: false });
    await app.register(portalProblemsPlugin, { realm: 'portal-wib' });
    await app.register(authPlugin, { door });
    app.get('/v1/whoami', { config: { scope: 'read' } }, (request) => ({ integrator: request.integrator }));
    app.get('/public', { config: { public: true } }, () => ({ ok: true }));
    // a public route that reads the integrator by mistake
    app.get('/public-reads-integrator', { config: { public: true } }, (request) => ({
      integrator: request.integrator,
    }));
    const { secret } = await door.clients.create({ id: 'acme-hr', scopes: ['read'], createdBy: 'bootstrap' });
    const { token } = await door.access.issueToken('acme-hr', secret, undefined);
    return {
      app,
      door,
      token,
      close: async () => {
        await app.close();
        await door.close();
        await nc.close();
      },
    };
  }

  test('auth plugin - a route that says neither a scope nor public is refused when it is added', async () => {
    const { app, close } = await appWith();
    try {
      expect(() => app.get('/unguarded', () => ({ ok: true }))).toThrow(/neither/);
      // `public` must be exactly true: anything else is no guard at all
      expect(() =>
        app.get('/almost-public', { config: { public: 'yes' as unknown as boolean } }, () => ({ ok: true })),
      ).toThrow(/neither/);
    } finally {
      await close();
    }
  });

  test('auth plugin - only `public: true` opens a route; the integrator is the client, and cannot be read on a public route', async () => {
    const { app, token, close } = await appWith();
    try {
      expect((await app.inject({ url: '/public' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/v1/whoami' })).statusCode).toBe(401);
      const named = await app.inject({ url: '/v1/whoami', headers: { authorization: `Bearer ${token}` } });
      expect(named.json()).toEqual({ integrator: 'acme-hr' });
      const leaked = await app.inject({ url: '/public-reads-integrator' });
      expect(leaked.statusCode).toBe(401);
      expect(leaked.json()).toMatchObject({
        type: 'urn:problem-type:belgif:noAccessToken',
        code: 'ERR_ACCESS_TOKEN_MISSING',
      });
      // no route: the fixed 404, with or without a token
      for (const headers of [{}, { authorization: `Bearer ${token}` }]) {
        const none = await app.inject({ url: '/v1/nothing-here', headers });
        expect(none.statusCode).toBe(404);
        expect({ ...none.json(), instance: undefined }).toEqual({
          type: 'urn:problem-type:belgif:resourceNotFound',
          href: 'https://www.belgif.be/specification/rest/api-guide/problems/resourceNotFound.html',
          title: 'Resource Not Found',
          status: 404,
          detail: 'No such resource.',
          instance: undefined,
        });
      }
    } finally {
      await close();
    }
  });
});
