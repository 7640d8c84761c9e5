/**
 * `pnpm bench backoffice [--dossiers N] [--worklist-reads N] [--dossier-reads N]`: the back office's reads
 * over HTTP with N open dossiers at one region (default 10 000). One real dossier is filed on the exchange
 * and reaches the region's worklist (application and fee proof handled, `decide-work` owed); its record
 * (state and journal, sealed) is copied under N − 1 other dossier ids. Then, alternating in the same run:
 * - the worklist (`GET /v1/workItems?pageSize=20`: every record read, decrypted, its owed actions ranked)
 *   against a bare fastify route that reads the same bucket's records (keys, then the raw values, in the
 *   same batches) and answers their count;
 * - a dossier (`GET /v1/participants/…/dossiers/…`: state, journal decrypted, documents, decisions) against
 *   a bare fastify route answering the same record's raw value.
 * Both with a bearer token, over loopback HTTP, sequential requests.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kvm } from '@nats-io/kv';
import { loadContracts } from '@passerelle/contracts';
import { generateStorageKeyring } from '@passerelle/directory';
import { createStaticResolver, generateParticipantKeys, publicKeysOf } from '@passerelle/envelope';
import { connectExchange, connectNats, createLogger } from '@passerelle/exchange';
import { createRegionalAuthorityService } from '@passerelle/regional-authority';
import { RECORD_PURPOSES, StateCipher, backOfficeDoor, createBackOffice } from '@passerelle/service-host';
import { freeLoopbackPort, startNatsServer } from '@passerelle/testing';
import fastify from 'fastify';
import { benchArgs, machineLine, percentile } from './_util.js';

const {
  dossiers: DOSSIERS,
  'worklist-reads': WORKLIST_READS,
  'dossier-reads': DOSSIER_READS,
} = benchArgs({ dossiers: 10_000, 'worklist-reads': 30, 'dossier-reads': 1000 });
const BATCH = 32;
const root = fileURLToPath(new URL('../..', import.meta.url));
const REGION = 'region-bruxelles';
const PORTAL = 'portal-bench';
const day = (offset: number): string => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const silent = (name: string) => createLogger(name, { level: 'silent' });

const server = await startNatsServer();
const closers: (() => Promise<unknown>)[] = [];
const rows: string[] = [];
try {
  const ids = [PORTAL, REGION, 'immigration-office'];
  const keys = new Map(
    await Promise.all(ids.map(async (id) => [id, await generateParticipantKeys(id)] as const)),
  );
  const ring = generateStorageKeyring(REGION);
  const directory = createStaticResolver([...keys.values()].map(publicKeysOf));
  const contracts = await loadContracts({ root });
  const region = await createRegionalAuthorityService({
    participants: [keys.get(REGION)!],
    storageKeys: [ring],
    directory,
    contracts,
    servers: server.url,
    // the documents are placeholders here: the bench measures the back office's reads, not the uploads
    verifyDocuments: false,
    logger: silent('region'),
  });
  closers.push(() => region.close());
  const portal = await connectExchange({
    participant: PORTAL,
    keys: keys.get(PORTAL)!,
    directory,
    contracts,
    servers: server.url,
    logger: silent(PORTAL),
  });
  closers.push(() => portal.close());

  // one real dossier, filed and owed to the region's case officer
  const doc = (n: number) => ({
    sha256: n.toString(16).padStart(64, '0'),
    mediaType: 'application/pdf',
    size: 1000 + n,
    objectKey: `d1/bench-${n}/key`,
  });
  const seed = 'D-bench-seed-0000';
  const context = {
    procedure: 'first',
    scheme: 'ict',
    regionId: REGION,
    portalId: PORTAL,
    consularPostId: 'post-lagos',
  };
  await portal.send(
    'application-submitted',
    {
      category: 'ict',
      procedure: 'first',
      regionId: REGION,
      workplaceCommuneId: 'commune-21004',
      consularPostId: 'post-lagos',
      ict: { scheme: 'transfer', role: 'manager', priorIctStayInLast3Years: false },
      applicant: {
        familyName: 'Bench',
        givenNames: 'Case',
        birthDate: '1988-04-12',
        nationality: 'NGA',
        passportNumber: 'B00000001',
        email: 'bench@example.org',
        passportExpiresOn: '2040-12-31',
      },
      employer: { name: 'Bench SA', enterpriseNumber: '0403170701', email: 'hr@example.com' },
      requestedPeriod: { from: day(40), to: day(400) },
      documents: {
        passportCopy: doc(1),
        employmentContract: doc(2),
        healthInsurance: { form: 'employer-undertaking', document: doc(3), coversUntil: '2040-12-31' },
        medicalCertificate: doc(4),
        criminalRecord: doc(5),
      },
      submittedAt: new Date().toISOString(),
    },
    { dossierId: seed, context: context as never },
  );
  await portal.send(
    'fee-proof-submitted',
    {
      proof: doc(6),
      amount: { amountCents: 35_800, currency: 'EUR' },
      paidOn: day(0),
      paymentReference: 'BENCH-1',
      submittedAt: new Date().toISOString(),
    },
    { dossierId: seed, context: context as never },
  );
  for (let i = 0; ; i++) {
    if ((await region.dossier(REGION, seed))?.phase === 'admissible') break;
    if (i > 600) throw new Error('the seed dossier did not reach the worklist');
    await new Promise((r) => setTimeout(r, 50));
  }

  // its sealed record copied under the other dossier ids, each sealed for its own key
  const nc = await connectNats({ servers: server.url });
  closers.push(() => nc.close());
  const kv = await new Kvm(nc).open('svc-regional-authority');
  const cipher = StateCipher.fromKeyring(ring, RECORD_PURPOSES.dossiers);
  const seedKey = `${REGION}.${seed}`;
  const record = cipher.open<Record<string, unknown>>(
    new TextDecoder().decode((await kv.get(seedKey))!.value),
    seedKey,
  )!;
  const dossierIds = Array.from(
    { length: DOSSIERS - 1 },
    (_, i) => `D-bench-${String(i + 1).padStart(6, '0')}`,
  );
  for (let i = 0; i < dossierIds.length; i += 256) {
    await Promise.all(
      dossierIds
        .slice(i, i + 256)
        .map((id) => kv.put(`${REGION}.${id}`, cipher.seal(record, `${REGION}.${id}`))),
    );
  }
  dossierIds.push(seed);

  // the back office, and a bare fastify app reading the same bucket
  const boPort = await freeLoopbackPort();
  const bo = await createBackOffice(region, {
    contracts,
    secret: randomBytes(32),
    publicUrl: `http://127.0.0.1:${boPort}`,
  });
  closers.unshift(() => bo.close());
  await bo.listen({ host: '127.0.0.1', port: boPort });
  const door = backOfficeDoor(bo);
  const { secret } = await door.clients.create({
    id: 'bench-reader',
    scopes: ['read'],
    createdBy: 'bootstrap',
  });
  const { token } = await door.access.issueToken('bench-reader', secret, undefined);
  const bare = fastify({ logger: false });
  bare.get('/worklist', async () => {
    const all: string[] = [];
    for await (const k of await kv.keys(`${REGION}.>`)) all.push(k);
    let count = 0;
    for (let i = 0; i < all.length; i += BATCH) {
      const entries = await Promise.all(all.slice(i, i + BATCH).map((k) => kv.get(k)));
      count += entries.filter((e) => e && e.value.length > 0).length;
    }
    return { count };
  });
  bare.get<{ Params: { id: string } }>('/dossiers/:id', async (request, reply) => {
    const entry = await kv.get(`${REGION}.${request.params.id}`);
    return reply.type('application/octet-stream').send(Buffer.from(entry!.value));
  });
  closers.unshift(() => bare.close());
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
  const boUrl = `http://127.0.0.1:${boPort}`;
  const headers = { authorization: `Bearer ${token}` };

  const timed = async (url: string): Promise<number> => {
    const t0 = performance.now();
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
    return performance.now() - t0;
  };
  // a check that the worklist really lists every dossier, and a warm-up of both
  const first = (await (await fetch(`${boUrl}/v1/workItems?pageSize=100`, { headers })).json()) as {
    items: unknown[];
  };
  if (first.items.length !== 100) throw new Error('the worklist does not list the dossiers');
  for (let i = 0; i < 3; i++) {
    await timed(`${boUrl}/v1/workItems?pageSize=20`);
    await timed(`${bareUrl}/worklist`);
  }
  const measure = async (reads: number, door: (i: number) => string, baseline: (i: number) => string) => {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < reads; i++) {
      a.push(await timed(door(i)));
      b.push(await timed(baseline(i)));
    }
    return { door: a, bare: b };
  };
  const worklist = await measure(
    WORKLIST_READS,
    () => `${boUrl}/v1/workItems?pageSize=20`,
    () => `${bareUrl}/worklist`,
  );
  const pick = (i: number): string => dossierIds[(i * 7919) % dossierIds.length]!;
  const dossier = await measure(
    DOSSIER_READS,
    (i) => `${boUrl}/v1/participants/${REGION}/dossiers/${pick(i)}`,
    (i) => `${bareUrl}/dossiers/${pick(i)}`,
  );
  const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
  for (const [name, reads, r] of [
    ['worklist (page of 20)', WORKLIST_READS, worklist],
    ['dossier', DOSSIER_READS, dossier],
  ] as const) {
    const p50 = percentile(r.door, 50);
    const p99 = percentile(r.door, 99);
    const b50 = percentile(r.bare, 50);
    const b99 = percentile(r.bare, 99);
    rows.push(
      `| ${name} | ${reads} | ${ms(b50)} ms | ${ms(b99)} ms | ${ms(p50)} ms | ${ms(p99)} ms | ${(p50 / b50).toFixed(2)}× | ${(p99 / b99).toFixed(2)}× |`,
    );
  }
} finally {
  for (const close of closers) await close().catch(() => undefined);
  await server.stop();
}

console.log(
  `### back office reads (${DOSSIERS} open dossiers at one region; ${await machineLine()}; nats-server ${server.version})\n`,
);
console.log(
  '| read | requests | bare p50 | bare p99 | back office p50 | back office p99 | p50 ratio | p99 ratio |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
