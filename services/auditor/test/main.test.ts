import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportDirectory, makeEntry, writeAnchor, writeDirectoryFile } from '@passerelle/directory';
import { signEntry } from '@passerelle/directory/internal';
import { generateKey, toPublicJwk } from '@passerelle/envelope';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test, vi } from 'vitest';
import { repoRoot } from './fixtures.js';

function run(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/auditor/src/main.ts'], {
    cwd: repoRoot,
    env: { PATH: process.env['PATH'] ?? '', PASSERELLE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

describe('auditor main', () => {
  const nats = useNatsServer();

  test('main - a missing setting stops start-up with ERR_CONFIG_INVALID naming it', async () => {
    const { child, output } = run({ PASSERELLE_ANCHOR: '/nonexistent/anchor.json' });
    expect(await exited(child)).toBe(1);
    expect(output()).toMatch(
      /error ERR_CONFIG_INVALID: auditor setting \/keyFile \(PASSERELLE_AUDITOR_KEY\) is required/,
    );
  });

  test('main - starts from the environment with an offline directory, serves the viewer behind the token, stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pex-auditor-main-'));
    const { publicKey: anchor, privatePath } = await writeAnchor(join(dir, 'anchor'));
    const anchorKey = JSON.parse(readFileSync(privatePath, 'utf8')) as Parameters<typeof signEntry>[1];
    const signing = await generateKey('sig', { kid: 'auditor-sig-1' });
    const keyFile = join(dir, 'auditor-signing.json');
    writeFileSync(keyFile, JSON.stringify(signing), { mode: 0o600 });
    // The directory wants an encryption key for every participant; the auditor process never gets its private half.
    const unusedEncryption = toPublicJwk(await generateKey('enc', { kid: 'auditor-enc-1' }));
    const entry = await signEntry(
      makeEntry('auditor', 'Auditor', [toPublicJwk(signing)], [unusedEncryption]),
      anchorKey,
    );
    const directoryFile = join(dir, 'directory.json');
    await writeDirectoryFile(directoryFile, exportDirectory([entry], anchor));
    const token = 'main-test-viewer-token-93ab71';
    const { child, output } = run({
      PASSERELLE_NATS_URL: nats.url,
      PASSERELLE_AUDITOR_KEY: keyFile,
      PASSERELLE_ANCHOR: join(dir, 'anchor', 'anchor.public.json'),
      PASSERELLE_DIRECTORY_FILE: directoryFile,
      PASSERELLE_AUDITOR_TOKEN: token,
      PASSERELLE_VIEWER_PORT: '0',
    });
    try {
      // it says it runs, or it has exited (the expectation below shows why)
      await vi.waitFor(
        () => expect(/auditor running/.test(output()) || child.exitCode !== null, output()).toBe(true),
        { timeout: 30_000, interval: 100 },
      );
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output())?.[1];
      expect(url, output()).toBeDefined();
      expect((await fetch(`${url}/`)).status).toBe(401);
      const home = await fetch(`${url}/`, { headers: { authorization: `Bearer ${token}` } });
      expect(home.status).toBe(200);
      expect(output()).not.toContain(token);
      expect(output()).not.toContain(signing.d);
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
