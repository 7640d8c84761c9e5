import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadContracts } from '@passerelle/contracts';
import { ProcedureError } from '@passerelle/procedure';
import type { Actor, DossierRecord } from '@passerelle/procedure';
import fastify, { type FastifyBaseLogger, type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { OfficerDesk } from '../src/desk.js';
import { OfficerAccounts } from '../src/officer-accounts.js';
import { officerWebPlugin } from '../src/plugin.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const OFFICER = 'off-1234abcd';
const PASSWORD = 'the officer passphrase';
const DOSSIER = 'D-plugin-0001';

/**
 * A body service held in memory: one action, `decide` (granted or refused with a reason), owed by every
 * dossier in phase `waiting`. The page's HTTP behaviour is what these tests check; the Chromium test in
 * test/officer-web.test.ts runs it over the real services and nats-server.
 */
class MemoryDesk implements OfficerDesk {
  readonly service = 'commune';
  readonly participants = ['commune-21004', 'commune-11002'];
  readonly acts: { participant: string; dossierId: string; input: unknown; actor: Actor; stepId?: string }[] =
    [];
  readonly dossiers = new Map<string, DossierRecord>([
    [`commune-21004/${DOSSIER}`, { phase: 'waiting', taken: [] }],
    [`commune-11002/${DOSSIER}`, { phase: 'waiting', taken: [] }],
  ]);
  actions() {
    return [
      {
        name: 'decide',
        title: 'Decide',
        input: {
          type: 'object',
          oneOf: [
            {
              type: 'object',
              properties: { decision: { const: 'granted' } },
              required: ['decision'],
              additionalProperties: false,
            },
            {
              type: 'object',
              properties: { decision: { const: 'refused' }, reason: { type: 'string', enum: ['other'] } },
              required: ['decision', 'reason'],
              additionalProperties: false,
            },
          ],
        },
        allowedIn: ['waiting'],
        opens: false,
        sends: [],
      },
    ];
  }
  dossier(participant: string, dossierId: string) {
    return Promise.resolve(this.dossiers.get(`${participant}/${dossierId}`));
  }
  available(participant: string, dossierId: string) {
    return Promise.resolve(
      this.dossiers.get(`${participant}/${dossierId}`)?.phase === 'waiting' ? ['decide'] : [],
    );
  }
  worklist(options: { participant?: string } = {}) {
    return Promise.resolve(
      [...this.dossiers]
        .filter(([k, d]) => d.phase === 'waiting' && k.startsWith(`${options.participant}/`))
        .map(([k]) => ({
          participant: k.split('/')[0]!,
          dossierId: k.split('/')[1]!,
          phase: 'waiting',
          action: 'decide',
        })),
    );
  }
  act(
    participant: string,
    dossierId: string,
    _action: string,
    input: unknown,
    actor: Actor,
    options?: { stepId?: string },
  ) {
    const d = this.dossiers.get(`${participant}/${dossierId}`);
    if (d?.phase !== 'waiting') return Promise.reject(new ProcedureError('ERR_OUT_OF_SEQUENCE', 'Not now.'));
    this.acts.push({
      participant,
      dossierId,
      input,
      actor,
      ...(options?.stepId ? { stepId: options.stepId } : {}),
    });
    const next = {
      phase: 'decided',
      taken: [{ action: 'decide', stepId: options?.stepId ?? '', on: '2027-01-04', by: actor }],
    };
    this.dossiers.set(`${participant}/${dossierId}`, next);
    return Promise.resolve(next);
  }
}

/** The cookies an answer sets, by name, with their attributes. */
function cookiesOf(res: LightMyRequestResponse): Map<string, string> {
  const raw = res.headers['set-cookie'];
  const all = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return new Map(all.map((c) => [c.slice(0, c.indexOf('=')), c] as const));
}

const jar = (cookies: Map<string, string>): string =>
  [...cookies.values()].map((c) => c.split(';')[0]).join('; ');

describe('officer web plugin - sessions, forgery, headers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pex-officer-plugin-'));
  const logs: string[] = [];
  let accounts: OfficerAccounts;
  let desk: MemoryDesk;
  let app: FastifyInstance;

  beforeAll(async () => {
    accounts = new OfficerAccounts(join(dir, 'officers.json'));
    await accounts.add(OFFICER, ['commune-21004'], PASSWORD);
    desk = new MemoryDesk();
    const definitions = (await loadContracts({ root })).definitions().map((d) => d.schema);
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    const logger: FastifyBaseLogger = pino({ level: 'debug' }, stream);
    app = fastify({ loggerInstance: logger });
    await app.register(officerWebPlugin, {
      desk,
      accounts,
      definitions,
      cookieSecret: 'a-cookie-secret-of-thirty-two-bytes!!',
      signInAttemptsPerMinute: 5,
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let browsers = 0;

  /** Signs in with the given credentials from a fresh browser: the answer and the cookies it holds then. */
  async function signIn(officerId: string, password: string, address = `10.1.0.${++browsers}`) {
    const page = await app.inject({ method: 'GET', url: '/sign-in', remoteAddress: address });
    const cookies = cookiesOf(page);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const res = await app.inject({
      method: 'POST',
      url: '/sign-in',
      remoteAddress: address,
      headers: { cookie: jar(cookies), 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, officerId, password }).toString(),
    });
    for (const [k, v] of cookiesOf(res)) cookies.set(k, v);
    return { res, cookies };
  }

  test('plugin - every answer has the strict CSP and no caching; the stylesheet comes from this origin', async () => {
    for (const url of ['/sign-in', '/', '/static/officer.css', '/dossiers/commune-21004/D-plugin-0001']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'none';style-src 'self';img-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'",
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
    }
    expect((await app.inject({ method: 'GET', url: '/sign-in' })).headers['cache-control']).toBe('no-store');
    const page = (await app.inject({ method: 'GET', url: '/sign-in' })).body;
    expect(page).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
  });

  test('plugin - a signed-in session is a __Host- cookie, Secure, HttpOnly, SameSite=Strict, new at each sign-in', async () => {
    const first = await signIn(OFFICER, PASSWORD);
    expect(first.res.statusCode).toBe(303);
    const cookie = first.cookies.get('__Host-pex_officer') ?? '';
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(first.cookies.get('__Host-pex_csrf')).toMatch(/HttpOnly.*Secure|Secure.*HttpOnly/);
    const second = await signIn(OFFICER, PASSWORD);
    expect(second.cookies.get('__Host-pex_officer')?.split(';')[0]).not.toBe(cookie.split(';')[0]);
    const worklist = await app.inject({ method: 'GET', url: '/', headers: { cookie: jar(first.cookies) } });
    expect(worklist.statusCode).toBe(200);
    expect(worklist.body).toContain(`data-dossier="${DOSSIER}"`);
  });

  test('plugin - a wrong password or an unknown officer is refused alike, and what was typed is not logged', async () => {
    const wrong = await signIn(OFFICER, 'not the passphrase', '10.0.0.2');
    const unknown = await signIn('Jan Peeters', PASSWORD, '10.0.0.2');
    for (const { res, cookies } of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain('ERR_OFFICER_SIGN_IN_FAILED');
      expect(cookies.has('__Host-pex_officer')).toBe(false);
    }
    const logged = logs.join('');
    expect(logged).toContain('officer sign-in refused');
    for (const typed of ['not the passphrase', 'Jan Peeters', PASSWORD]) expect(logged).not.toContain(typed);
  });

  test('plugin - sign-in attempts from one address are limited', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 6; i++)
      codes.push((await signIn(OFFICER, `wrong guess ${i}`, '10.0.0.3')).res.statusCode);
    expect(codes).toEqual([401, 401, 401, 401, 401, 429]);
  });

  test('plugin - a sign-in form posted without its token is refused', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/sign-in',
      remoteAddress: '10.0.0.4',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ officerId: OFFICER, password: PASSWORD }).toString(),
    });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('ERR_CSRF_TOKEN_INVALID');
    expect(cookiesOf(res).has('__Host-pex_officer')).toBe(false);
  });

  test("plugin - a decision posted without the page's token, or with another browser's, records nothing", async () => {
    const { cookies } = await signIn(OFFICER, PASSWORD);
    const other = await signIn(OFFICER, PASSWORD);
    const page = await app.inject({
      method: 'GET',
      url: `/dossiers/commune-21004/${DOSSIER}`,
      headers: { cookie: jar(other.cookies) },
    });
    const othersToken = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    for (const token of [undefined, othersToken, 'forged']) {
      const res = await app.inject({
        method: 'POST',
        url: `/dossiers/commune-21004/${DOSSIER}/actions/decide`,
        headers: { cookie: jar(cookies), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({
          '/decision': 'granted',
          ...(token ? { _csrf: token } : {}),
        }).toString(),
      });
      expect(res.statusCode).toBe(403);
    }
    expect(desk.acts).toEqual([]);
  });

  test("plugin - a decision records the officer's id; a refusal shows its code; another body's dossier is not found", async () => {
    const { cookies } = await signIn(OFFICER, PASSWORD);
    const url = `/dossiers/commune-21004/${DOSSIER}`;
    const page = await app.inject({ method: 'GET', url, headers: { cookie: jar(cookies) } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const stepId = /name="_stepId" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const post = (fields: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: `${url}/actions/decide`,
        headers: { cookie: jar(cookies), 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ _csrf: csrf, _stepId: stepId, ...fields }).toString(),
      });
    const missing = await post({ '/decision': 'refused' });
    expect(missing.statusCode).toBe(400);
    expect(missing.body).toContain('Reason is required.');
    const done = await post({ '/decision': 'granted' });
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`${url}?recorded=decide`);
    expect(desk.acts).toEqual([
      {
        participant: 'commune-21004',
        dossierId: DOSSIER,
        input: { decision: 'granted' },
        actor: { clientId: 'officer-web', officerId: OFFICER },
        stepId,
      },
    ]);
    const again = await post({ '/decision': 'granted' });
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('ERR_OUT_OF_SEQUENCE');
    // the account works for commune-21004 only
    const elsewhere = await app.inject({
      method: 'GET',
      url: `/dossiers/commune-11002/${DOSSIER}`,
      headers: { cookie: jar(cookies) },
    });
    expect(elsewhere.statusCode).toBe(404);
  });

  test('plugin - sign-out ends the session; a disabled account loses its open sessions', async () => {
    const first = await signIn(OFFICER, PASSWORD);
    const page = await app.inject({ method: 'GET', url: '/', headers: { cookie: jar(first.cookies) } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const out = await app.inject({
      method: 'POST',
      url: '/sign-out',
      headers: { cookie: jar(first.cookies), 'content-type': 'application/x-www-form-urlencoded' },
      payload: `_csrf=${encodeURIComponent(csrf)}`,
    });
    expect(out.statusCode).toBe(303);
    const after = await app.inject({ method: 'GET', url: '/', headers: { cookie: jar(first.cookies) } });
    expect([after.statusCode, after.headers.location]).toEqual([303, '/sign-in']);

    const second = await signIn(OFFICER, PASSWORD);
    expect(
      (await app.inject({ method: 'GET', url: '/', headers: { cookie: jar(second.cookies) } })).statusCode,
    ).toBe(200);
    await accounts.disable(OFFICER);
    const disabled = await app.inject({ method: 'GET', url: '/', headers: { cookie: jar(second.cookies) } });
    expect([disabled.statusCode, disabled.headers.location]).toEqual([303, '/sign-in']);
  });
});
