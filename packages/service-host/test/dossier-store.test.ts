import { Kvm } from '@nats-io/kv';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { DossierStore, type PendingMessage } from '@passerelle/procedure';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

interface Counter {
  n: number;
}

describe('dossier store on a JetStream KV bucket', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let store: DossierStore<Counter>;

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    store = new DossierStore<Counter>(await new Kvm(nc).create('svc-store-test', { history: 1 }));
  });
  afterAll(async () => {
    await nc?.close();
  });

  const step = (cur: Counter | undefined) => ({
    state: { n: (cur?.n ?? 0) + 1 },
    send: [{ type: 'visa-issued', payload: { n: (cur?.n ?? 0) + 1 } }],
  });

  test('store - a step id applied once: a redelivered message changes nothing and sends nothing again', async () => {
    const sent: PendingMessage[] = [];
    const send = (_p: string, _d: string, m: PendingMessage) => Promise.resolve(void sent.push(m));
    await store.apply('post-lagos', 'D-STORE-0001', 'msg-1', step, send);
    await store.apply('post-lagos', 'D-STORE-0001', 'msg-1', step, send);
    await store.apply('post-lagos', 'D-STORE-0001', 'msg-2', step, send);
    expect(await store.get('post-lagos', 'D-STORE-0001')).toEqual({ n: 2 });
    expect(sent.map((m) => m.payload)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  test('store - a send that fails leaves the message in the outbox; the redelivery sends it once', async () => {
    const sent: PendingMessage[] = [];
    const failing = () => Promise.reject(new Error('publish timed out'));
    await expect(store.apply('post-lagos', 'D-STORE-0002', 'msg-1', step, failing)).rejects.toThrow(
      'publish timed out',
    );
    // The state moved on with its message kept: the decision is not lost.
    expect((await store.read('post-lagos', 'D-STORE-0002'))?.outbox).toHaveLength(1);
    await store.apply('post-lagos', 'D-STORE-0002', 'msg-1', step, (_p, _d, m) =>
      Promise.resolve(void sent.push(m)),
    );
    expect(sent).toHaveLength(1);
    expect(await store.read('post-lagos', 'D-STORE-0002')).toMatchObject({ state: { n: 1 }, outbox: [] });
  });

  test('store - concurrent steps on one dossier all apply (compare-and-set retries)', async () => {
    const noSend = () => Promise.resolve();
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        store.apply(
          'commune-21004',
          'D-STORE-0003',
          `msg-${i}`,
          (cur) => ({ state: { n: (cur?.n ?? 0) + 1 } }),
          noSend,
        ),
      ),
    );
    expect(await store.get('commune-21004', 'D-STORE-0003')).toEqual({ n: 5 });
  });

  test('store - a refused step writes nothing', async () => {
    await expect(
      store.apply(
        'commune-21004',
        'D-STORE-0004',
        'msg-1',
        () => {
          throw new Error('out of sequence');
        },
        () => Promise.resolve(),
      ),
    ).rejects.toThrow('out of sequence');
    expect(await store.get('commune-21004', 'D-STORE-0004')).toBeUndefined();
    const listed: string[] = [];
    for await (const d of store.list('commune-21004')) listed.push(d.dossierId);
    expect(listed).toEqual(['D-STORE-0003']);
  });
});
