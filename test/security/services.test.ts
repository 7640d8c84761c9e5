import { jetstream } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { generateStorageKeyring } from '@passerelle/directory';
import {
  DOCUMENTS_BUCKET,
  DirectObjectReader,
  type DocumentRef,
  DocumentStore,
  readDocument,
} from '@passerelle/documents';
import { DECISIONS_BUCKET } from '@passerelle/documents/internal';
import { type Exchange, type IncomingMessage, createLogger, loadCredentials } from '@passerelle/exchange';
import { ownerApiPrefix } from '@passerelle/exchange/internal';
import type { ApplicationSubmitted } from '@passerelle/procedure';
import type { NatsServer } from '@passerelle/testing';
import { describe, expect, test, vi } from 'vitest';
import {
  type SecureDeployment,
  connectAdmin,
  provisionServiceStores,
} from '../../scripts/secure-exchange.js';
import {
  type RegionalAuthorityService,
  createRegionalAuthorityService,
} from '../../services/regional-authority/src/index.js';
import { feeProof, ictFirstApplication, newDossierId } from '../procedure/harness.js';
import { type Parties, connectSecureExchange, useSecuredScenario } from '../support/secure.js';
import { OE, PORTAL, POST, REGION } from '../support/participants.js';

/** Every message `exchange` receives from now on, in order. */
function collect(exchange: Exchange): IncomingMessage[] {
  const received: IncomingMessage[] = [];
  exchange.subscribe((m) => {
    received.push(m);
    return Promise.resolve();
  });
  return received;
}

describe('secured server: an administration service with its own credentials', { timeout: 90_000 }, () => {
  let deployment: SecureDeployment;
  let server: NatsServer;
  let parties: Parties;
  useSecuredScenario('passerelle-svc-', [PORTAL, REGION, OE, POST], REGION, async (s) => {
    ({ deployment, server, parties } = s);
    // what the operator provisions for services: state buckets, shared buckets, decision documents store
    await provisionServiceStores(deployment, server.url, { participants: [PORTAL, REGION, OE, POST] });
  });

  const regionStorage = generateStorageKeyring(REGION);

  /** The regional authority on its own credentials, provision: false, reading the documents it is sent. */
  async function startRegion(): Promise<RegionalAuthorityService> {
    const credentials = await loadCredentials(deployment.credentialsFile(REGION));
    return createRegionalAuthorityService({
      participants: [parties.keys.get(REGION)!],
      storageKeys: [regionStorage],
      directory: parties.resolver,
      contracts: parties.contracts,
      servers: credentials.servers,
      connectionFor: (id) => (id === REGION ? credentials.connection : undefined),
      accountsFor: (id) => (id === REGION ? credentials.accounts : undefined),
      provision: false,
      logger: createLogger('region', { level: 'silent' }),
    });
  }

  /** Uploads a document to pex-documents as the portal does; its reference. */
  async function upload(portal: Exchange, what: string): Promise<DocumentRef> {
    const uploads = await DocumentStore.open(portal.nc, { create: false });
    return uploads.put({
      owner: PORTAL,
      mediaType: 'application/pdf',
      body: (async function* () {
        yield Buffer.from(`%PDF-1.7 ${what} of the applicant\n`);
      })(),
      maxBytes: 1024 * 1024,
    });
  }

  /** An application whose every document slot names a real upload to pex-documents, as the portal makes it. */
  async function applicationWithUploads(portal: Exchange): Promise<ApplicationSubmitted> {
    const app = ictFirstApplication({ consularPostId: POST });
    const documents: Record<string, unknown> = {};
    for (const [slot, value] of Object.entries(app.documents)) {
      documents[slot] =
        value && typeof value === 'object' && 'form' in value
          ? { ...value, document: await upload(portal, slot) }
          : await upload(portal, slot);
    }
    return { ...app, documents };
  }

  /** The dossier context the contract names the recipients from. */
  const context = {
    procedure: 'first',
    scheme: 'ict',
    regionId: REGION,
    portalId: PORTAL,
    consularPostId: POST,
    communeId: 'commune-21004',
  } as never;

  /**
   * The ruling of the region, running on its own credentials, on an application (made by `prepare` as the
   * portal) and its fee proof.
   */
  async function rulingOn(
    prepare: (portal: Exchange) => Promise<ApplicationSubmitted>,
  ): Promise<IncomingMessage> {
    const region = await startRegion();
    const portal = await connectSecureExchange(deployment, parties, PORTAL);
    const received = collect(portal);
    try {
      const dossierId = newDossierId('sec');
      await portal.send('application-submitted', await prepare(portal), { dossierId, context });
      // the fee proof too is read back by the region before it counts
      const proof = { ...(feeProof() as object), proof: await upload(portal, 'fee proof') };
      await portal.send('fee-proof-submitted', proof, { dossierId, context });
      const isRuling = (m: IncomingMessage): boolean =>
        m.meta.type === 'completeness-ruled' && m.meta.dossierId === dossierId;
      await vi.waitUntil(() => received.some(isRuling), { timeout: 30_000 });
      return received.find(isRuling)!;
    } finally {
      await portal.close();
      await region.close();
    }
  }

  test('services - the regional authority, provision: false, reads the documents, rules an application complete and stores its admissibility document', async () => {
    // every document the application names is a real upload, which the region reads before counting it
    const ruling = await rulingOn(applicationWithUploads);
    expect(ruling.meta.sender).toBe(REGION);
    expect(ruling.payload).toMatchObject({ outcome: 'complete' });
    // the admissibility document it names is in the decisions store the operator provisioned in the
    // region's own account, encrypted (padded to 1 KiB, plus the AES-GCM tag), under the name its
    // reference's capability gives
    const ref = (ruling.payload as { admissibilityDocument: { objectKey: string; size: number } })
      .admissibilityDocument;
    expect(ref.objectKey).toMatch(/^d1\//);
    const name = ref.objectKey.split('/').slice(0, 2).join('/');
    const admin = await connectAdmin(deployment, REGION, server.url);
    try {
      const info = await (await new Objm(admin).open(DECISIONS_BUCKET)).info(name);
      expect(info?.size).toBe(Math.ceil((ref.size + 4) / 1024) * 1024 + 16);
    } finally {
      await admin.close();
    }
    // and another administration reads it there with the direct gets its account imports, nothing more
    const office = await connectSecureExchange(deployment, parties, OE);
    try {
      const reader = await DirectObjectReader.open(office.nc, DECISIONS_BUCKET, ownerApiPrefix(REGION));
      expect((await reader.info(name))?.size).toBe(Math.ceil((ref.size + 4) / 1024) * 1024 + 16);
    } finally {
      await office.close();
    }
  });

  test('services - a referenced document that does not read back is a missing item in the ruling', async () => {
    const ruling = await rulingOn(async (portal) => {
      const app = await applicationWithUploads(portal);
      // the contract's reference carries another key: the stored document does not decrypt to it
      const contract = app.documents.employmentContract!;
      const otherKey = contract.objectKey.replace(
        /\/[^/]+$/,
        `/${Buffer.alloc(32, 5).toString('base64url')}`,
      );
      return {
        ...app,
        documents: { ...app.documents, employmentContract: { ...contract, objectKey: otherKey } },
      };
    });
    expect(ruling.payload).toMatchObject({ outcome: 'missing-items', missingItems: ['employmentContract'] });
  });

  test('services - an administration reads, with read rights only, the document a payload references; it may not write the store', async () => {
    const portal = await connectSecureExchange(deployment, parties, PORTAL);
    const region = await connectSecureExchange(deployment, parties, REGION);
    const received = collect(region);
    try {
      // the portal uploads the contract to the store the operator provisioned, and names it in the application
      const ref = await upload(portal, 'employment contract');
      const contract = Buffer.from('%PDF-1.7 employment contract of the applicant\n');
      const dossierId = newDossierId('doc');
      const app = ictFirstApplication({ consularPostId: POST });
      const documents = { ...app.documents, employmentContract: ref };
      await portal.send('application-submitted', { ...app, documents }, { dossierId, to: REGION });
      await vi.waitUntil(() => received.some((m) => m.meta.dossierId === dossierId), { timeout: 30_000 });
      const payload = received.find((m) => m.meta.dossierId === dossierId)!.payload as {
        documents: { employmentContract: typeof ref };
      };

      // the region, on its own credentials, reads it from the reference alone, with direct gets on the
      // portal's store (the uploads live in the portal's account)
      const reader = await DirectObjectReader.open(region.nc, DOCUMENTS_BUCKET, ownerApiPrefix(PORTAL));
      expect(
        Buffer.from(await readDocument(payload.documents.employmentContract, reader)).equals(contract),
      ).toBe(true);
      // and may not write to it: its own account holds no uploads store, and an Object Store client aimed
      // at the portal's through the imported prefix can neither open it nor put a chunk there
      await expect(DocumentStore.open(region.nc, { create: false })).rejects.toMatchObject({
        code: 'ERR_NOT_PROVISIONED',
      });
      const admin = await connectAdmin(deployment, PORTAL, server.url);
      try {
        const bucket = await new Objm(admin).open(DOCUMENTS_BUCKET);
        const before = await bucket.status();
        const foreign = new Objm(
          jetstream(region.nc, { apiPrefix: ownerApiPrefix(PORTAL), checkAPI: false, timeout: 2_000 }),
        );
        await expect(foreign.open(DOCUMENTS_BUCKET)).rejects.toThrow(/permissions violation/i);
        const refused = await (
          await foreign.open(DOCUMENTS_BUCKET, false)
        )
          .putBlob({ name: 'not-the-regions' }, Buffer.from("%PDF-1.7 not the region's to store"))
          .then(
            () => undefined,
            (e: unknown) => e as Error,
          );
        expect(refused?.message).toMatch(/permissions violation/i);
        // a chunk published on the store's subject stays in the region's account, where no stream takes it
        await expect(
          jetstream(region.nc, { timeout: 2_000 }).publish(
            `$O.${DOCUMENTS_BUCKET}.C.not-the-regions`,
            Buffer.from('%PDF-1.7 chunk'),
          ),
        ).rejects.toThrow();
        const after = await bucket.status();
        expect(after.size).toBe(before.size);
        expect(after.streamInfo.state.last_seq).toBe(before.streamInfo.state.last_seq);
      } finally {
        await admin.close();
      }
    } finally {
      await region.close();
      await portal.close();
    }
  });
});
