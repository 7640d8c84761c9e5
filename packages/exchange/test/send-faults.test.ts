import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { deriveMessageId, newMessageId } from '@passerelle/envelope';
import {
  type NatsCluster,
  type NatsServer,
  startNatsCluster,
  waitForClusterReady,
} from '@passerelle/testing';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type Exchange, connectNats, listDeadLetters, provisionStreams } from '../src/index.js';
import { provisionParticipant } from '../src/internal.js';
import { type Fixture, OE, POST, connectParticipant, example, makeFixture } from './fixtures.js';
import { startConsumerProcess, writeProcessFixture } from './process-fixture.js';

/** Sends acknowledged before the first fault, between faults, and after the last. */
const STRETCH = 200;
const ACK_WAIT_MS = 5_000;

/** The receiver's handler runs, in order: message id and the pid of the process that ran it. */
function runs(file: string): { id: string; pid: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, pid] = line.split(' ');
      return { id: id!, pid: Number(pid) };
    });
}

/**
 * The send contract under faults (packages/exchange/README.md, "Sending"), on a 3-node cluster where every
 * stream and bucket has 3 replicas: quorum lost for a few seconds, the receiver process killed and started
 * again, then the stream's new leader killed; plain sends and sends under stable ids mixed, each resent as
 * its error says. Nothing acknowledged is lost; a handler runs again only for the messages in flight in the
 * receiver that was killed; nothing reported as not sent arrives; every failure is typed; every receipt
 * arrives; nothing is dead-lettered.
 */
describe('sending under faults on a 3-node cluster', { timeout: 600_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-send-faults-'));
  const effectsFile = join(dir, 'effects.log');
  let cluster: NatsCluster;
  let fx: Fixture;
  let admin: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    cluster = await startNatsCluster();
    fx = await makeFixture([POST, OE]);
    admin = await connectNats({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    // short request time-outs: a request caught by a node's death is asked again, not waited for
    jsm = await jetstreamManager(admin, { timeout: 2_000 });
    await provisionStreams(await jetstreamManager(admin, { timeout: 30_000 }), { replicas: 3 });
    for (const id of [POST, OE]) {
      await provisionParticipant(admin, id, { replicas: 3, consumer: { ackWaitMs: ACK_WAIT_MS } });
    }
  }, 120_000);
  afterAll(async () => {
    await admin?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Waits until the cluster is whole again and EXCHANGE has a leader with every replica current. */
  async function clusterHealed(): Promise<void> {
    await waitForClusterReady(
      cluster.servers.map((s) => s.monitorUrl),
      { timeoutMs: 60_000 },
    );
    await vi.waitUntil(
      async () => {
        const info = await jsm.streams.info('EXCHANGE').catch(() => undefined);
        const replicas = info?.cluster?.replicas ?? [];
        return !!info?.cluster?.leader && replicas.length === 2 && replicas.every((r) => r.current);
      },
      { timeout: 60_000, interval: 100 },
    );
  }

  async function exchangeLeader(): Promise<NatsServer> {
    let leader = '';
    await vi.waitUntil(
      async () => {
        leader = (await jsm.streams.info('EXCHANGE').catch(() => undefined))?.cluster?.leader ?? '';
        return leader !== '';
      },
      { timeout: 60_000, interval: 100 },
    );
    const node = cluster.servers.find((s) => s.serverName === leader);
    if (!node) throw new Error(`leader ${leader} is not a node of the cluster`);
    return node;
  }

  test('faults - every send that resolves is handled once, none reported not sent arrives, every failure is typed', async () => {
    const fixtureFile = join(dir, 'fixture.json');
    writeProcessFixture(fixtureFile, fx, OE, {
      server: cluster.urls,
      replicas: 3,
      startedFile: join(dir, 'started.log'),
      effectsFile,
      ackWaitMs: ACK_WAIT_MS,
    });
    const startReceiver = (): Promise<ChildProcess> => startConsumerProcess(fixtureFile, 'traced');
    let receiver = await startReceiver();
    let killedPid = -1;

    // short retries, so that sends really fail while quorum is lost, and are typed
    const sender: Exchange = await connectParticipant(fx, cluster.urls.join(','), POST, {
      servers: cluster.urls,
      replicas: 3,
      sendRetry: { attempts: 4, baseDelayMs: 100 },
      requestTimeoutMs: 2_000,
      connection: { maxReconnectAttempts: -1, reconnectTimeWait: 250 },
    });

    const acknowledged = new Set<string>();
    /** Ids of plain sends reported as not sent: sent again under a new id, never to arrive themselves. */
    const notSent = new Set<string>();
    const notSentAt = new Map<string, string>();
    const failures = new Map<string, number>();
    const untyped: string[] = [];
    const payload = example('visa-issued');
    let next = 0;

    const sendOne = async (i: number): Promise<void> => {
      const stable = i % 2 === 1;
      let messageId: string | undefined = stable ? newMessageId() : undefined;
      for (;;) {
        try {
          const [sent] = await sender.send('visa-issued', payload, {
            to: OE,
            dossierId: `dossier-f${String(i).padStart(5, '0')}`,
            ...(messageId ? { messageId } : {}),
          });
          acknowledged.add(sent!.id);
          return;
        } catch (err) {
          const e = err as { code?: string; details?: { messageId?: string } };
          failures.set(e.code ?? 'untyped', (failures.get(e.code ?? 'untyped') ?? 0) + 1);
          const failedId = e.details?.messageId;
          if (!failedId || (e.code !== 'ERR_NOT_SENT' && e.code !== 'ERR_SEND_OUTCOME_UNKNOWN')) {
            untyped.push(`${e.code ?? (err as Error).name}`);
            return;
          }
          if (e.code === 'ERR_NOT_SENT' && !stable) {
            // as an application would: not sent, so sent again as a new message
            notSent.add(deriveMessageId(failedId, OE));
            notSentAt.set(deriveMessageId(failedId, OE), new Date().toISOString());
            messageId = undefined;
          } else {
            // unknown outcome (or a stable id): sent again under the same id, as the error says
            messageId = failedId;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    };

    const faults: string[] = [];
    const t0 = Date.now();
    const at = (): string => `${acknowledged.size} sent, ${((Date.now() - t0) / 1000).toFixed(0)} s`;
    let scenarioDone = false;
    let last = 0;
    /** Waits until another stretch of sends is acknowledged since the last fault ended. */
    const aStretchLater = async (): Promise<void> => {
      const from = acknowledged.size;
      await vi.waitUntil(() => acknowledged.size >= from + STRETCH || untyped.length > 0, {
        timeout: 300_000,
        interval: 100,
      });
    };
    // traffic flows until every fault is over and a stretch more has gone through
    const traffic = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (untyped.length === 0 && (!scenarioDone || acknowledged.size < last + STRETCH)) {
          await sendOne(next++);
          // a steady rate (about 250 messages a second in all), as administrations send, not a flood
          await new Promise((r) => setTimeout(r, 30));
        }
      }),
    );
    const scenario = (async () => {
      // 1. quorum lost: the stream leader and a second node killed for a few seconds
      await aStretchLater();
      const leader = await exchangeLeader();
      const second = cluster.servers.find((s) => s !== leader)!;
      await Promise.all([leader.kill('SIGKILL'), second.kill('SIGKILL')]);
      faults.push(`quorum lost (${leader.serverName}, ${second.serverName} killed) at ${at()}`);
      const failuresBefore = [...failures.values()].reduce((a, b) => a + b, 0);
      await vi.waitUntil(() => [...failures.values()].reduce((a, b) => a + b, 0) > failuresBefore + 3, {
        timeout: 60_000,
        interval: 100,
      });
      await Promise.all([leader.restart(), second.restart()]);
      await clusterHealed();
      faults.push(`healed at ${at()}`);
      // 2. the receiver killed mid-traffic and started again
      await aStretchLater();
      killedPid = receiver.pid!;
      receiver.kill('SIGKILL');
      await new Promise((r) => receiver.once('exit', r));
      faults.push(`receiver killed at ${at()}`);
      receiver = await startReceiver();
      // 3. the new stream leader killed (quorum kept), then back
      await aStretchLater();
      const newLeader = await exchangeLeader();
      await newLeader.kill('SIGKILL');
      faults.push(`leader ${newLeader.serverName} killed at ${at()}`);
      await newLeader.restart();
      await clusterHealed();
      faults.push(`healed at ${at()}`);
      last = acknowledged.size;
      scenarioDone = true;
    })();

    try {
      await Promise.all([traffic, scenario]);
      expect(untyped).toEqual([]);
      expect(acknowledged.size).toBe(next);
      // 0 lost: every acknowledged send is handled; 0 twice; nothing reported not sent arrives
      await vi.waitUntil(
        () => {
          const handled = new Set(runs(effectsFile).map((r) => r.id));
          return [...acknowledged].every((id) => handled.has(id));
        },
        { timeout: 180_000, interval: 100 },
      );
      // every receipt arrives and is recorded; the records of messages not sent are gone
      await vi
        .waitUntil(async () => (await sender.unreceipted(0)).length === 0, {
          timeout: 180_000,
          interval: 100,
        })
        .catch(async (err: unknown) => {
          const handledNow = new Set(runs(effectsFile).map((r) => r.id));
          const left = (await sender.unreceipted(0)).map((r) => ({
            id: r.id,
            acknowledged: acknowledged.has(r.id),
            notSent: notSent.has(r.id),
            handled: handledNow.has(r.id),
          }));
          throw new Error(`${(err as Error).message}: ${JSON.stringify(left.slice(0, 20))}`);
        });
      // A handler runs again only where the process that ran it was killed before its outcome was recorded
      // (then its lease lapses and the next process takes it over): never twice in processes that lived on,
      // and no more than the handlers in flight at the kill.
      const all = runs(effectsFile);
      const byId = new Map<string, number[]>();
      for (const r of all) byId.set(r.id, [...(byId.get(r.id) ?? []), r.pid]);
      const rerun = [...byId].filter(([, pids]) => pids.length > 1);
      const unexplained = rerun.filter(([, pids]) => pids.slice(0, -1).some((pid) => pid !== killedPid));
      expect(unexplained).toEqual([]);
      expect(rerun.length).toBeLessThanOrEqual(16);
      expect([...byId.keys()].filter((id) => notSent.has(id))).toEqual([]);
      expect(new Set(byId.keys())).toEqual(acknowledged);
      const deadLetters = [
        ...(await listDeadLetters(jsm, { participant: OE })),
        ...(await listDeadLetters(jsm, { participant: POST })),
      ].map((d) => ({
        code: d.code,
        reason: d.reason,
        subject: d.originalSubject,
        id: d.messageId,
        deliveries: d.deliveries,
        notSent: d.messageId ? notSent.has(d.messageId) : undefined,
        acknowledged: d.messageId ? acknowledged.has(d.messageId) : undefined,
      }));
      expect(deadLetters).toEqual([]);
      console.log(
        `send faults: ${faults.join('; ')}; ${acknowledged.size} acknowledged and handled, ${rerun.length} run again after the receiver's kill; failures ${JSON.stringify([...failures])}, ${notSent.size} not sent (never delivered)`,
      );
    } finally {
      await sender.close();
      receiver.kill('SIGTERM');
    }
  });
});
