import { connect } from '@nats-io/transport-node';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { openBucket } from '../src/index.js';

describe('openBucket', () => {
  const nats = useNatsServer();

  test('openBucket - creates a missing bucket with its settings; create: false opens it and never creates one', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      await expect((await openBucket(nc, 'absent', { create: false })).status()).rejects.toThrow();
      const kv = await openBucket(nc, 'made', { history: 3, ttlMs: 60_000 });
      const status = await kv.status();
      expect(status.history).toBe(3);
      expect(status.ttl).toBe(60_000);
      await kv.put('k', 'v');
      const again = await openBucket(nc, 'made', { create: false });
      expect((await again.get('k'))?.string()).toBe('v');
    } finally {
      await nc.close();
    }
  });
});
