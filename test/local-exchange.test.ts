import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { readStatus } from '@passerelle/cli/internal';
import { PINNED_NATS_SERVER_VERSION } from '@passerelle/testing';
import { waitForLine } from './support/process.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('local exchange (pnpm start)', () => {
  const home = mkdtempSync(join(tmpdir(), 'passerelle-home-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  test('start - provisions the three streams, status lists them, Ctrl-C stops nats-server', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: root,
      env: { ...process.env, PASSERELLE_HOME: home, PASSERELLE_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const out = await waitForLine(child, /^ready:/m, 90_000);
      const url = /listening on (nats:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect(existsSync(join(home, 'server.json'))).toBe(true);
      // the deadline scans each service runs alone, here for every service the launcher started
      expect(out).toMatch(
        /deadline scans: regional-authority, immigration-office, consular-post, commune, at start and every 60 s/,
      );

      const status = await readStatus({ server: url });
      expect(status.version).toMatch(/^2\.\d+\.\d+/);
      // pnpm start runs the pinned release, which status reports as supported
      expect(status.version).toBe(PINNED_NATS_SERVER_VERSION);
      expect(status.supported).toBe(true);
      // KV buckets and object stores (directory, services' state, documents) are streams too, and so are
      // the HTTP doors' event logs and webhook deliveries (the portal's and the back offices' among them).
      const names = status.streams.map((s) => s.name);
      const exchangeStreams = names.filter(
        (n) => !n.startsWith('KV_') && !n.startsWith('OBJ_') && !n.startsWith('door-'),
      );
      expect(exchangeStreams).toEqual(['DEADLETTER', 'EXCHANGE', 'LEDGER']);
      expect(names).toEqual(
        expect.arrayContaining([
          'door-portal-employers-events',
          'door-portal-employers-deliveries',
          // each administration's back office
          ...['regional-authority', 'immigration-office', 'consular-post', 'commune'].map(
            (service) => `door-backoffice-${service}-events`,
          ),
        ]),
      );
      expect(status.missing).toEqual([]);

      const stopped = waitForLine(child, /^stopped$/m, 15_000);
      child.kill('SIGINT');
      await stopped;
      await new Promise((r) => child.once('exit', r));
      expect(existsSync(join(home, 'server.json'))).toBe(false);
      // The JetStream data stays for the next start.
      expect(existsSync(join(home, 'nats'))).toBe(true);
      await expect(readStatus({ server: url })).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
    }
    // Key generation, the directory and every service start before `ready:` (seconds on two cores).
  }, 120_000);
});
