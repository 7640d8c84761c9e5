/**
 * `pnpm bench audit [--count N] [--every C] [--threads T]`: verification rate of an N-entry audit ledger
 * (default 100 000 envelope entries with real ES256 seals, a checkpoint every C = 1000) — chain, hashes,
 * Merkle roots, every seal and checkpoint signature, on worker threads — beside a floor of bare ES256
 * verifications of the same N seals with node:crypto on one thread, in the same run.
 */
import {
  type JsonWebKey,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { LedgerChain, type LedgerEnvelopeMeta, serializeEntry, verifyLedger } from '@passerelle/audit';
import {
  type ParticipantPublicKeys,
  type PrivateJwk,
  createStaticResolver,
  toPublicJwk,
} from '@passerelle/envelope';
import { machineLine } from './_util.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '100000' },
    every: { type: 'string', default: '1000' },
    threads: { type: 'string', default: String(availableParallelism()) },
  },
});
const COUNT = Number(values.count);
const EVERY = Number(values.every);
const THREADS = Number(values.threads);
const SENDERS = [
  'immigration-office',
  'region-bruxelles',
  'region-vlaanderen',
  'commune-21004',
  'post-ma-casablanca',
];

function newKey(kid: string): { jwk: PrivateJwk; key: ReturnType<typeof generateKeyPairSync>['privateKey'] } {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const j = privateKey.export({ format: 'jwk' });
  return {
    key: privateKey,
    jwk: {
      kty: 'EC',
      crv: 'P-256',
      x: j.x as string,
      y: j.y as string,
      d: j.d as string,
      kid,
      use: 'sig',
      alg: 'ES256',
    },
  };
}
const b64 = (s: string): string => Buffer.from(s).toString('base64url');

// --- build the ledger (not timed): seals made exactly as the envelope package makes them -----------------
const senders = SENDERS.map((id) => ({ id, ...newKey(`${id}-sig-1`) }));
const auditor = newKey('auditor-sig-1');
const directory: ParticipantPublicKeys[] = [
  { participantId: 'auditor', signing: [toPublicJwk(auditor.jwk)], encryption: [] },
  ...senders.map((s) => ({ participantId: s.id, signing: [toPublicJwk(s.jwk)], encryption: [] })),
];
const resolver = createStaticResolver(directory);
const chain = new LedgerChain();
const lines: string[] = [];
const seals: { input: Buffer; sig: Buffer; sender: number }[] = [];
const t0 = Date.UTC(2026, 0, 1);
const buildStart = performance.now();
for (let i = 0; i < COUNT; i++) {
  const s = i % senders.length;
  const sender = senders[s] as (typeof senders)[number];
  const meta: LedgerEnvelopeMeta = {
    id: `0190b2c4-${(i >>> 16).toString(16).padStart(4, '0')}-7${(i & 0xfff).toString(16).padStart(3, '0')}-8000-${randomBytes(6).toString('hex')}`,
    type: 'residence-decided',
    schemaVersion: 1,
    sender: sender.id,
    recipient: SENDERS[(s + 1) % SENDERS.length] as string,
    dossierId: `DOS-${String(i % 5000).padStart(6, '0')}`,
    issuedAt: new Date(t0 + i * 1000).toISOString(),
    correlationId: `corr-${i % 5000}`,
    causationId: null,
  };
  const jweSha256 = createHash('sha256').update(randomBytes(64)).digest('hex');
  const input = `${b64(JSON.stringify({ alg: 'ES256', kid: sender.jwk.kid, typ: 'pex-seal+jws' }))}.${b64(JSON.stringify({ v: 1, meta, jweSha256 }))}`;
  const sig = sign('sha256', Buffer.from(input), { key: sender.key, dsaEncoding: 'ieee-p1363' });
  seals.push({ input: Buffer.from(input), sig, sender: s });
  const entry = chain.envelopeEntry(
    {
      meta,
      jweSha256,
      envelopeSha256: createHash('sha256').update(input).digest('hex'),
      seal: `${input}.${sig.toString('base64url')}`,
    },
    new Date(t0 + i * 1000 + 50),
  );
  chain.advance(entry);
  lines.push(serializeEntry(entry));
  if (chain.pending >= EVERY) {
    const cp = await chain.checkpointEntry(auditor.jwk, new Date(t0 + i * 1000 + 60));
    if (cp) {
      chain.advance(cp);
      lines.push(serializeEntry(cp));
    }
  }
}
const buildSeconds = (performance.now() - buildStart) / 1000;
console.error(`built ${lines.length} entries in ${buildSeconds.toFixed(1)} s`);

// --- floor: bare ES256 verifications of the same seals, one thread ----------------------------------------
const publicKeys = senders.map((s) =>
  createPublicKey({ key: toPublicJwk(s.jwk) as unknown as JsonWebKey, format: 'jwk' }),
);
/** Seconds for one pass of bare verifications over every seal. */
function floorPass(): number {
  let ok = 0;
  const start = performance.now();
  for (const s of seals) {
    const key = publicKeys[s.sender] as ReturnType<typeof createPublicKey>;
    if (verify('sha256', s.input, { key, dsaEncoding: 'ieee-p1363' }, s.sig)) ok++;
  }
  if (ok !== COUNT) throw new Error(`floor: ${COUNT - ok} seals did not verify`);
  return (performance.now() - start) / 1000;
}
// The floor is measured before and after the ledger run and averaged: on a shared machine the load moves.
const floorBefore = floorPass();
console.error(`floor (before): ${COUNT} bare ES256 verifications in ${floorBefore.toFixed(2)} s`);

// --- full ledger verification ----------------------------------------------------------------------------
const verifyStart = performance.now();
const report = await verifyLedger(lines, { resolver, threads: THREADS });
const verifySeconds = (performance.now() - verifyStart) / 1000;
if (!report.ok) throw new Error(`ledger did not verify: ${JSON.stringify(report.failure)}`);
const entryRate = report.entries / verifySeconds;
const signatureRate = (report.envelopes + report.checkpoints) / verifySeconds;
console.error(`ledger: ${report.entries} entries verified in ${verifySeconds.toFixed(2)} s`);
const floorAfter = floorPass();
console.error(`floor (after): ${COUNT} bare ES256 verifications in ${floorAfter.toFixed(2)} s`);
const floorSeconds = (floorBefore + floorAfter) / 2;
const floorRate = COUNT / floorSeconds;

const ratio = signatureRate / floorRate;
console.log(`### Audit ledger verification (\`pnpm bench audit --count ${COUNT}\`)

${new Date().toISOString().slice(0, 10)}, ${await machineLine()}; ${THREADS} verification worker threads.

| | entries | seconds | rate |
|---|---:|---:|---:|
| floor: bare ES256 verify (node:crypto, 1 thread; mean of a pass before and after) | ${COUNT} | ${floorSeconds.toFixed(2)} (${floorBefore.toFixed(2)} / ${floorAfter.toFixed(2)}) | ${Math.round(floorRate)} verifications/s |
| \`verifyLedger\` (chain, hashes, Merkle roots, seals, checkpoints) | ${report.entries} | ${verifySeconds.toFixed(2)} | ${Math.round(entryRate)} entries/s |

Ledger signatures verified per second / floor: **${(ratio * 100).toFixed(0)} %** (target ≥ 50 %).
${report.entries} entries = ${report.envelopes} envelopes + ${report.checkpoints} checkpoints (one per ${EVERY}).
`);
