import { describe, expect, test } from 'vitest';
import { Limits } from '../../scripts/gen-infra.js';
import {
  clientTls,
  connectSecureExchange,
  credsOf,
  example,
  rawSession,
  useSecuredScenario,
} from '../support/secure.js';
import { OE, PORTAL, POST, REGION } from '../support/participants.js';

const FLOODER = POST;
const PARTIES = [FLOODER, OE, REGION, PORTAL];
const FLOOD_SUBJECT = `pex.msg.visa-issued.${FLOODER}.${OE}`;

describe('secured server: flooding and oversized messages', { timeout: 90_000 }, () => {
  // the client connection is the flooder's
  const scenario = useSecuredScenario('passerelle-flood-', PARTIES, FLOODER);

  test('flood - an oversized message is refused with a clear error; a client ignoring the limit is cut off alone', async () => {
    const { deployment, server, client: flooder } = scenario;
    expect(flooder.info?.max_payload).toBe(Limits.maxPayload);
    expect(() => flooder.publish(FLOOD_SUBJECT, new Uint8Array(Limits.maxPayload + 1))).toThrow(
      /max_payload/i,
    );
    expect(flooder.isClosed()).toBe(false);

    // A client that sends it anyway gets the server's verdict and loses its connection.
    const raw = await rawSession(server.port, {
      tls: clientTls(deployment, FLOODER),
      seed: credsOf(deployment, FLOODER),
    });
    await raw.until(/PONG\r\n/);
    raw.send(`PUB ${FLOOD_SUBJECT} ${Limits.maxPayload + 1}\r\n`);
    expect(await raw.until(/-ERR 'Maximum Payload Violation'/)).toContain('Maximum Payload Violation');
    await raw.closed;
  });

  test('flood - subscriptions beyond the per-connection limit are refused with a clear error', async () => {
    const { deployment, server } = scenario;
    const raw = await rawSession(server.port, {
      tls: clientTls(deployment, FLOODER),
      seed: credsOf(deployment, FLOODER),
    });
    await raw.until(/PONG\r\n/);
    let subs = '';
    for (let i = 1; i <= Limits.maxSubscriptions + 1; i++)
      subs += `SUB _INBOX_${FLOODER}.flood.${i} ${i}\r\n`;
    raw.send(subs + 'PING\r\n');
    expect(await raw.until(/-ERR 'Maximum Subscriptions Exceeded'/i)).toMatch(
      /Maximum Subscriptions Exceeded/i,
    );
    raw.close();
  });

  test('flood - while one participant floods the exchange, the others are still served with receipts', async () => {
    const { deployment, parties, client: flooder } = scenario;
    const region = await connectSecureExchange(deployment, parties, REGION);
    const portal = await connectSecureExchange(deployment, parties, PORTAL);
    try {
      const handled: string[] = [];
      portal.subscribe({ 'completeness-ruled': async (m) => void handled.push(m.meta.id) });
      let flooding = true;
      let flooded = 0;
      const chunk = new Uint8Array(8 * 1024);
      const flood = (async () => {
        while (flooding) {
          for (let i = 0; i < 200; i++) flooder.publish(FLOOD_SUBJECT, chunk);
          flooded += 200;
          await flooder.flush();
        }
      })();
      // Each send starts only once the flood has gone on further (at least 1 000 more messages since the
      // last one), so every message below travels while the flood is in progress, however fast it is served.
      let floodOver = false;
      const floodEnded = flood
        .finally(() => (floodOver = true))
        .then(() => {
          throw new Error('the flood ended before the messages were sent');
        });
      const floodedBeyond = async (count: number): Promise<void> => {
        const reached = (async () => {
          while (flooded < count && !floodOver) await new Promise((r) => setTimeout(r, 5));
        })();
        await Promise.race([reached, floodEnded]);
      };
      const sentIds: string[] = [];
      try {
        for (let i = 0; i < 5; i++) {
          await floodedBeyond(flooded + 1_000);
          const [sent] = await region.send('completeness-ruled', example('completeness-ruled'), {
            to: PORTAL,
            dossierId: `dossier-flood-${i}`,
          });
          sentIds.push(sent!.id);
          await region.awaitReceipt(sent!.id, 20_000);
        }
      } finally {
        flooding = false;
        await flood;
      }
      expect(handled.sort()).toEqual(sentIds.sort());
      expect(flooder.isClosed()).toBe(false);
    } finally {
      await region.close();
      await portal.close();
    }
  });
});
