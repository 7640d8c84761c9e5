import { type NatsConnection, connect } from '@nats-io/transport-node';
import { generateStorageKeyring } from '@passerelle/directory';
import { UUID_V7 } from '@passerelle/envelope';
import { StateCipher } from '@passerelle/service-host';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpIdempotencyStore } from '../src/index.js';

describe('Idempotency-Key store', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let store: HttpIdempotencyStore;
  // The store's clock, moved on by the tests: staleness is then independent of the machine's speed.
  let clock = Date.parse('2026-11-27T09:00:00Z');

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    store = await HttpIdempotencyStore.open(
      nc,
      'portal-idem',
      StateCipher.fromKeyring(generateStorageKeyring('portal-idem'), 'portal idempotency'),
      { staleAfterMs: 60_000, now: () => new Date(clock) },
    );
  });
  afterAll(async () => {
    await nc?.close();
  });

  const request = (key: string, fingerprint = 'f'.repeat(64)) => ({
    integrator: 'acme-hr',
    key,
    fingerprint,
  });
  const ok = { status: 202, body: { accepted: true } };

  test('idempotency - a retry after a 5xx runs again under the same message id; then the answer is replayed', async () => {
    const ids: string[] = [];
    await expect(
      store.run(request('retry-0001'), (id) => {
        ids.push(id);
        return Promise.reject(new Error('the exchange timed out part-way through the fan-out'));
      }),
    ).rejects.toThrow('timed out');
    const answer = await store.run(request('retry-0001'), (id) => {
      ids.push(id);
      return Promise.resolve(ok);
    });
    expect(answer).toEqual({ ...ok, replayed: false });
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(UUID_V7);
    expect(ids[1]).toBe(ids[0]);
    const replay = await store.run(request('retry-0001'), () => Promise.reject(new Error('not run')));
    expect(replay).toEqual({ ...ok, replayed: true });
    // another key, another id
    let other = '';
    await store.run(request('retry-0002'), (id) => {
      other = id;
      return Promise.resolve(ok);
    });
    expect(other).not.toBe(ids[0]);
  });

  test('idempotency - after a 5xx, the same key with another request is refused, not run under the first id', async () => {
    await expect(
      store.run(request('retry-0003'), () => Promise.reject(new Error('publish failed'))),
    ).rejects.toThrow();
    await expect(
      store.run(request('retry-0003', 'e'.repeat(64)), () => Promise.resolve(ok)),
    ).rejects.toMatchObject({ code: 'ERR_IDEMPOTENCY_KEY_REUSED' });
  });

  test('idempotency - a run that died (still pending when stale) is taken over under its message id', async () => {
    let first = '';
    // the portal died during this run: it never answers
    void store.run(request('retry-0004'), (id) => {
      first = id;
      return new Promise(() => undefined);
    });
    await expect.poll(() => first).not.toBe('');
    await expect(store.run(request('retry-0004'), () => Promise.resolve(ok))).rejects.toMatchObject({
      code: 'ERR_IDEMPOTENCY_IN_PROGRESS',
    });
    clock += 59_999;
    await expect(store.run(request('retry-0004'), () => Promise.resolve(ok))).rejects.toMatchObject({
      code: 'ERR_IDEMPOTENCY_IN_PROGRESS',
    });
    clock += 1;
    let second = '';
    await store.run(request('retry-0004'), (id) => {
      second = id;
      return Promise.resolve(ok);
    });
    expect(first).toMatch(UUID_V7);
    expect(second).toBe(first);
  });
});
