import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  exportDirectory,
  makeEntry,
  writeAnchor,
  writeDirectoryFile,
  writeParticipantKeys,
} from '@passerelle/directory';
import { signEntry } from '@passerelle/directory/internal';
import { generateParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import { type NatsServer, freeLoopbackPort, startNatsServer } from '@passerelle/testing';
import { describe, expect, test, vi } from 'vitest';
import { waitForLine } from '../support/process.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const ID = 'post-lagos';

/** A consular-post service process hosting post-lagos against `url`, with its metrics port at 0. */
async function startServiceProcess(url: string, dir: string): Promise<ChildProcess> {
  const anchor = await writeAnchor(join(dir, 'anchor'));
  const anchorKey = JSON.parse(readFileSync(anchor.privatePath, 'utf8')) as Parameters<typeof signEntry>[1];
  const keys = await generateParticipantKeys(ID);
  await writeParticipantKeys(join(dir, 'keys', ID), keys);
  const entry = await signEntry(
    makeEntry(ID, ID, [toPublicJwk(keys.signing)], keys.encryption.map(toPublicJwk)),
    anchorKey,
  );
  await writeDirectoryFile(join(dir, 'directory.json'), exportDirectory([entry], anchor.publicKey));
  return spawn(process.execPath, ['--import', 'tsx', 'services/consular-post/src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      PASSERELLE_NATS_URL: url,
      PASSERELLE_PARTICIPANTS: ID,
      PASSERELLE_KEYS_DIR: join(dir, 'keys'),
      PASSERELLE_ANCHOR: anchor.publicPath,
      PASSERELLE_DIRECTORY_FILE: join(dir, 'directory.json'),
      PASSERELLE_CONTRACTS_ROOT: root,
      PASSERELLE_METRICS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const exitOf = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

/**
 * Runs `scenario` with a fresh service process on a nats-server of its own, then kills what is left of the
 * process, stops the server and removes the process's folder, whatever the scenario did.
 */
async function withServiceProcess(
  serverOptions: Parameters<typeof startNatsServer>[0],
  scenario: (child: ChildProcess, exited: Promise<number | null>, server: NatsServer) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pex-main-exit-'));
  const server = await startNatsServer(serverOptions);
  try {
    const child = await startServiceProcess(server.url, dir);
    const exited = exitOf(child);
    try {
      await scenario(child, exited, server);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a service process and its supervisor', { timeout: 120_000 }, () => {
  test('faults - SIGTERM stops it cleanly with exit code 0', async () => {
    await withServiceProcess(undefined, async (child, exited) => {
      await waitForLine(child, /consular-post started/, 60_000);
      const stopped = waitForLine(child, /consular-post stopped/, 60_000);
      child.kill('SIGTERM');
      await stopped;
      expect(await exited).toBe(0);
    });
  });

  test('faults - /readyz turns 503 at once, then the process stops with exit code 1 when its reconnection attempts run out', async () => {
    // a server of its own, killed here
    await withServiceProcess({ port: await freeLoopbackPort() }, async (child, exited, server) => {
      const started = await waitForLine(child, /consular-post started/, 60_000);
      const port = /"port":(\d+)[^\n]*probes on \/healthz/.exec(started)?.[1];
      expect(port, started).toBeDefined();
      const probe = async (path: string): Promise<number> =>
        (await fetch(`http://127.0.0.1:${port}${path}`)).status;
      expect([await probe('/healthz'), await probe('/readyz')]).toEqual([200, 200]);

      const stopping = waitForLine(child, /consular-post stops: it can no longer work/, 90_000);
      stopping.catch(() => undefined); // awaited below; a failure before then must not be unhandled
      await server.kill();
      // out of rotation while it tries to reconnect, without waiting for a request to time out
      await vi.waitFor(async () => expect(await probe('/readyz')).toBe(503), {
        timeout: 10_000,
        interval: 100,
      });
      expect(await probe('/healthz')).toBe(200);

      // then, its reconnection attempts spent (the client's defaults: 10, 2 s apart), it stops cleanly and
      // exits with 1 for its supervisor to start it again
      const stopped = waitForLine(child, /consular-post stopped/, 60_000);
      expect(await stopping).toMatch(/"reason":"post-lagos: connection closed"/);
      await stopped;
      expect(await exited).toBe(1);
    });
  });
});
