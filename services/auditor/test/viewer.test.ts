import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { type InclusionProof, checkProof, readLedger, writeLedgerExport } from '@passerelle/audit';
import { toPublicJwk } from '@passerelle/envelope';
import { beforeAll, describe, expect, test } from 'vitest';
import { CONTENT_SECURITY_POLICY, html } from '../src/index.js';
import { useParticipants, useRecordedDossier } from './participants-hook.js';

const TOKEN = 'viewer-test-token-7f1c2a9e44b0';
const DOSSIER = 'DOS-VIEW-0001';

/** Replaces the `n`th entry line (0-based, after the header) of an export with `edit(line)`. */
function tamper(file: string, n: number, edit: (line: string) => string): string {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines[n + 1] = edit(lines[n + 1] as string);
  const out = file.replace(/\.jsonl$/, `-tampered-${n}.jsonl`);
  writeFileSync(out, lines.join('\n'));
  return out;
}

describe('auditor viewer', () => {
  const net = useParticipants();
  const dir = mkdtempSync(join(tmpdir(), 'pex-viewer-'));
  const exportFile = join(dir, 'ledger.jsonl');
  const recorded = useRecordedDossier(
    net,
    DOSSIER,
    { familyName: 'Claes', givenNames: 'Ruben', passportNumber: 'EP5550123' },
    {
      checkpointEvery: 3,
      // the first test presents five wrong tokens on purpose; the limit itself is viewer-access.test.ts's
      viewer: { token: TOKEN, port: 0, exportFile, credentialAttempts: { max: 20, windowMs: 60_000 } },
    },
  );

  beforeAll(async () => {
    await writeLedgerExport(exportFile, readLedger(net.nc));
  });

  const get = (path: string, headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
    fetch(`${recorded.auditor.viewerUrl}${path}`, { headers, redirect: 'manual' });

  test('viewer - every page needs the token: 401 and a login form without it, a session after the form', async () => {
    for (const path of ['/', `/dossier?id=${DOSSIER}`, `/proof/${recorded.ids[0]}`, '/export']) {
      const anonymous = await get(path, {});
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = await anonymous.text();
      expect(body).toContain('action="/login"');
      expect(body).not.toContain(DOSSIER);
      expect((await get(path, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    }
    const refused = await fetch(`${recorded.auditor.viewerUrl}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: 'not-the-token-at-all' }),
      redirect: 'manual',
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('set-cookie')).toBeNull();
    const login = await fetch(`${recorded.auditor.viewerUrl}/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: TOKEN }),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    // over plain HTTP the cookie is Secure only when a TLS proxy says so
    expect(cookie).not.toMatch(/Secure/);
    const proxied = await fetch(`${recorded.auditor.viewerUrl}/login`, {
      method: 'POST',
      headers: { 'x-forwarded-proto': 'https' },
      body: new URLSearchParams({ token: TOKEN }),
      redirect: 'manual',
    });
    expect(proxied.headers.get('set-cookie')).toMatch(/; Secure(;|$)/);
    const home = await get('/', { cookie: cookie.split(';')[0] as string });
    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await home.text()).toContain('intact over');
  });

  test('viewer - the dossier timeline shows every message and receipt verified, with its checkpoint', async () => {
    const res = await get(`/dossier?id=${DOSSIER}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await res.text();
    for (const id of recorded.ids) expect(page).toContain(`data-message-id="${id}"`);
    expect(page.match(/data-kind="receipt"/g)).toHaveLength(recorded.ids.length);
    expect(page.match(/✓ seal valid/g)).toHaveLength(recorded.ids.length);
    expect(page.match(/✓ receipt signature valid/g)).toHaveLength(recorded.ids.length);
    expect(page.match(/✓ checkpoint signature valid/g)).toHaveLength(recorded.ids.length * 2);
    expect(page).not.toContain('data-state="fail"');
    expect(page).toContain(`All ${recorded.ids.length} messages and their receipts verify`);
    expect(page).not.toMatch(/<script>|style="|onerror|onclick/);
    expect((await get('/dossier?id=%3Cscript%3E')).status).toBe(400);
  });

  test('viewer - the inclusion proof downloads as JSON and checks offline with the auditor key', async () => {
    const res = await get(`/proof/${recorded.ids[2]}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain(`proof-${recorded.ids[2]}.json`);
    const proof = (await res.json()) as InclusionProof;
    expect(await checkProof(proof, { auditorKey: toPublicJwk(net.world.auditorKey) })).toMatchObject({
      messageId: recorded.ids[2],
    });
    expect((await get('/proof/00000000-0000-7000-8000-000000000000')).status).toBe(404);
    expect((await get('/proof/%E0%A4%A')).status).toBe(400);
  });

  test('viewer - the configured export verifies; a tampered upload names its failing entry; names are escaped', async () => {
    const good = await (await get('/export')).text();
    expect(good).toContain('Verified:');
    const bad = tamper(exportFile, 4, (l) =>
      l.replace(/"receivedAt":"([^"]*)"/, '"receivedAt":"2020-01-01T00:00:00.000Z"'),
    );
    const upload = (body: Buffer, type: string, name: string) =>
      fetch(`${recorded.auditor.viewerUrl}/exports?name=${encodeURIComponent(name)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
        body,
      });
    expect((await upload(readFileSync(bad), 'text/plain', 'x.jsonl')).status).toBe(415);
    const res = await upload(readFileSync(bad), 'application/x-ndjson', '<img src=x onerror=alert(1)>.jsonl');
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const page = await (await get(`/exports/${id}`)).text();
    expect(page).toContain('Verification failed at entry 5: ERR_LEDGER_HASH_MISMATCH');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;.jsonl');
    expect(page).not.toContain('<img');
  });

  test('viewer - an entry appended to LEDGER by someone else shows as a chain break', async () => {
    const before = await (await get('/')).text();
    expect(before).not.toContain('broken at entry');
    const ack = await jetstream(net.nc).publish(
      'pex.ledger.envelope',
      JSON.stringify({ v: 1, seq: 1, kind: 'envelope' }),
    );
    const page = await (await get('/')).text();
    expect(page).toMatch(new RegExp(`broken at entry ${ack.seq}:`));
    expect(page).toContain('data-state="fail"');
  });

  test('viewer - html escapes every interpolated value', () => {
    const v = '<script>alert("x")</script>&\'`';
    expect(html`<td>${v}</td>`.value).toBe(
      '<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;&#96;</td>',
    );
    expect(html`<p>${html`<b>${v}</b>`}</p>`.value).toContain('<b>&lt;script&gt;');
  });
});
