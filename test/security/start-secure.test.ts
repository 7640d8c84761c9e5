import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { loadCredentials } from '@passerelle/exchange';
import { afterAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../support/secure.js';
import { waitForLine } from '../support/process.js';

describe('pnpm start --secure', { timeout: 180_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'passerelle-start-secure-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  test('start --secure - serves mutual TLS and user JWTs only, runs services, auditor, portal and the demo on their own credentials, writes working credentials files, stops on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--secure'], {
      cwd: repoRoot,
      env: { ...process.env, PASSERELLE_HOME: home, PASSERELLE_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const out = await waitForLine(child, /^ready:/m, 60_000);
      // listened for at once: the demo starts right after `ready:`
      const demoDone = waitForLine(child, /^demo finished: /m, 120_000);
      demoDone.catch(() => undefined);
      expect(out).toMatch(/check: post-ankara -> immigration-office visa-issued, signed receipt/);
      // the administrations' services and the auditor run too, each id on its own credentials
      expect(out).toMatch(/services, each id on its own credentials: regional-authority \(region-vlaanderen/);
      expect(out).toMatch(/commune \(commune-21004, commune-62063\)/);
      expect(out).toMatch(
        /auditor: recording every envelope and receipt in LEDGER; viewer on http:\/\/127\.0\.0\.1:\d+/,
      );
      expect(out).toMatch(/portal: portal-employers on http:\/\/127\.0\.0\.1:\d+/);
      expect(out).not.toMatch(/rejected|error/);
      // the demo's five dossiers go through the portal, the services and the auditor, all on credentials
      const demo = await demoDone;
      expect(demo).toMatch(/demo finished: 5 of 5 dossiers reached their last step/);
      const url = /on (tls:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(url).toBeDefined();

      const file = join(home, 'secure', 'credentials', 'commune-21004.json');
      const c = await loadCredentials(file);
      expect(c.servers).toEqual([url]);
      const nc = await connect({ ...c.connection, servers: c.servers });
      expect(nc.info?.tls_required).toBe(true);
      await nc.close();
      await expect(
        connect({ servers: url!.replace('tls://', 'nats://'), reconnect: false }),
      ).rejects.toThrow();

      // the operator's credentials file serves the CLI: status and dead letters of the secured exchange
      const operator = join(home, 'secure', 'credentials', 'operator.json');
      expect(out).toContain(`CLI: passerelle <command> --credentials ${operator}`);
      const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
        const r = spawnSync(process.execPath, ['--import', 'tsx', 'packages/cli/src/main.ts', ...args], {
          cwd: repoRoot,
          env: { ...process.env, PASSERELLE_HOME: home, PASSERELLE_CREDENTIALS: '' },
          encoding: 'utf8',
          timeout: 60_000,
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      };
      const status = cli('status', '--json', '--credentials', operator);
      expect(status.status, status.stderr).toBe(0);
      const reported = JSON.parse(status.stdout) as { server: string; missing: string[] };
      expect(reported.missing).toEqual([]);
      expect(`tls://${reported.server}`.replace('tls://tls://', 'tls://')).toContain(
        url!.slice('tls://'.length),
      );
      expect(cli('dlq', 'list', '--credentials', operator).status).toBe(0);
      // without credentials the secured server is not reached, and the CLI says so and fails
      const refused = cli('status', '--server', url!);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(
        /error ERR_CONFIG_INVALID: .* refused a client without credentials .* --credentials <file>/,
      );

      // the participant's file with its .creds file missing, or holding no user JWT: the setting is named
      const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      expect(settings['credsFile']).toBe('commune-21004.creds');
      const broken = join(home, 'broken.json');
      writeFileSync(broken, JSON.stringify({ ...settings, credsFile: 'nowhere.creds' }));
      await expect(loadCredentials(broken)).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        details: { file: broken, setting: 'credsFile' },
      });
      writeFileSync(
        join(home, 'seed-only.creds'),
        'SUAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n',
        {
          mode: 0o600,
        },
      );
      writeFileSync(broken, JSON.stringify({ ...settings, credsFile: 'seed-only.creds' }));
      await expect(loadCredentials(broken)).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        details: { file: broken, setting: 'credsFile' },
      });

      const stopped = waitForLine(child, /^stopped$/m, 15_000);
      child.kill('SIGINT');
      await stopped;
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
