import { decode } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { loadContracts } from '@passerelle/contracts';
import { describe, expect, test } from 'vitest';
import { accountPlan, encodeParticipantAccount, encodeUserJwt, readDeploymentFile } from '../src/index.js';
import {
  CREDENTIALS_VALIDITY_DAYS,
  ParticipantJetStreamLimits,
  ParticipantNatsLimits,
} from '../src/internal.js';

const root = new URL('../../../', import.meta.url).pathname;

describe('account JWTs', () => {
  test('accounts - a participant account JWT carries its limits: connections, subscriptions, payload, consumers, storage', async () => {
    const deployment = readDeploymentFile(`${root}infra/participants.json`);
    const plan = accountPlan(
      await loadContracts({ root }),
      deployment.participants,
      deployment.serviceBuckets,
      deployment.objectStores,
      deployment.objectStoresRead,
    );
    const accounts = new Map(deployment.participants.map((id) => [id, createAccount()]));
    const keys = { operator: createOperator(), system: createAccount(), exchange: createAccount(), accounts };
    const commune = plan.participants.find((p) => p.id === 'commune-21004')!;
    const jwt = await encodeParticipantAccount(commune, keys);
    const claims = decode<{ limits: Record<string, unknown> }>(jwt);
    expect(claims.iss).toBe(keys.operator.getPublicKey());
    expect(claims.nats.limits).toMatchObject({
      conn: ParticipantNatsLimits.conn,
      subs: ParticipantNatsLimits.subs,
      payload: ParticipantNatsLimits.payload,
      consumer: ParticipantJetStreamLimits.consumer,
      disk_storage: ParticipantJetStreamLimits.disk_storage,
      mem_storage: ParticipantJetStreamLimits.mem_storage,
    });
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
