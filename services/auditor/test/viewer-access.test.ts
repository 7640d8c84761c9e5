import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '@passerelle/exchange';
import { type RawAnswer, rawRequest } from '@passerelle/testing';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  type AuditorService,
  CONTENT_SECURITY_POLICY,
  createAuditorService,
  readAuditorSettings,
} from '../src/index.js';
import { makeCertificate, makeWorld, memoryLogger } from './fixtures.js';

const TOKEN = 'access-test-token-3e9a51c07d';
const WRONG = 'not-the-viewer-token-0000';

describe('auditor viewer access', () => {
  const nats = useNatsServer();
  const dir = mkdtempSync(join(tmpdir(), 'pex-viewer-tls-'));
  const certificate = makeCertificate(dir);
  const logs = memoryLogger('info');
  let nc: NatsConnection;
  let auditor: AuditorService;
  let origin: URL;

  /**
   * One request over HTTPS, the viewer's certificate as the only trusted one, from a chosen loopback
   * address: each address of 127.0.0.0/8 is another client to the limit.
   */
  function call(
    from: string,
    method: string,
    path: string,
    headers: Record<string, string> = {},
    form?: Record<string, string>,
  ): Promise<RawAnswer> {
    const body = form ? new URLSearchParams(form).toString() : undefined;
    return rawRequest(
      request,
      {
        host: origin.hostname,
        port: origin.port,
        method,
        path,
        ca: certificate.cert,
        localAddress: from,
        agent: false,
        headers: body
          ? {
              ...headers,
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': String(body.length),
            }
          : headers,
      },
      body,
    );
  }
  const login = (from: string, token: string): Promise<RawAnswer> =>
    call(from, 'POST', '/login', {}, { token });

  beforeAll(async () => {
    nc = await connectNats({ servers: nats.url });
    const world = await makeWorld();
    // the certificate and key go through the settings as the process reads them
    const settings = await readAuditorSettings({
      PASSERELLE_AUDITOR_KEY: '/unused/auditor.json',
      PASSERELLE_ANCHOR: '/unused/anchor.json',
      PASSERELLE_AUDITOR_TOKEN: TOKEN,
      PASSERELLE_VIEWER_TLS_CERT: certificate.certFile,
      PASSERELLE_VIEWER_TLS_KEY: certificate.keyFile,
    });
    expect(settings.viewerTls).toBeDefined();
    auditor = await createAuditorService({
      nc,
      auditorKey: world.auditorKey,
      resolver: world.resolver,
      checkpointIntervalMs: 0,
      logger: logs.logger,
      viewer: { token: settings.token, port: 0, ...(settings.viewerTls ? { tls: settings.viewerTls } : {}) },
    });
    origin = new URL(auditor.viewerUrl as string);
  });
  afterAll(async () => {
    vi.useRealTimers();
    await auditor?.close();
    await nc?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('viewer access - with a certificate configured the viewer answers over https, and its session cookie is Secure', async () => {
    expect(origin.protocol).toBe('https:');
    const anonymous = await call('127.0.0.1', 'GET', '/');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toContain('action="/login"');
    expect(anonymous.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    // no plain HTTP on that port
    const plain = new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: origin.hostname, port: origin.port, path: '/', agent: false }, (res) =>
        resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.end();
    });
    await expect(plain).rejects.toThrow();

    const opened = await login('127.0.0.1', TOKEN);
    expect(opened.status).toBe(303);
    const cookie = String(opened.headers['set-cookie']);
    expect(cookie).toMatch(/; Secure(;|$)/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const home = await call('127.0.0.1', 'GET', '/', { cookie: cookie.split(';')[0] as string });
    expect(home.status).toBe(200);
    expect(home.body).toContain('ledger-facts');
  });

  test('viewer access - the sixth wrong login from one address gets 429 with Retry-After, the right one too, until the window passes', async () => {
    const from = '127.0.0.2';
    for (let i = 1; i <= 5; i++) {
      const wrong = await login(from, `${WRONG}-${i}`);
      expect(wrong.status, `wrong login ${i}`).toBe(401);
      expect(wrong.body).toContain('The token is not valid.');
    }
    const sixth = await login(from, `${WRONG}-6`);
    expect(sixth.status).toBe(429);
    const retryAfter = Number(sixth.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(sixth.body).toMatch(/Too many wrong tokens from this address: try again in \d+ seconds\./);
    expect(sixth.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(sixth.headers['set-cookie']).toBeUndefined();
    // the right token, by the form or the header, answers the same: the address learns nothing more
    const right = await login(from, TOKEN);
    expect(right.status).toBe(429);
    expect(right.headers['set-cookie']).toBeUndefined();
    expect((await call(from, 'GET', '/', { authorization: `Bearer ${TOKEN}` })).status).toBe(429);
    // another address has its own budget
    expect((await login('127.0.0.3', TOKEN)).status).toBe(303);
    // once the window has passed, the right token opens a session again
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + (retryAfter + 1) * 1000);
    try {
      expect((await login(from, TOKEN)).status).toBe(303);
    } finally {
      vi.useRealTimers();
    }
    expect(logs.text()).toContain('too many wrong ones from one address');
    expect(logs.text()).not.toContain(TOKEN);
    expect(logs.text()).not.toContain(from);
  });

  test('viewer access - a limit that allows no attempt is refused at start-up', async () => {
    const world = await makeWorld();
    const start = createAuditorService({
      nc,
      auditorKey: world.auditorKey,
      resolver: world.resolver,
      logger: memoryLogger('silent').logger,
      viewer: { token: TOKEN, port: 0, credentialAttempts: { max: 0, windowMs: 60_000 } },
    });
    await expect(start).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      details: { setting: 'credentialAttempts' },
    });
  });

  test('viewer access - a burst of parallel wrong logins gets five answers, the rest 429', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login('127.0.0.5', `${WRONG}-burst-${i}`)),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([...Array<number>(5).fill(401), ...Array<number>(7).fill(429)]);
  });

  test('viewer access - wrong bearer tokens spend the same budget; a session opened before is not refused', async () => {
    const from = '127.0.0.4';
    const session = String((await login(from, TOKEN)).headers['set-cookie']).split(';')[0] as string;
    for (let i = 1; i <= 5; i++) {
      expect((await call(from, 'GET', '/', { authorization: `Bearer ${WRONG}-${i}` })).status).toBe(401);
    }
    const sixth = await call(from, 'GET', '/export', { authorization: `Bearer ${WRONG}-6` });
    expect(sixth.status).toBe(429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await call(from, 'GET', '/', { authorization: `Bearer ${TOKEN}` })).status).toBe(429);
    expect((await login(from, TOKEN)).status).toBe(429);
    // a session proves an earlier right token: it is not a guess, and is not counted or refused
    expect((await call(from, 'GET', '/', { cookie: session })).status).toBe(200);
    // without any credential the address still gets the login form, not a refusal
    expect((await call(from, 'GET', '/')).status).toBe(401);
  });
});
