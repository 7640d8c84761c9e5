import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { type Exchange, connectExchange, createLogger } from '@passerelle/exchange';
import { IdempotencyStore, Outbox } from '@passerelle/exchange/internal';
import { inboxPrefixOf } from '@passerelle/operator';
import { EXCHANGE_API_PREFIX } from '@passerelle/operator/internal';
import { type NatsCluster, type NatsServer, startNatsCluster, startNatsServer } from '@passerelle/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import {
  type SecureDeployment,
  includeSecureConf,
  prepareSecureDeployment,
  provisionSecure,
} from '../../scripts/secure-exchange.js';
import { type LinkProxy, startLinkProxy } from '../support/link-proxy.js';
import { type Parties, example, makeParties } from '../support/secure.js';

const COMMUNE = 'commune-21004';
const OE = 'immigration-office';
/** Messages each way while the commune's leaf node is cut off from the hub. */
const EACH_WAY = 20;

/** The hub's leaf node listener: mutual TLS with the Passerelle CA, a random port on loopback. */
const LEAF_LISTENER = `
leafnodes {
  host: "127.0.0.1"
  port: -1
  tls { cert_file: $PEX_TLS_CERT, key_file: $PEX_TLS_KEY, ca_file: $PEX_TLS_CA, verify: true, timeout: 5 }
}
`;

/** The leaf node listener port a hub node chose (its `/varz`). */
async function leafPortOf(server: NatsServer): Promise<number> {
  const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as { leaf?: { port?: number } };
  if (!varz.leaf?.port) throw new Error(`${server.serverName} has no leaf node listener`);
  return varz.leaf.port;
}

/** Number of leaf node links a server holds (its `/leafz`). */
async function leafLinks(server: NatsServer): Promise<number> {
  const r = (await (await fetch(`${server.monitorUrl}/leafz`)).json()) as { leafnodes?: number };
  return r.leafnodes ?? 0;
}

describe(
  'leaf nodes: each administration on its own server, linked to a 3-node hub',
  { timeout: 240_000 },
  () => {
    const home = mkdtempSync(join(tmpdir(), 'passerelle-leaf-'));
    let deployment: SecureDeployment;
    let hub: NatsCluster;
    let parties: Parties;
    const proxies = new Map<string, LinkProxy>();
    const leaves = new Map<string, NatsServer>();

    /**
     * A leaf node of `participant`: its local clients reach its account on the hub through its credentials
     * (the contract's subjects, EXCHANGE's API under its prefix); its own buckets live in the leaf's own
     * JetStream, on its premises, reachable while the link is down (a leaf node and its hub never share
     * `$JS.API`: nats-server denies it across the link).
     */
    async function startLeaf(participant: string, proxy: LinkProxy): Promise<NatsServer> {
      const tls = deployment.tlsDir;
      const leaf = await startNatsServer({
        serverName: `leaf-${participant}`,
        extraConfig: `
leafnodes {
  reconnect: "250ms"
  remotes: [{
    urls: ["tls://127.0.0.1:${proxy.port}"]
    credentials: ${JSON.stringify(deployment.credsFile(participant))}
    tls {
      ca_file: ${JSON.stringify(join(tls, 'ca.pem'))}
      cert_file: ${JSON.stringify(join(tls, `client-${participant}.pem`))}
      key_file: ${JSON.stringify(join(tls, `client-${participant}.key`))}
    }
  }]
}
`,
      });
      const local = await connect({ servers: leaf.url });
      try {
        await IdempotencyStore.open(local, participant, { owner: 'provisioning' });
        await Outbox.open(local, participant);
      } finally {
        await local.close();
      }
      return leaf;
    }

    beforeAll(async () => {
      deployment = await prepareSecureDeployment({ dir: join(home, 'secure') });
      hub = await startNatsCluster({
        extraConfig: includeSecureConf() + LEAF_LISTENER,
        env: deployment.serverEnv,
        nodeEnv: (serverName) => deployment.serverEnvFor(serverName),
        clientOptions: await deployment.operator(),
      });
      await deployment.writeCredentials(hub.urls);
      await provisionSecure(deployment, hub.urls, { replicas: 3, participants: [COMMUNE, OE] });
      parties = await makeParties([COMMUNE, OE]);
      // the commune's leaf links to the first hub node, the office's to the second
      for (const [i, id] of [COMMUNE, OE].entries()) {
        const proxy = await startLinkProxy(await leafPortOf(hub.servers[i]!));
        proxies.set(id, proxy);
        const leaf = await startLeaf(id, proxy);
        leaves.set(id, leaf);
        await vi.waitUntil(async () => (await leafLinks(leaf)) === 1, { timeout: 20_000 });
      }
    }, 180_000);
    afterAll(async () => {
      for (const leaf of leaves.values()) await leaf.stop();
      for (const proxy of proxies.values()) await proxy.close();
      await hub?.stop();
      rmSync(home, { recursive: true, force: true });
    });
    beforeEach((ctx) => {
      ctx.onTestFailed(() => {
        for (const s of [...hub.servers, ...leaves.values()])
          console.error(`--- ${s.serverName}\n${s.log().slice(-3000)}`);
      });
    });

    /** A participant's exchange on its own leaf node: no credentials locally, its account's inbox prefix. */
    function openOnLeaf(participant: string): Promise<Exchange> {
      return connectExchange({
        participant,
        keys: parties.keys.get(participant)!,
        directory: parties.resolver,
        contracts: parties.contracts,
        servers: leaves.get(participant)!.url,
        connection: {
          inboxPrefix: inboxPrefixOf(participant),
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
        },
        exchangeApiPrefix: EXCHANGE_API_PREFIX,
        provision: false,
        logger: createLogger(participant, { level: 'silent' }),
      });
    }

    test('leaf - a leaf link cut while both sides send, then restored: every message delivered exactly once', async () => {
      const commune = await openOnLeaf(COMMUNE);
      const office = await openOnLeaf(OE);
      const atOffice = new Map<string, number>();
      const atCommune = new Map<string, number>();
      office.subscribe({
        'arrival-registered': async (m) => {
          atOffice.set(m.meta.id, (atOffice.get(m.meta.id) ?? 0) + 1);
        },
      });
      commune.subscribe({
        'stay-ended': async (m) => {
          atCommune.set(m.meta.id, (atCommune.get(m.meta.id) ?? 0) + 1);
        },
      });
      try {
        // through both leaves and the hub, before the cut
        const [warm] = await commune.send('arrival-registered', example('arrival-registered'), {
          to: OE,
          dossierId: 'dossier-leaf-warm',
        });
        await commune.awaitReceipt(warm!.id, 15_000);

        // the commune's leaf loses its link to the hub; its server and its local clients stay up
        const leaf = leaves.get(COMMUNE)!;
        proxies.get(COMMUNE)!.cut();
        await vi.waitUntil(async () => (await leafLinks(leaf)) === 0, { timeout: 10_000 });

        const sends: Promise<string>[] = [];
        let communeConfirmed = 0;
        for (let i = 0; i < EACH_WAY; i++) {
          const dossierId = `dossier-leaf-${String(i).padStart(3, '0')}`;
          sends.push(
            commune
              .send('arrival-registered', example('arrival-registered'), { to: OE, dossierId })
              .then(([s]) => {
                communeConfirmed++;
                return `commune:${s!.id}`;
              }),
          );
          sends.push(
            office
              .send('stay-ended', example('stay-ended'), { to: COMMUNE, dossierId })
              .then(([s]) => `office:${s!.id}`),
          );
        }
        // the office's messages are stored on the hub while the commune cannot pull them
        const fromOffice = (await Promise.all(sends.filter((_, i) => i % 2 === 1))).map((s) =>
          s.slice('office:'.length),
        );
        expect(atCommune.size).toBe(0);
        expect(await leafLinks(leaf)).toBe(0);
        // nothing the commune sent could be confirmed while its leaf had no link: its sends wait and retry
        expect(communeConfirmed).toBe(0);

        proxies.get(COMMUNE)!.restore();
        await vi.waitUntil(async () => (await leafLinks(leaf)) === 1, { timeout: 20_000 });
        const fromCommune = (await Promise.all(sends.filter((_, i) => i % 2 === 0))).map((s) =>
          s.slice('commune:'.length),
        );

        await vi.waitUntil(() => fromOffice.every((id) => atCommune.has(id)), { timeout: 60_000 });
        await vi.waitUntil(() => fromCommune.every((id) => atOffice.has(id)), { timeout: 60_000 });
        for (const id of fromOffice) expect(atCommune.get(id)).toBe(1);
        for (const id of fromCommune) expect(atOffice.get(id)).toBe(1);
        expect(atCommune.size).toBe(EACH_WAY);
        expect(atOffice.size).toBe(EACH_WAY + 1);
      } finally {
        await commune.close();
        await office.close();
      }
    });
  },
);
