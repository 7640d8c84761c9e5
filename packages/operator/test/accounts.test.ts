import { decode } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { loadContracts } from '@passerelle/contracts';
import { describe, expect, test } from 'vitest';
import { accountPlan, encodeParticipantAccount, encodeUserJwt, readDeploymentFile } from '../src/index.js';
import {
  CREDENTIALS_VALIDITY_DAYS,
  KIND_STORAGE,
  DIRECTORY_MIRROR_BYTES,
  ParticipantNatsLimits,
} from '../src/internal.js';

const root = new URL('../../../', import.meta.url).pathname;

/** The account plan of the repository's own deployment file, as `passerelle` would build it. */
async function deploymentPlan() {
  const deployment = readDeploymentFile(`${root}infra/participants.json`);
  const plan = accountPlan(
    await loadContracts({ root }),
    deployment.participants,
    deployment.serviceBuckets,
    deployment.objectStores,
    deployment.objectStoresRead,
  );
  return { deployment, plan };
}

describe('account JWTs', () => {
  test('accounts - a participant account JWT carries its limits: connections, subscriptions, payload, consumers, storage', async () => {
    const { deployment, plan } = await deploymentPlan();
    const accounts = new Map(deployment.participants.map((id) => [id, createAccount()]));
    const keys = {
      operator: createOperator(),
      system: createAccount(),
      exchange: createAccount(),
      stores: createAccount(),
      accounts,
    };
    const commune = plan.participants.find((p) => p.id === 'commune-21004')!;
    const jwt = await encodeParticipantAccount(commune, keys);
    const claims = decode<{ limits: Record<string, unknown> }>(jwt);
    expect(claims.iss).toBe(keys.operator.getPublicKey());
    expect(claims.nats.limits).toMatchObject({
      conn: ParticipantNatsLimits.conn,
      subs: ParticipantNatsLimits.subs,
      payload: ParticipantNatsLimits.payload,
      consumer: commune.jetstreamLimits!.consumer,
      disk_storage: commune.jetstreamLimits!.disk_storage,
      mem_storage: 0,
    });
  });

  test('accounts - JetStream limits are sized per kind from the buckets and stores the deployment gives it', async () => {
    const { plan } = await deploymentPlan();
    const of = (id: string) => plan.participants.find((p) => p.id === id)!;
    const commune = of('commune-21004');
    // idempotency, outbox, its own and its kind's two service buckets; the decisions store; the mirror
    expect(commune.buckets).toHaveLength(5);
    expect(commune.jetstreamLimits!.disk_storage).toBe(
      5 * KIND_STORAGE.commune.bucketBytes + KIND_STORAGE.commune.objectStoreBytes + DIRECTORY_MIRROR_BYTES,
    );
    // a thousand communes and posts fit in well under 50 GiB; a national body gets far more than a commune
    expect(1000 * commune.jetstreamLimits!.disk_storage).toBeLessThan(50 * 2 ** 30);
    expect(of('immigration-office').jetstreamLimits!.disk_storage).toBeGreaterThan(
      20 * commune.jetstreamLimits!.disk_storage,
    );
    expect(of('auditor').jetstreamLimits).toBeUndefined();
  });

  test('accounts - a user JWT expires by default, and is held to the per-connection limits', async () => {
    const now = new Date('2027-01-01T00:00:00Z');
    const jwt = await encodeUserJwt(
      'commune-21004',
      createUser(),
      createAccount(),
      { pub: { allow: ['pex.msg.>'], deny: [] }, sub: { allow: ['_INBOX_commune-21004.>'] } },
      { now },
    );
    const claims = decode<{ subs: number; payload: number }>(jwt);
    expect(claims.exp).toBe(Math.floor(now.getTime() / 1000) + CREDENTIALS_VALIDITY_DAYS * 86_400);
    expect(claims.nats).toMatchObject({
      subs: ParticipantNatsLimits.userSubs,
      payload: ParticipantNatsLimits.payload,
    });
  });
});
