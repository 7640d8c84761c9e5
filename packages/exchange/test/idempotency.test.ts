import { type NatsConnection, connect } from '@nats-io/transport-node';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { IdempotencyStore, idempotencyBucketName } from '../src/internal.js';

describe('idempotency records', () => {
  const nats = useNatsServer();

  /** Runs `fn` on a connection of its own, closed after it. */
  async function onConnection(fn: (nc: NatsConnection) => Promise<void>): Promise<void> {
    const nc = await connect({ servers: nats.url });
    try {
      await fn(nc);
    } finally {
      await nc.close();
    }
  }

  /** The store of `participant` as instance-1 holds it, with a one-minute lease. */
  const openStore = (nc: NatsConnection, participant: string) =>
    IdempotencyStore.open(nc, participant, { owner: 'instance-1', leaseMs: 60_000 });

  test('idempotency - a second delivery while this instance still holds the lease waits instead of running again', async () => {
    await onConnection(async (nc) => {
      const store = await openStore(nc, 'post-ankara');
      const first = await store.claim('m-1');
      expect(first.kind).toBe('claimed');
      // Its progress acks were lost and the server redelivered: same instance, lease still fresh.
      expect((await store.claim('m-1')).kind).toBe('busy');
      await store.complete('m-1', (first as { revision: number }).revision);
      expect((await store.claim('m-1')).kind).toBe('done');
    });
  });

  test('idempotency - two deliveries of one id at the same time in one instance: one claims, the other waits', async () => {
    await onConnection(async (nc) => {
      const store = await openStore(nc, 'post-lagos');
      // e.g. the same envelope stored twice by a stream whose leader changed, both in flight at once
      for (let i = 0; i < 20; i++) {
        const kinds = (await Promise.all([store.claim(`m-9-${i}`), store.claim(`m-9-${i}`)])).map(
          (c) => c.kind,
        );
        expect(kinds.sort()).toEqual(['busy', 'claimed']);
      }
    });
  });

  test('idempotency - a restarted instance with the same name takes back a lease its previous life left behind', async () => {
    await onConnection(async (nc) => {
      const before = await openStore(nc, 'post-kinshasa');
      expect((await before.claim('m-2')).kind).toBe('claimed');
      const after = await openStore(nc, 'post-kinshasa');
      const again = await after.claim('m-2');
      expect(again.kind).toBe('claimed');
      await after.complete('m-2', (again as { revision: number }).revision);
      expect(await after.get('m-2')).toMatchObject({ state: 'done', owner: 'instance-1' });
    });
  });

  test('idempotency - complete() recognises an update that landed although its answer was lost', async () => {
    await onConnection(async (nc) => {
      const store = await openStore(nc, 'commune-21004');
      const claim = await store.claim('m-3');
      const revision = (claim as { revision: number }).revision;
      await store.complete('m-3', revision);
      // Same call again with the now stale revision: the record is already done by this owner.
      await expect(store.complete('m-3', revision, new Date(), 1_000)).resolves.toBeUndefined();
    });
  });

  test('idempotency - complete() after a renewal whose answer was lost (a stale revision) records done at once', async () => {
    await onConnection(async (nc) => {
      const store = await openStore(nc, 'commune-62063');
      const claim = await store.claim('m-4');
      const revision = (claim as { revision: number }).revision;
      await store.renew('m-4', revision); // landed; its new revision never reached the handler's loop
      const started = Date.now();
      await store.complete('m-4', revision, new Date(), 10_000);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await store.get('m-4')).toMatchObject({ state: 'done', owner: 'instance-1' });
    });
  });

  test('idempotency - a done record that cannot be written is written by the next delivery, which never runs the handler again', async () => {
    await onConnection(async (nc) => {
      const jsm = await jetstreamManager(nc);
      const store = await openStore(nc, 'post-lagos-2');
      const claim = await store.claim('m-5');
      expect(claim.kind).toBe('claimed');
      // the handler succeeded; then the bucket is unreachable for longer than complete() retries
      const stream = `KV_${idempotencyBucketName('post-lagos-2')}`;
      const config = (await jsm.streams.info(stream)).config;
      await jsm.streams.delete(stream);
      await expect(
        store.complete('m-5', (claim as { revision: number }).revision, new Date(), 300),
      ).rejects.toThrow();
      // while it is still unreachable, the next delivery waits: it neither runs the handler nor is lost
      expect((await store.claim('m-5')).kind).toBe('busy');
      await jsm.streams.add(config);
      // back: the next delivery writes the record and finds the message done
      expect((await store.claim('m-5')).kind).toBe('done');
      expect(await store.get('m-5')).toMatchObject({ state: 'done', owner: 'instance-1' });
    });
  });
});
