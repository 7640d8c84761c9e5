import { jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import { type NatsServer, freeLoopbackPort, startNatsServer } from '@passerelle/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Exchange, type Readiness, serveMetrics } from '../src/index.js';
import { inboxConsumerName } from '../src/internal.js';
import { type Fixture, OE, POST, connectParticipant, makeFixture, sendVisa } from './fixtures.js';

/** Waits until `probe` gives a readiness with the expected `ready`; returns it. */
async function readinessBecomes(ex: Exchange, ready: boolean, timeoutMs = 20_000): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await ex.readiness();
    if (r.ready === ready || Date.now() > deadline) return r;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('readiness', () => {
  // a server of its own: these tests kill it
  let server: NatsServer;
  let fx: Fixture;
  beforeAll(async () => {
    // on a port nothing else is given while it is down
    server = await startNatsServer({ port: await freeLoopbackPort() });
    fx = await makeFixture([POST, OE]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  test('readiness - ready while connected; not ready, at once, while the server is down; ready again after its restart', async () => {
    const post = await connectParticipant(fx, server.url, POST, {
      connection: { maxReconnectAttempts: -1, reconnectTimeWait: 100 },
    });
    const oe = await connectParticipant(fx, server.url, OE, {
      connection: { maxReconnectAttempts: -1, reconnectTimeWait: 100 },
    });
    try {
      const handled: string[] = [];
      oe.subscribe(async (m) => void handled.push(m.meta.id));
      expect(await post.readiness()).toEqual({ participant: POST, ready: true });
      expect(await oe.readiness()).toEqual({ participant: OE, ready: true });

      await server.kill();
      const started = Date.now();
      const down = await readinessBecomes(oe, false);
      expect(down).toEqual({ participant: OE, ready: false, reason: 'not connected to NATS' });
      // the probe answers within its own time-out, not after the client's reconnection attempts
      const probed = Date.now();
      expect(await post.readiness(500)).toMatchObject({ ready: false });
      expect(Date.now() - probed).toBeLessThan(5_000);
      expect(Date.now() - started).toBeLessThan(20_000);

      await server.restart();
      expect(await readinessBecomes(oe, true, 30_000)).toEqual({ participant: OE, ready: true });
      expect(await readinessBecomes(post, true, 30_000)).toEqual({ participant: POST, ready: true });
      // and it does its work again
      const sent = await sendVisa(post, 'DOSSIER-READY-1');
      await post.awaitReceipt(sent.id, 20_000);
      expect(handled).toContain(sent.id);
    } finally {
      await post.close();
      await oe.close();
    }
  });

  test('readiness - an exchange whose connection closed without its stop has failed for good; a stopped one has not', async () => {
    const nc = await natsConnect({ servers: server.url });
    const post = await connectParticipant(fx, server.url, POST, { nc });
    expect(post.failure()).toBeUndefined();
    await nc.close();
    expect(post.failure()).toBe('connection closed');
    // a listener that comes after the failure (its owner was still starting) is told too
    const told = await new Promise<string>((resolve) => post.onFailure(resolve));
    expect(told).toBe('connection closed');
    expect(await post.readiness()).toEqual({ participant: POST, ready: false, reason: 'connection closed' });
    await post.close();
    // closed on purpose: no failure, whatever the connection
    expect(post.failure()).toBeUndefined();
    expect(await post.readiness()).toEqual({ participant: POST, ready: false, reason: 'exchange stopped' });
  });

  test('readiness - a deleted inbox consumer is named; a stopped exchange is not ready; /readyz answers 503 then, /healthz 200', async () => {
    const oe = await connectParticipant(fx, server.url, OE);
    const post = await connectParticipant(fx, server.url, POST);
    const served = await serveMetrics([oe.metrics.registry, post.metrics.registry], 0, '127.0.0.1', {
      readiness: async () => [await oe.readiness(), await post.readiness()],
    });
    const get = async (path: string): Promise<{ status: number; body: unknown }> => {
      const res = await fetch(`http://127.0.0.1:${served.port}${path}`);
      return { status: res.status, body: await res.json() };
    };
    /** What `/readyz` answers while OE is ready or not, the post ready throughout. */
    const readyz = (oeReady: boolean) => ({
      status: oeReady ? 200 : 503,
      body: {
        status: oeReady ? 'ready' : 'not ready',
        participants: [
          { participant: OE, ready: oeReady },
          { participant: POST, ready: true },
        ],
      },
    });
    try {
      oe.subscribe(async () => undefined);
      expect(await get('/readyz')).toEqual(readyz(true));

      // an operator deleted the consumer the service pulls from
      const nc = await natsConnect({ servers: server.url });
      try {
        await (await jetstreamManager(nc)).consumers.delete('EXCHANGE', inboxConsumerName(OE));
      } finally {
        await nc.close();
      }
      expect(await readinessBecomes(oe, false)).toMatchObject({
        ready: false,
        reason: expect.stringMatching(
          new RegExp(`consumer ${inboxConsumerName(OE)} (not found|is no longer pulled)`),
        ),
      });
      // the reason OE is not ready stands beside its entry
      expect(await get('/readyz')).toMatchObject(readyz(false));
      expect(await get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });

      await post.stop();
      expect(await post.readiness()).toEqual({ participant: POST, ready: false, reason: 'exchange stopped' });
    } finally {
      await served.close();
      await oe.close();
      await post.close();
    }
  });
});
