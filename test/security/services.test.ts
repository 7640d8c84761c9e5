import { Objm } from '@nats-io/obj';
import { type IncomingMessage, createLogger, loadCredentials } from '@passerelle/exchange';
import type { NatsServer } from '@passerelle/testing';
import { describe, expect, test } from 'vitest';
import {
  type SecureDeployment,
  connectOperator,
  provisionServiceStores,
} from '../../scripts/secure-exchange.js';
import { createRegionalAuthorityService } from '../../services/regional-authority/src/index.js';
import { feeProof, ictFirstApplication, newDossierId } from '../procedure/harness.js';
import { type Parties, connectSecureExchange, useSecuredScenario, until } from '../support/secure.js';

const PORTAL = 'portal-employers';
const REGION = 'region-bruxelles';
const OE = 'immigration-office';
const POST = 'post-ankara';

describe('secured server: an administration service with its own credentials', { timeout: 90_000 }, () => {
  let deployment: SecureDeployment;
  let server: NatsServer;
  let parties: Parties;
  useSecuredScenario('passerelle-svc-', [PORTAL, REGION, OE, POST], REGION, async (s) => {
    ({ deployment, server, parties } = s);
    // what the operator provisions for services: state buckets, shared buckets, decision documents store
    await provisionServiceStores(deployment, server.url, { participants: [PORTAL, REGION, OE, POST] });
  });

  test('services - the regional authority, provision: false, rules an application complete and stores its admissibility document', async () => {
    const credentials = await loadCredentials(deployment.credentialsFile(REGION));
    const region = await createRegionalAuthorityService({
      participants: [parties.keys.get(REGION)!],
      directory: parties.resolver,
      contracts: parties.contracts,
      servers: credentials.servers,
      connectionFor: (id) => (id === REGION ? credentials.connection : undefined),
      provision: false,
      logger: createLogger('region', { level: 'silent' }),
    });
    const portal = await connectSecureExchange(deployment, parties, PORTAL);
    const received: IncomingMessage[] = [];
    portal.subscribe((m) => {
      received.push(m);
      return Promise.resolve();
    });
    try {
      const dossierId = newDossierId('sec');
      const app = ictFirstApplication({ consularPostId: POST });
      const context = {
        procedure: 'first',
        scheme: 'ict',
        regionId: REGION,
        portalId: PORTAL,
        consularPostId: POST,
        communeId: 'commune-21004',
      } as never;
      await portal.send('application-submitted', app, { dossierId, context });
      await portal.send('fee-proof-submitted', feeProof(), { dossierId, context });
      await until(
        () => received.some((m) => m.meta.type === 'completeness-ruled' && m.meta.dossierId === dossierId),
        30_000,
      );
      const ruling = received.find((m) => m.meta.type === 'completeness-ruled')!;
      expect(ruling.meta.sender).toBe(REGION);
      expect(ruling.payload).toMatchObject({ outcome: 'complete' });
      // the admissibility document it names is in the decisions store the operator provisioned
      const ref = (ruling.payload as { admissibilityDocument: { objectKey: string; size: number } })
        .admissibilityDocument;
      const op = await connectOperator(deployment, server.url);
      try {
        const info = await (await new Objm(op).open('pex-decisions')).info(ref.objectKey);
        expect(info?.size).toBe(ref.size);
      } finally {
        await op.close();
      }
    } finally {
      await portal.close();
      await region.close();
    }
  });
});
