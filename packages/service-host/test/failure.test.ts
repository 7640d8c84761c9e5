import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateStorageKeyring, writeAnchor, writeParticipantKeys } from '@passerelle/directory';
import { loadContracts } from '@passerelle/contracts';
import { createStaticResolver, generateParticipantKeys, publicKeysOf } from '@passerelle/envelope';
import { createLogger } from '@passerelle/exchange';
import type { DossierRecord } from '@passerelle/procedure';
import { freeLoopbackPort, startNatsServer } from '@passerelle/testing';
import { describe, expect, test } from 'vitest';
import { emptyTable } from './fixtures.js';
import { ServiceHost } from '../src/index.js';
import { loadHostedConfig, readServiceSettings } from '../src/internal.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('a host that can no longer work', () => {
  test('failure - a connection that closes for good is reported once, /healthz turns 503 and /readyz names it; a closed host reports nothing', async () => {
    // a server of its own (killed here), on a port nothing else is given meanwhile
    const server = await startNatsServer({ port: await freeLoopbackPort() });
    const lagos = await generateParticipantKeys('post-lagos');
    const ankara = await generateParticipantKeys('post-ankara');
    const failures: string[] = [];
    const open = async (): Promise<ServiceHost<DossierRecord, never>> =>
      ServiceHost.open({
        service: 'consular-post',
        kind: 'consular-post',
        table: emptyTable('consular-post'),
        participants: [lagos, ankara],
        storageKeys: [generateStorageKeyring('post-lagos'), generateStorageKeyring('post-ankara')],
        directory: createStaticResolver([lagos, ankara].map(publicKeysOf)),
        contracts: await loadContracts({ root }),
        servers: server.url,
        // no reconnection: the first disconnection closes the connection for good
        connectionFor: () => ({ maxReconnectAttempts: 0 }),
        metricsPort: 0,
        logger: createLogger('t', { level: 'silent' }),
        onFailure: (reason) => failures.push(reason),
      });
    const host = await open();
    const probe = async (path: string): Promise<{ status: number; body: unknown }> => {
      const res = await fetch(`http://127.0.0.1:${host.metricsServer!.port}${path}`);
      return { status: res.status, body: await res.json() };
    };
    try {
      expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
      expect(host.failure()).toBeUndefined();

      await server.kill();
      const deadline = Date.now() + 20_000;
      const bothFailed = (): boolean =>
        ['post-lagos', 'post-ankara'].every((id) => host.exchange(id).failure() !== undefined);
      while ((failures.length === 0 || !bothFailed()) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      await Promise.resolve();
      // once, for the first id found failing, although both connections closed
      expect(failures).toEqual([expect.stringMatching(/^post-(lagos|ankara): connection closed$/)]);
      expect(await probe('/healthz')).toEqual({
        status: 503,
        body: { status: 'failed', reason: expect.stringMatching(/: connection closed$/) },
      });
      expect(await probe('/readyz')).toEqual({
        status: 503,
        body: {
          status: 'not ready',
          participants: [
            { participant: 'post-lagos', ready: false, reason: 'connection closed' },
            { participant: 'post-ankara', ready: false, reason: 'connection closed' },
          ],
        },
      });
      // HEAD like GET; other methods refused
      const head = await fetch(`http://127.0.0.1:${host.metricsServer!.port}/healthz`, { method: 'HEAD' });
      expect(head.status).toBe(503);
      const post = await fetch(`http://127.0.0.1:${host.metricsServer!.port}/readyz`, { method: 'POST' });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    } finally {
      await host.close();
    }

    // closing a host is no failure, for its exchanges either
    await server.restart();
    const second = await open();
    const told: string[] = [];
    for (const id of second.participants) second.exchange(id).onFailure((r) => told.push(r));
    const connections = second.participants.map((id) => second.exchange(id).nc.closed());
    await second.close();
    await Promise.all(connections);
    await new Promise((r) => setImmediate(r));
    expect([...failures, ...told]).toHaveLength(1);
    expect(second.failure()).toBeUndefined();
    await server.stop();
  });
});

describe('a live directory that can no longer be read', () => {
  test('failure - the directory connection closing for good is reported (at once to a listener that comes later); a close is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-dir-failure-'));
    const server = await startNatsServer({ port: await freeLoopbackPort() });
    try {
      const anchor = await writeAnchor(join(dir, 'anchor'));
      await writeParticipantKeys(
        join(dir, 'keys', 'post-lagos'),
        await generateParticipantKeys('post-lagos'),
      );
      const settings = await readServiceSettings('consular-post', 'consular-post', {
        PASSERELLE_PARTICIPANTS: 'post-lagos',
        PASSERELLE_KEYS_DIR: join(dir, 'keys'),
        PASSERELLE_ANCHOR: anchor.publicPath,
        PASSERELLE_CONTRACTS_ROOT: root,
        PASSERELLE_NATS_URL: server.url,
      });
      const first = await loadHostedConfig('consular-post', settings);
      const second = await loadHostedConfig('consular-post', settings);
      const closedOnPurpose: string[] = [];
      second.onFailure((r) => closedOnPurpose.push(r));
      await second.close();

      const reported = new Promise<string>((resolve) => first.onFailure(resolve));
      await server.kill();
      // after the client's reconnection attempts (its defaults: 10, 2 s apart)
      expect(await reported).toBe('directory connection closed');
      const late = await new Promise<string>((resolve) => first.onFailure(resolve));
      expect(late).toBe('directory connection closed');
      expect(closedOnPurpose).toEqual([]);
      await first.close();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
