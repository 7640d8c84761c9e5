import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Exchange } from '@passerelle/exchange';
import type { NatsCluster } from '@passerelle/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  type SecureDeployment,
  connectOperator,
  prepareSecureDeployment,
  provisionSecure,
  startSecureCluster,
} from '../../scripts/secure-exchange.js';
import { type Parties, connectSecureExchange, example, makeParties } from '../support/secure.js';
import { OE, POST } from '../support/participants.js';

const TOTAL = 5_000;

describe('3-node secured cluster: the EXCHANGE stream leader dies mid-exchange', { timeout: 240_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'passerelle-cluster-'));
  let deployment: SecureDeployment;
  let cluster: NatsCluster;
  let parties: Parties;
  let operator: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    deployment = await prepareSecureDeployment({ dir: join(home, 'secure') });
    cluster = await startSecureCluster(deployment);
    await deployment.writeCredentials(cluster.urls);
    await provisionSecure(deployment, cluster.urls, {
      replicas: 3,
      participants: [POST, OE],
      consumer: { ackWaitMs: 10_000 },
    });
    parties = await makeParties([POST, OE]);
    operator = await connectOperator(deployment, cluster.urls);
    jsm = await jetstreamManager(operator, { timeout: 30_000 });
  }, 120_000);
  afterAll(async () => {
    await operator?.close();
    await cluster?.stop();
    rmSync(home, { recursive: true, force: true });
  });
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      for (const s of cluster.servers) console.error(`--- ${s.serverName}\n${s.log().slice(-3000)}`);
    });
  });

  test('faults - every acknowledged message reaches its handler exactly once; the killed leader restarts and catches up', async () => {
    const info = await jsm.streams.info('EXCHANGE');
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas?.length).toBe(2);

    const sender: Exchange = await connectSecureExchange(deployment, parties, POST);
    const receiver: Exchange = await connectSecureExchange(deployment, parties, OE, {
      consumer: { ackWaitMs: 10_000 },
      concurrency: 32,
    });
    const handled = new Map<string, number>();
    receiver.subscribe({
      'visa-issued': async (m) => {
        handled.set(m.meta.id, (handled.get(m.meta.id) ?? 0) + 1);
      },
    });

    const acknowledged: string[] = [];
    let refused = 0;
    const reasons = new Map<string, number>();
    let killed: { name: string; at: number } | undefined;
    // set before the first await, so that one lane alone asks for the leader and kills it
    let killing = false;
    const payload = example('visa-issued');
    try {
      const lanes = 24;
      let next = 0;
      await Promise.all(
        Array.from({ length: lanes }, async () => {
          while (next < TOTAL) {
            const i = next++;
            // As an application would: a send refused during the election is sent again (a new message).
            for (let attempt = 1; attempt <= 60; attempt++) {
              try {
                const [sent] = await sender.send('visa-issued', payload, {
                  to: OE,
                  dossierId: `dossier-c${String(i).padStart(5, '0')}`,
                });
                acknowledged.push(sent!.id);
                break;
              } catch (err) {
                refused++; // not acknowledged: no promise was made about it
                const e = err as { code?: string };
                reasons.set(e.code ?? 'other', (reasons.get(e.code ?? 'other') ?? 0) + 1);
                await new Promise((r) => setTimeout(r, 500));
              }
            }
            if (!killing && acknowledged.length >= TOTAL / 4) {
              killing = true;
              const leader = (await jsm.streams.info('EXCHANGE')).cluster?.leader ?? '';
              killed = { name: leader, at: acknowledged.length };
              const node = cluster.servers.find((s) => s.serverName === leader);
              if (!node) throw new Error(`leader ${leader} is not a node of the cluster`);
              await node.kill('SIGKILL');
            }
          }
        }),
      );
      expect(killed).toBeDefined();
      // Every acknowledged message is handled exactly once.
      await vi.waitUntil(() => acknowledged.every((id) => handled.has(id)), { timeout: 120_000 });
      const twice = [...handled].filter(([, n]) => n > 1);
      expect(twice).toEqual([]);
      expect(acknowledged.length).toBe(TOTAL);
      for (const id of acknowledged) expect(handled.get(id)).toBe(1);
    } finally {
      await sender.close();
      await receiver.close();
    }

    // The killed node comes back and catches up with the others.
    const node = cluster.servers.find((s) => s.serverName === killed!.name)!;
    await node.restart();
    await vi.waitUntil(
      async () => {
        const now = await jsm.streams.info('EXCHANGE').catch(() => undefined);
        const peers = [now?.cluster?.leader, ...(now?.cluster?.replicas ?? []).map((r) => r.name)];
        const back =
          now?.cluster?.replicas?.find((r) => r.name === killed!.name) ??
          (now?.cluster?.leader === killed!.name ? { current: true, lag: 0 } : undefined);
        return peers.includes(killed!.name) && !!back && back.current && !back.lag;
      },
      { timeout: 60_000 },
    );
    const final = await jsm.streams.info('EXCHANGE');
    expect(final.state.messages).toBeGreaterThanOrEqual(acknowledged.length);
    expect((final.cluster?.replicas ?? []).every((r) => r.current)).toBe(true);
    console.log(
      `cluster fault: leader ${killed!.name} killed after ${killed!.at} acknowledged; ${acknowledged.length} acknowledged, ${refused} sends refused during the election (${JSON.stringify([...reasons])}) and sent again, every acknowledged one handled once`,
    );
  });
});
