import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { loadCredentials } from '@passerelle/exchange';
import type { NatsServer } from '@passerelle/testing';
import { describe, expect, test } from 'vitest';
import { type SecureDeployment, prepareSecureDeployment } from '../../scripts/secure-exchange.js';
import { type Parties, connectSecureExchange, example, useSecuredScenario } from '../support/secure.js';
import { OE, POST } from '../support/participants.js';

/** A plain connection with a participant's credentials file, without reconnection. */
async function connectAs(deployment: SecureDeployment, participant: string): Promise<NatsConnection> {
  const c = await loadCredentials(deployment.credentialsFile(participant));
  return connect({ ...c.connection, servers: c.servers, reconnect: false, timeout: 5_000 });
}

describe('secured server: revoking a participant user', { timeout: 120_000 }, () => {
  let deployment: SecureDeployment;
  let server: NatsServer;
  let parties: Parties;
  useSecuredScenario('passerelle-revoke-', [POST, OE], OE, (s) => {
    ({ deployment, server, parties } = s);
  });

  test('revocation - a revoked user is cut off and refused, others go on, a new user key of the same participant connects', async () => {
    // before: the post exchanges with the office
    const post = await connectSecureExchange(deployment, parties, POST);
    const office = await connectSecureExchange(deployment, parties, OE);
    office.subscribe({ 'visa-issued': async () => undefined });
    const [first] = await post.send('visa-issued', example('visa-issued'), {
      to: OE,
      dossierId: 'dossier-rev-0001',
    });
    await post.awaitReceipt(first!.id, 15_000);
    await post.close();
    const held = await connectAs(deployment, POST);
    const heldClosed = held.closed();
    try {
      // the operator revokes the post's user and pushes its account JWT to the running server
      await deployment.revokeUser(POST, server.url);

      // the server closes the revoked user's open connection, and refuses it from then on
      const why = await heldClosed;
      expect(String(why)).toMatch(/revoked|authorization/i);
      await expect(connectAs(deployment, POST)).rejects.toThrow(/authorization violation/i);

      // the other participant is not affected: its exchange still reads its own account and EXCHANGE
      expect(office.nc.isClosed()).toBe(false);
      const own = await (await jetstreamManager(office.nc)).getAccountInfo();
      expect(own.streams).toBeGreaterThan(0);
      expect(await office.readiness()).toMatchObject({ ready: true });

      // rotation: a new user key for the post, signed by its account, connects; the old one stays refused
      const oldCreds = readFileSync(deployment.credsFile(POST), 'utf8');
      rmSync(join(deployment.dir, 'keys', `user-${POST}.nk`));
      const renewed = await prepareSecureDeployment({ dir: deployment.dir, tlsDir: deployment.tlsDir });
      await renewed.writeCredentials([server.url]);
      expect(readFileSync(renewed.credsFile(POST), 'utf8')).not.toBe(oldCreds);
      const fresh = await connectAs(renewed, POST);
      await fresh.flush();
      await fresh.close();
      // the account JWT that prepare writes for the next start still revokes the old user
      const accountJwt = readFileSync(
        join(deployment.dir, 'resolver', `${deployment.accountKeys.get(POST)!}.jwt`),
        'utf8',
      );
      const claims = JSON.parse(Buffer.from(accountJwt.split('.')[1]!, 'base64url').toString('utf8')) as {
        nats: { revocations?: Record<string, number> };
      };
      const oldUser = /-----BEGIN NATS USER JWT-----\s+(\S+)/.exec(oldCreds)![1]!;
      const oldUserKey = (
        JSON.parse(Buffer.from(oldUser.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string }
      ).sub;
      expect(Object.keys(claims.nats.revocations ?? {})).toEqual([oldUserKey]);
    } finally {
      if (!held.isClosed()) await held.close();
      await office.close();
    }
  });
});
