import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { callerOf } from './support/door-caller.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function start(
  home: string,
  args: string[],
): { child: ChildProcess; output: () => string; waitFor: (p: RegExp, ms: number) => Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...args], {
    cwd: root,
    env: { ...process.env, PASSERELLE_HOME: home, PASSERELLE_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  // an exit ends the wait at once; either failure shows the output
  const waitFor = (pattern: RegExp, ms: number): Promise<string> =>
    vi
      .waitUntil(
        () => {
          if (child.exitCode !== null && !pattern.test(out))
            throw new Error(`exited with ${child.exitCode} before ${pattern}:\n${out}`);
          return pattern.test(out) && out;
        },
        { timeout: ms, interval: 100 },
      )
      .catch((err: unknown) => {
        throw child.exitCode === null
          ? new Error(`no ${pattern} within ${ms} ms:\n${out}`, { cause: err })
          : err;
      });
  return { child, output: () => out, waitFor };
}

async function stop(run: ReturnType<typeof start>): Promise<void> {
  const exited = new Promise((r) => run.child.once('exit', r));
  run.child.kill('SIGINT');
  await run.waitFor(/^stopped$/m, 20_000);
  await exited;
}

describe('pnpm start demo', () => {
  const home = mkdtempSync(join(tmpdir(), 'passerelle-demo-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  test('demo - six dossiers through the portal reach their last step, one decided through the back offices over HTTP; progress is meta only', async () => {
    const run = start(home, []);
    try {
      const out = await run.waitFor(/^demo finished:/m, 120_000);
      expect(out).toMatch(/keys: generated 13 key sets/);
      expect(out).toContain('demo finished: 6 of 6 dossiers reached their last step');
      // what a case officer decides otherwise is decided by policies the launcher names
      expect(out).toContain(
        "automatic decisions (the local deployment's policies): regional-authority: decide-work; immigration-office: decide-residence; consular-post: issue-visa",
      );
      for (const [label, last] of [
        ['ict-first-granted', 'permit-issued'],
        ['missing-then-completed', 'residence-granted'],
        ['wrong-fee-then-paid', 'residence-granted'],
        ['long-term-mobility', 'permit-issued'],
        ['renewal', 'permit-renewed'],
        ['by-case-officers', 'permit-issued'],
      ]) {
        expect(out).toMatch(new RegExp(`${label}\\s+application-submitted\\s+portal-employers → region-`));
        expect(out).toMatch(new RegExp(`✓ ${label}\\s+${last}\\s`));
      }
      expect(out).toMatch(/missing-then-completed\s+documents-added\s+portal-employers → region-wallonie/);
      expect(out).toMatch(
        /wrong-fee-then-paid\s+fee-payment-requested\s+immigration-office → portal-employers/,
      );
      expect(out).toMatch(/ict-first-granted\s+visa-issued\s+post-ankara → immigration-office/);
      // the dossier no policy decides: each body's case officer, through its back office
      expect(out).toContain(
        'by-case-officers: region-bruxelles decided the work authorisation through its back office',
      );
      expect(out).toContain(
        'by-case-officers: the Immigration Office granted residence through its back office',
      );
      expect(out).toContain('by-case-officers: post-ankara issued the visa through its back office');
      // every door printed with its credentials file, and listed in endpoints.json (0600)
      const endpoints = JSON.parse(readFileSync(join(home, 'endpoints.json'), 'utf8')) as {
        portal: { url: string; credentials: string };
        backOffices: Record<
          string,
          { url: string; openapi: string; credentials: string; participants: string[] }
        >;
      };
      expect(statSync(join(home, 'endpoints.json')).mode & 0o777).toBe(0o600);
      expect(endpoints.portal.credentials).toBe(join(home, 'portal-client.json'));
      expect(Object.keys(endpoints.backOffices).sort()).toEqual([
        'commune',
        'consular-post',
        'immigration-office',
        'regional-authority',
      ]);
      for (const [name, bo] of Object.entries(endpoints.backOffices)) {
        expect(out).toContain(`back office: ${name} (${bo.participants.join(', ')}) on ${bo.url}`);
        expect(statSync(bo.credentials).mode & 0o777).toBe(0o600);
        expect(JSON.parse(readFileSync(bo.credentials, 'utf8'))).toMatchObject({
          clientId: 'demo-case-system',
        });
        expect((await fetch(bo.openapi)).status).toBe(200);
      }
      expect(out).toMatch(
        /DEAD LETTER at immigration-office: ERR_UNKNOWN_DOSSIER — visa-issued post-lagos → immigration-office/,
      );
      // The sample people's data travels encrypted only.
      for (const personal of [
        'Exemple-',
        'DEMO00001',
        'applicant1@example.org',
        'Beispielstrasse',
        'Demo Engineering',
      ]) {
        expect(out).not.toContain(personal);
      }
      for (const file of [
        'anchor.private.json',
        'portal-employers/private.json',
        'portal-employers/door.secret',
        'region-bruxelles/private.json',
      ]) {
        expect(statSync(join(home, 'keys', file)).mode & 0o777).toBe(0o600);
      }
      // the demo integrator is a client of the portal's door: its credentials, 0600
      expect(statSync(join(home, 'portal-client.json')).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(join(home, 'portal-client.json'), 'utf8'))).toMatchObject({
        clientId: 'demo-employer',
        clientSecret: expect.stringMatching(/^pdc_/),
        tokenUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/oauth2\/token$/),
      });
    } finally {
      await stop(run).catch(() => run.child.kill('SIGKILL'));
    }

    // A second start keeps the keys and the integrator's credentials and, with --no-demo, only serves.
    const credentials = readFileSync(join(home, 'portal-client.json'), 'utf8');
    const again = start(home, ['--no-demo']);
    try {
      const out = await again.waitFor(/^ready:/m, 90_000);
      expect(out).toMatch(/keys: 12 participants and the trust anchor/);
      const kept = JSON.parse(credentials) as { clientId: string; clientSecret: string };
      // the same client and secret (the token URL follows the port, a free one in this test)
      expect(JSON.parse(readFileSync(join(home, 'portal-client.json'), 'utf8'))).toMatchObject({
        clientId: kept.clientId,
        clientSecret: kept.clientSecret,
      });
      const portal = /portal: portal-employers on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      // a token for them (refused, callerOf throws), then the dossiers the demo filed, the integrator's,
      // listed after the restart
      const integrator = await callerOf(portal!, kept.clientId, kept.clientSecret);
      const list = await integrator.call('GET', '/v1/dossiers');
      expect(list.json.items).toHaveLength(6);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(again.output()).not.toContain('demo:');
    } finally {
      await stop(again).catch(() => again.child.kill('SIGKILL'));
    }
  }, 240_000);
});
