import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { loadCredentials } from '@passerelle/exchange';
import { describe, expect, test } from 'vitest';
import { type SecureDeployment } from '../../scripts/secure-exchange.js';
import { useSecuredScenario } from '../support/secure.js';

const COMMUNE = 'commune-21004';
const POST = 'post-ankara';
/** JetStream's answer to a message that would take an account past its own storage limit. */
const ACCOUNT_RESOURCES_EXCEEDED = 10002;
const MiB = 1024 * 1024;

describe('secured server: each account held to its own storage', { timeout: 180_000 }, () => {
  let deployment: SecureDeployment;
  let commune: NatsConnection;
  useSecuredScenario('passerelle-storage-', [COMMUNE, POST], COMMUNE, (s) => {
    ({ deployment, client: commune } = s);
  });

  test('storage - a participant writing past its kind’s storage limit is refused; another’s writes go on', async () => {
    const limits = deployment.plan.participants.find((p) => p.id === COMMUNE)!.jetstreamLimits!;
    const jsm = await jetstreamManager(commune, { timeout: 10_000 });
    // the account's limit on the server is the one generated for its kind, far below the old 2 GiB
    const info = await jsm.getAccountInfo();
    expect(info.limits.max_storage).toBe(limits.disk_storage);
    expect(limits.disk_storage).toBeLessThan(64 * MiB);

    // its service user fills its own service bucket, one MiB at a time, until the server refuses
    const js = jetstream(commune, { timeout: 10_000 });
    const chunk = new Uint8Array(MiB).fill(7);
    let refused: unknown;
    let written = 0;
    for (let i = 0; i < limits.disk_storage / MiB + 8 && !refused; i++) {
      try {
        await js.publish(`$KV.svc-${COMMUNE}.filler-${i}`, chunk);
        written += chunk.length;
      } catch (err) {
        refused = err;
      }
    }
    expect(refused).toBeInstanceOf(JetStreamApiError);
    expect((refused as JetStreamApiError).code).toBe(ACCOUNT_RESOURCES_EXCEEDED);
    expect(written).toBeLessThanOrEqual(limits.disk_storage);
    expect(written).toBeGreaterThan(limits.disk_storage / 2);
    // and it stays refused: the limit holds, not a passing hiccup
    await expect(js.publish(`$KV.svc-${COMMUNE}.one-more`, chunk)).rejects.toMatchObject({
      code: ACCOUNT_RESOURCES_EXCEEDED,
    });

    // another participant's account is untouched by the first one's excess
    const c = await loadCredentials(deployment.credentialsFile(POST));
    const post = await connect({ ...c.connection, servers: c.servers });
    try {
      const ack = await jetstream(post, { timeout: 10_000 }).publish(`$KV.svc-${POST}.note`, chunk);
      expect(ack.seq).toBeGreaterThan(0);
    } finally {
      await post.close();
    }
  });
});
