/**
 * `pnpm bench audit [--count N] [--every C] [--segment S] [--threads T]`: the audit ledger over a long
 * history, on a real nats-server and a local RFC 3161 TSA (OpenSSL). The bench writes N envelope entries (real
 * ES256 seals, signed on worker threads) and a checkpoint every C straight into LEDGER, then measures:
 * archiving them into sealed, timestamped segments of S entries (streamed from the server); verifying the
 * archive and the live tail as one ledger (`verifyArchive`: every hash, link, Merkle root, seal, checkpoint,
 * segment seal and token) against a floor of bare ES256 verifications; and the auditor service starting over
 * that history. Heap and RSS are sampled through each phase: memory must not grow with N.
 * Default N = 100 000 (a quick run); the figures in BENCHMARKS.md are for N = 10 000 000.
 */
import { type JsonWebKey, createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  GENESIS_HASH,
  LedgerChain,
  type LedgerEntry,
  type LedgerEnvelopeMeta,
  canonicalJson,
  archiveLedger,
  createTsaClient,
  folderArchive,
  ledgerSubject,
  parseTsaTrust,
  readLedger,
  serializeEntry,
  verifyArchive,
} from '@passerelle/audit';
import { startLocalTsa } from '@passerelle/audit/testing';
import { createAuditorService } from '@passerelle/auditor';
import {
  type ParticipantPublicKeys,
  type PrivateJwk,
  createStaticResolver,
  generateKey,
  toPublicJwk,
} from '@passerelle/envelope';
import { connectNats, createLogger, provisionStreams } from '@passerelle/exchange';
import { startNatsServer } from '@passerelle/testing';
import { benchArgs, machineLine } from './_util.js';

const {
  count: COUNT,
  every: EVERY,
  segment: SEGMENT,
  threads: THREADS,
  distinct: DISTINCT,
} = benchArgs({
  count: 100_000,
  every: 1000,
  segment: 100_000,
  threads: availableParallelism(),
  // distinct sealed envelopes: the history records each one COUNT / DISTINCT times (at its own seq, with its
  // own chain links and checkpoint), so that writing it stays quick; every entry's seal is still verified
  distinct: 200_000,
});
const FLOOR_SAMPLE = Math.min(COUNT, 50_000);
const SENDERS = [
  'immigration-office',
  'region-bruxelles',
  'region-vlaanderen',
  'commune-21004',
  'post-ma-casablanca',
];
const log = (s: string): void => void console.error(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const mib = (b: number): string => (b / 2 ** 20).toFixed(0);
/** Each phase's row is printed (stderr) as soon as it is measured: a long run shows its figures as it goes. */
const row = (text: string): void => void console.error(`ROW ${text}`);

/** Heap and RSS high-water marks over a phase, sampled every 250 ms and at each `mark()`. */
function memoryMeter(): {
  mark(label?: string): void;
  stop(): { heap: number; rss: number; marks: string[] };
} {
  gc();
  let heap = 0;
  let rss = 0;
  const marks: string[] = [];
  const sample = (): void => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
  };
  const timer = setInterval(sample, 250);
  return {
    mark(label) {
      sample();
      if (label) marks.push(`${label}: heap ${mib(process.memoryUsage().heapUsed)} MiB`);
    },
    stop() {
      clearInterval(timer);
      sample();
      return { heap, rss, marks };
    },
  };
}

/** A fresh ES256 signing key with id `kid`. */
const newKey = async (kid: string): Promise<{ jwk: PrivateJwk }> => ({
  jwk: await generateKey('sig', { kid }),
});
const b64 = (s: string): string => Buffer.from(s).toString('base64url');

// Seals are signed on worker threads (plain JavaScript on node:crypto), in batches, in order.
const SIGNER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const keys = workerData.map((jwk) => createPrivateKey({ key: jwk, format: 'jwk' }));
parentPort.on('message', ({ id, senders, inputs }) => {
  const sigs = inputs.map((input, i) => sign('sha256', Buffer.from(input), { key: keys[senders[i]], dsaEncoding: 'ieee-p1363' }).toString('base64url'));
  parentPort.postMessage({ id, sigs });
});
`;

const senders = await Promise.all(SENDERS.map(async (id) => ({ id, ...(await newKey(`${id}-sig-1`)) })));
const auditor = await newKey('auditor-sig-1');
const directory: ParticipantPublicKeys[] = [
  { participantId: 'auditor', signing: [toPublicJwk(auditor.jwk)], encryption: [] },
  ...senders.map((s) => ({ participantId: s.id, signing: [toPublicJwk(s.jwk)], encryption: [] })),
];
const resolver = createStaticResolver(directory);

const work = mkdtempSync(join(tmpdir(), 'pex-bench-audit-'));
const server = await startNatsServer({ storeDir: join(work, 'jetstream') });
const tsa = await startLocalTsa({ name: 'Bench TSA' });
const trust = parseTsaTrust(tsa.rootPem);
const nc = await connectNats({ servers: server.url });
const jsm = await jetstreamManager(nc, { timeout: 60_000 });
await provisionStreams(jsm);
const js = jetstream(nc, { timeout: 60_000 });

try {
  // --- 1. write the history straight into LEDGER (not a measured figure) -----------------------------------
  const workers = Array.from(
    { length: THREADS },
    () => new Worker(SIGNER, { eval: true, workerData: senders.map((s) => s.jwk) }),
  );
  const pendingSigs = new Map<number, (sigs: string[]) => void>();
  for (const w of workers)
    w.on('message', (m: { id: number; sigs: string[] }) => pendingSigs.get(m.id)?.(m.sigs));
  const t0 = Date.UTC(2026, 0, 1);
  const chain = new LedgerChain();
  let head = GENESIS_HASH;
  const floorSample: { input: Buffer; sig: Buffer; sender: number }[] = [];
  const BATCH = 2048;
  let published = 0;
  const writeStart = performance.now();
  type Prepared = {
    metas: LedgerEnvelopeMeta[];
    jwe: string[];
    inputs: string[];
    senders: number[];
    canonical: { head: string; tail: string; seal: string }[];
  };
  const prepare = (from: number, to: number): Prepared => {
    const p: Prepared = { metas: [], jwe: [], inputs: [], senders: [], canonical: [] };
    for (let i = from; i < to; i++) {
      const s = i % senders.length;
      const meta: LedgerEnvelopeMeta = {
        id: `0190b2c4-${((i >>> 12) & 0xffff).toString(16).padStart(4, '0')}-7${(i & 0xfff).toString(16).padStart(3, '0')}-8${((i >>> 28) & 0xfff).toString(16).padStart(3, '0')}-${randomBytes(6).toString('hex')}`,
        type: 'residence-decided',
        schemaVersion: 1,
        sender: senders[s]!.id,
        recipient: SENDERS[(s + 1) % SENDERS.length]!,
        dossierId: `DOS-${String(i % 50_000).padStart(8, '0')}`,
        issuedAt: new Date(t0 + i * 100).toISOString(),
        correlationId: `corr-${i % 50_000}`,
        causationId: null,
      };
      const jweSha256 = createHash('sha256').update(randomBytes(32)).digest('hex');
      p.metas.push(meta);
      p.jwe.push(jweSha256);
      p.inputs.push(
        `${b64(JSON.stringify({ alg: 'ES256', kid: senders[s]!.jwk.kid, typ: 'pex-seal+jws' }))}.${b64(JSON.stringify({ v: 1, meta, jweSha256 }))}`,
      );
      p.senders.push(s);
    }
    return p;
  };
  let nextId = 0;
  const sign = (p: Prepared): Promise<string[]> => {
    const id = nextId++;
    return new Promise((resolve) => {
      pendingSigs.set(id, (sigs) => {
        pendingSigs.delete(id);
        resolve(sigs);
      });
      workers[id % workers.length]!.postMessage({ id, senders: p.senders, inputs: p.inputs });
    });
  };
  const inFlight: { p: Prepared; sigs: Promise<string[]> }[] = [];
  // Plain publishes, which the stream captures in order, with an acknowledged one every 2 048 as a barrier:
  // writing the history is not what is measured, and waiting for each ack would make it the longest phase.
  const publish = async (line: string, subject: string): Promise<void> => {
    published++;
    if (published % 2048 === 0) {
      const ack = await js.publish(subject, line);
      if (ack.seq !== published) throw new Error(`LEDGER stored entry ${published} at ${ack.seq}`);
    } else {
      nc.publish(subject, line);
    }
  };
  // the distinct envelopes are sealed once, in batches on the workers, then recorded in turn
  const pool: { p: Prepared; sigs: string[] }[] = [];
  const distinct = Math.min(COUNT, DISTINCT);
  for (let from = 0; from < distinct || inFlight.length > 0;) {
    while (from < distinct && inFlight.length < THREADS * 2) {
      const p = prepare(from, Math.min(distinct, from + BATCH));
      inFlight.push({ p, sigs: sign(p) });
      from += p.metas.length;
    }
    const { p, sigs: pending } = inFlight.shift()!;
    pool.push({ p, sigs: await pending });
  }
  for (let round = 0, done = 0; done < COUNT; round++) {
    const { p, sigs } = pool[round % pool.length]!;
    if (done + p.metas.length > COUNT) {
      p.metas.length = COUNT - done;
    }
    done += p.metas.length;
    for (let k = 0; k < p.metas.length; k++) {
      const seal = `${p.inputs[k]}.${sigs[k]}`;
      if (floorSample.length < FLOOR_SAMPLE) {
        floorSample.push({
          input: Buffer.from(p.inputs[k]!),
          sig: Buffer.from(sigs[k]!, 'base64url'),
          sender: p.senders[k]!,
        });
      }
      // the entry's canonical JSON, built as LedgerChain.envelopeEntry and serializeEntry would (keys sorted),
      // from the envelope's parts prepared once: the verify phase recomputes and checks all of it
      const fixed = (p.canonical[k] ??= {
        head: `{"envelopeSha256":"${createHash('sha256').update(seal).digest('hex')}",`,
        tail: `"jweSha256":"${p.jwe[k]}","kind":"envelope","meta":${canonicalJson(p.metas[k])},`,
        seal: JSON.stringify(seal),
      });
      const seq = published + 1;
      const prevHash = head;
      const rest = `"prevHash":"${prevHash}","receivedAt":"${new Date(t0 + published * 100).toISOString()}","seal":${fixed.seal},"seq":${seq},"v":1}`;
      const hash = createHash('sha256')
        .update(fixed.head + fixed.tail + rest)
        .digest('hex');
      chain.advance({ seq, prevHash, hash, kind: 'envelope' } as LedgerEntry);
      head = hash;
      await publish(
        `${fixed.head}"hash":"${hash}",${fixed.tail}${rest}`,
        `pex.ledger.envelope.${p.metas[k]!.dossierId}.${p.metas[k]!.id}`,
      );
      if (chain.pending >= EVERY) {
        const cp = await chain.checkpointEntry(auditor.jwk, new Date(t0 + published * 100 + 20));
        if (cp) {
          chain.advance(cp);
          head = cp.hash;
          await publish(serializeEntry(cp), ledgerSubject(cp));
        }
      }
    }
    if (published % 1_000_000 < BATCH + BATCH / EVERY + 1) log(`written ${published} entries`);
  }
  await nc.flush();
  for (let i = 0; ; i++) {
    const state = (await jsm.streams.info('LEDGER')).state;
    if (state.last_seq === published && state.messages === published) break;
    if (i > 600) throw new Error(`LEDGER holds ${state.messages} entries, ${published} were written`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await Promise.all(workers.map((w) => w.terminate()));
  const writeSeconds = (performance.now() - writeStart) / 1000;
  const ledgerBytes = (await jsm.streams.info('LEDGER')).state.bytes;
  log(`wrote ${published} entries (${mib(ledgerBytes)} MiB) into LEDGER in ${writeSeconds.toFixed(0)} s`);

  // --- 2. the auditor service starting over that history (its index reads the whole live stream) -------------------------------------------------------------
  const startAuditor = async (withArchive: boolean) => {
    const m = memoryMeter();
    const started = performance.now();
    const service = await createAuditorService({
      nc,
      auditorKey: auditor.jwk,
      resolver,
      checkpointIntervalMs: 0,
      logger: createLogger('auditor', { level: 'silent' }),
      ...(withArchive ? { archive: { store, intervalMs: 3_600_000, segmentEntries: SEGMENT } } : {}),
    });
    const seconds = (performance.now() - started) / 1000;
    m.mark();
    const heapAfter = process.memoryUsage().heapUsed;
    await service.close();
    const peak = m.stop();
    return { seconds, peakHeap: peak.heap, heapAfter, entries: service.index.lastSeq };
  };
  gc();
  const baseHeap = process.memoryUsage().heapUsed;
  const fullScan = await startAuditor(false);
  log(`auditor over the whole live stream: ${fullScan.seconds.toFixed(0)} s`);
  row(
    `| auditor start, no archive: chain check of the whole live stream | ${fullScan.entries} | ${fullScan.seconds.toFixed(0)} | ${(fullScan.entries / fullScan.seconds).toFixed(0)} entries/s | ${mib(fullScan.peakHeap)} MiB | |`,
  );

  // --- 3. archive them: streamed from the server into sealed, timestamped segments -------------------------
  const store = await folderArchive(join(work, 'archive'));
  const tsaClient = createTsaClient({ url: tsa.url, trust });
  let mem = memoryMeter();
  const archiveStart = performance.now();
  const segments = await archiveLedger({
    nc,
    store,
    auditorKey: auditor.jwk,
    tsa: tsaClient,
    segmentEntries: SEGMENT,
  });
  const archiveSeconds = (performance.now() - archiveStart) / 1000;
  const archiveMem = mem.stop();
  const archived = segments.reduce((n, s) => n + s.entries, 0);
  log(`archived ${archived} entries in ${segments.length} segments in ${archiveSeconds.toFixed(0)} s`);
  row(
    `| archive: LEDGER streamed into ${segments.length} sealed, timestamped segments of ≤ ${SEGMENT} | ${archived} | ${archiveSeconds.toFixed(0)} | ${(archived / archiveSeconds).toFixed(0)} entries/s | ${mib(archiveMem.heap)} MiB | ${mib(archiveMem.rss)} MiB |`,
  );
  const fromArchive = await startAuditor(true);
  log(`auditor from the archive head: ${fromArchive.seconds.toFixed(1)} s`);

  row(
    `| auditor start from the archive's head | ${fromArchive.entries} | ${fromArchive.seconds.toFixed(1)} | | ${mib(fromArchive.peakHeap)} MiB | |`,
  );

  // --- 4. verify archive + live tail, against a floor of bare ES256 verifications -------------------------
  const keys = senders.map((s) =>
    createPublicKey({
      key: toPublicJwk(s.jwk) as unknown as JsonWebKey,
      format: 'jwk',
    }),
  );
  const floorPass = (): number => {
    const start = performance.now();
    let ok = 0;
    for (const s of floorSample)
      if (verify('sha256', s.input, { key: keys[s.sender]!, dsaEncoding: 'ieee-p1363' }, s.sig)) ok++;
    if (ok !== floorSample.length) throw new Error('floor: a seal did not verify');
    return floorSample.length / ((performance.now() - start) / 1000);
  };
  const floorBefore = floorPass();
  log(`floor (before): ${floorBefore.toFixed(0)} verifications/s`);
  mem = memoryMeter();
  const verifyStart = performance.now();
  const report = await verifyArchive(store, {
    resolver,
    tsaTrust: trust,
    threads: THREADS,
    requireTimestamps: true,
    progressEvery: 1_000_000,
    onProgress: (n) => {
      mem.mark(`${n / 1e6} M entries`);
      log(`verified ${n} entries`);
    },
    live: async function* (from) {
      for await (const m of readLedger(nc, { from })) yield m.data;
    },
  });
  const verifySeconds = (performance.now() - verifyStart) / 1000;
  const verifyMem = mem.stop();
  if (!report.ok) throw new Error(`the ledger did not verify: ${JSON.stringify(report.failure)}`);
  const floorAfter = floorPass();
  log(`floor (after): ${floorAfter.toFixed(0)} verifications/s`);
  const floorRate = (floorBefore + floorAfter) / 2;
  row(
    `| \`verifyArchive\`: segments + live tail | ${report.entries} | ${verifySeconds.toFixed(0)} | ${(report.entries / verifySeconds).toFixed(0)} entries/s | ${mib(verifyMem.heap)} MiB | ${mib(verifyMem.rss)} MiB |`,
  );
  const signatures = report.envelopes + report.checkpoints;
  const signatureRate = signatures / verifySeconds;

  const ratio = signatureRate / floorRate;
  console.log(`### Audit ledger over a long history (\`pnpm bench audit --count ${COUNT}\`)

${new Date().toISOString().slice(0, 10)}, ${await machineLine()}; ${THREADS} worker threads; nats-server ${server.version} on loopback,
local TSA (OpenSSL \`ts -reply\`). History: ${COUNT} envelope entries with real ES256 seals from ${SENDERS.length} senders and a
checkpoint every ${EVERY} (${published} entries, ${mib(ledgerBytes)} MiB in LEDGER), written straight into the stream
(${writeSeconds.toFixed(0)} s, not a measured figure).

| phase | entries | seconds | rate | heap high-water | RSS high-water |
|---|---:|---:|---:|---:|---:|
| archive: LEDGER streamed into ${segments.length} sealed, timestamped segments of ≤ ${SEGMENT} | ${archived} | ${archiveSeconds.toFixed(0)} | ${(archived / archiveSeconds).toFixed(0)} entries/s | ${mib(archiveMem.heap)} MiB | ${mib(archiveMem.rss)} MiB |
| \`verifyArchive\`: segments + live tail (hashes, chain, Merkle roots, seals, checkpoints, segment seals and tokens) | ${report.entries} | ${verifySeconds.toFixed(0)} | ${(report.entries / verifySeconds).toFixed(0)} entries/s | ${mib(verifyMem.heap)} MiB | ${mib(verifyMem.rss)} MiB |
| auditor start, no archive: chain check of the whole live stream | ${fullScan.entries} | ${fullScan.seconds.toFixed(0)} | ${(fullScan.entries / fullScan.seconds).toFixed(0)} entries/s | ${mib(fullScan.peakHeap)} MiB | |
| auditor start from the archive's head | ${fromArchive.entries} | ${fromArchive.seconds.toFixed(1)} | | ${mib(fromArchive.peakHeap)} MiB | |

Heap while verifying, after each million entries: ${verifyMem.marks.join(', ') || '(fewer than a million)'}.
Heap before the auditor starts ${mib(baseHeap)} MiB; after its start over the whole stream ${mib(fullScan.heapAfter)} MiB.

ES256 floor (bare \`crypto.verify\` of ${floorSample.length} of the same seals, 1 thread; before / after): ${floorBefore.toFixed(0)} / ${floorAfter.toFixed(0)} verifications/s.
Ledger signatures verified per second / floor: **${(ratio * 100).toFixed(0)} %** (${signatureRate.toFixed(0)} signatures/s over ${signatures}; ${THREADS} worker threads).
Timestamps: ${report.segments.filter((s) => s.attested).length} segment tokens checked against the TSA's root.
`);
} finally {
  await nc.close();
  await tsa.close();
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
