import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { findNatsServerBinary, waitForClusterReady, waitForJetStream } from '@passerelle/testing';
import { afterAll, describe, expect, test } from 'vitest';
import {
  CLUSTER_CLIENT_PORTS,
  CLUSTER_LEAF_PORTS,
  CLUSTER_MONITOR_PORTS,
  CLUSTER_ROUTE_PORTS,
} from '../../scripts/gen-infra.js';
import { connectOperator, prepareSecureDeployment, provisionSecure } from '../../scripts/secure-exchange.js';
import { repoRoot } from '../support/secure.js';

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('the committed 3-node cluster configuration', { timeout: 120_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'passerelle-cluster-conf-'));
  const nodes: ChildProcess[] = [];
  afterAll(async () => {
    for (const n of nodes) if (n.exitCode === null) n.kill('SIGTERM');
    for (const n of nodes) {
      if (n.exitCode === null && n.signalCode === null) await new Promise((r) => n.once('exit', r));
    }
    rmSync(home, { recursive: true, force: true });
  });

  test('infra - infra/nats/cluster-n{1,2,3}.conf form a JetStream cluster on loopback (route TLS) holding R3 streams', async () => {
    const busy: number[] = [];
    for (const p of [
      ...CLUSTER_CLIENT_PORTS,
      ...CLUSTER_ROUTE_PORTS,
      ...CLUSTER_MONITOR_PORTS,
      ...CLUSTER_LEAF_PORTS,
    ])
      if (!(await portFree(p))) busy.push(p);
    // The committed configuration listens on fixed ports: stop a local `pnpm start` before running this test.
    expect(busy, `ports in use: ${busy.join(', ')}`).toEqual([]);

    const deployment = await prepareSecureDeployment({ dir: join(home, 'secure') });
    const binary = await findNatsServerBinary();
    const logs: string[] = ['', '', ''];
    for (const i of [0, 1, 2]) {
      const node = spawn(binary, ['-c', join(repoRoot, `infra/nats/cluster-n${i + 1}.conf`)], {
        // each node keeps its own resolver folder, as a production node does
        env: {
          ...process.env,
          ...(await deployment.serverEnvFor(`passerelle-n${i + 1}`)),
          PEX_STORE_DIR: join(home, `n${i + 1}`),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      node.stderr?.on('data', (c: Buffer) => void (logs[i] += c.toString()));
      nodes.push(node);
    }
    const urls = CLUSTER_CLIENT_PORTS.map((p) => `tls://127.0.0.1:${p}`);
    try {
      // ready means a meta leader and every peer current, asked of the servers: placing an R3 stream
      // before that fails with "no suitable peers for placement"
      await waitForClusterReady(
        CLUSTER_MONITOR_PORTS.map((p) => `http://127.0.0.1:${p}`),
        { timeoutMs: 60_000 },
      );
      await waitForJetStream(urls, 60_000, await deployment.operator());
      await provisionSecure(deployment, urls, { replicas: 3, participants: ['commune-21004'] });
      const op = await connectOperator(deployment, urls);
      try {
        const info = await (await jetstreamManager(op, { timeout: 30_000 })).streams.info('EXCHANGE');
        expect(info.config.num_replicas).toBe(3);
        const peers = [info.cluster?.leader, ...(info.cluster?.replicas ?? []).map((r) => r.name)].sort();
        expect(peers).toEqual(['passerelle-n1', 'passerelle-n2', 'passerelle-n3']);
      } finally {
        await op.close();
      }
      expect(logs.join('\n')).toMatch(/Route connection created/);
      for (const i of [0, 1, 2]) {
        expect(logs[i]).toContain(
          `exclusive directory ${join(home, 'secure', 'nodes', `passerelle-n${i + 1}`)}`,
        );
      }
    } catch (err) {
      console.error(logs.map((l, i) => `--- n${i + 1}\n${l.slice(-2000)}`).join('\n'));
      throw err;
    }
  });
});
