import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { putStream } from '../src/index.js';

describe('putStream', () => {
  const nats = useNatsServer();

  test('putStream - adds a missing stream, then updates it to a changed config; other failures are thrown', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const made = await putStream(jsm, { name: 'PUT_ME', subjects: ['put.>'], max_msgs: 10 });
      expect(made.config).toMatchObject({ subjects: ['put.>'], max_msgs: 10 });
      const changed = await putStream(jsm, { name: 'PUT_ME', subjects: ['put.>'], max_msgs: 20 });
      expect(changed.config.max_msgs).toBe(20);
      expect((await jsm.streams.info('PUT_ME')).config.max_msgs).toBe(20);
      // a subject another stream holds is the server's refusal, not a missing stream
      await expect(putStream(jsm, { name: 'PUT_OTHER', subjects: ['put.>'] })).rejects.toThrow();
    } finally {
      await nc.close();
    }
  });
});
