/**
 * `pnpm bench envelope [--count N] [--node-jose-count N]`: cost of sealing and opening one envelope with
 * each crypto provider, beside a floor measured in the same run: Node's `crypto` doing the same work with
 * no library (seal: ES256 sign, ephemeral P-256 key + ECDH + Concat KDF + AES-KW + AES-256-GCM, SHA-256,
 * ES256 sign; open: ES256 verify, ECDH + KDF + unwrap + AES-GCM decrypt, ES256 verify; _crypto-floor.ts). For each: µs median
 * one at a time, messages/s with 32 in flight, and the event-loop delay (`monitorEventLoopDelay`).
 * Options: --count (messages per provider, default 2000), --node-jose-count (120), --rounds (5).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import {
  type CryptoProvider,
  type EnvelopeMeta,
  createJoseProvider,
  createNodeCryptoProvider,
  createNodeJoseProvider,
  createStaticResolver,
  generateParticipantKeys,
  newMessageId,
  openEnvelope,
  sealEnvelope,
  toPublicJwk,
  publicKeysOf,
} from '@passerelle/envelope';
import { type FloorSealed, createCryptoFloor } from './_crypto-floor.js';
import { benchArgs, machineLine, percentile, runConcurrent, stealMeter } from './_util.js';

const {
  count: COUNT,
  'node-jose-count': NODE_JOSE_COUNT,
  rounds: ROUNDS,
} = benchArgs({ count: 2000, 'node-jose-count': 120, rounds: 5 });
const IN_FLIGHT = 32;

const payload = {
  application: { kind: 'single-permit', first: true, hoursPerWeek: 38, grossMonthlySalaryEur: 3450 },
  employer: {
    vat: 'BE0123456789',
    name: 'Example Welding SRL',
    address: { postcode: '1000', city: 'Bruxelles' },
  },
  worker: { nationality: 'IN', birthYear: 1991, qualifications: ['welding-iso-9606', 'safety-vca'] },
  documents: Array.from({ length: 8 }, (_, i) => ({
    ref: `doc-${i}`,
    sha256: randomBytes(32).toString('hex'),
  })),
};
const payloadBytes = Buffer.byteLength(JSON.stringify(payload));

const [sender, recipient] = await Promise.all([
  generateParticipantKeys('portal-bench'),
  generateParticipantKeys('region-bruxelles'),
]);
const resolver = createStaticResolver([sender, recipient].map(publicKeysOf));
const recipientKey = toPublicJwk(recipient.encryption[0]!);
const meta = (): EnvelopeMeta => ({
  id: newMessageId(),
  type: 'application-submitted',
  schemaVersion: 1,
  sender: 'portal-bench',
  recipient: 'region-bruxelles',
  dossierId: 'D-2026-000123',
  issuedAt: new Date().toISOString(),
  correlationId: newMessageId(),
  causationId: null,
});

interface Subject {
  name: string;
  seal(): Promise<unknown>;
  open(sealed: unknown): Promise<unknown>;
}

function providerSubject(provider: CryptoProvider, label = provider.name): Subject {
  return {
    name: label,
    seal: async () =>
      JSON.stringify(await sealEnvelope({ meta: meta(), payload, sender, recipientKey, provider })),
    open: (raw) => openEnvelope(raw as string, { recipient, resolver, provider }),
  };
}

// messages arrive from the socket, one macrotask each: the loop turns between them as it would in a service
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Result {
  name: string;
  sealUs: number;
  openUs: number;
  sealRate: number;
  openRate: number;
  roundTripRate: number;
  serialMaxDelayMs: number;
  serialP99DelayMs: number;
  maxDelayMs: number;
  gcMaxMs: number;
  p99DelayMs: number;
}

interface Samples {
  subject: Subject;
  count: number;
  sealTimes: number[];
  openTimes: number[];
  sealRates: number[];
  openRates: number[];
  roundTripRates: number[];
  serialMaxDelays: number[];
  serialP99Delays: number[];
  maxDelays: number[];
  gcPauses: number[];
  p99Delays: number[];
}

function samplesFor(subject: Subject, count: number): Samples {
  return {
    subject,
    count,
    sealTimes: [],
    openTimes: [],
    sealRates: [],
    openRates: [],
    roundTripRates: [],
    serialMaxDelays: [],
    serialP99Delays: [],
    maxDelays: [],
    gcPauses: [],
    p99Delays: [],
  };
}

/** One round for one subject: `count` messages one at a time, then `count` with 32 in flight. */
async function round(s: Samples): Promise<void> {
  const { subject, count } = s;
  // start from a collected heap, so that garbage left by the subject before is not charged to this one
  (globalThis as { gc?: () => void }).gc?.();
  // fresh histograms per phase: re-enabling one counts the time it was disabled as delay
  const serialDelay = monitorEventLoopDelay({ resolution: 1 });
  serialDelay.enable();
  // garbage-collection pauses during the round, to tell them apart from the code's own stalls
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) s.gcPauses.push(entry.duration);
  });
  gc.observe({ entryTypes: ['gc'] });
  const sealed: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    sealed.push(await subject.seal());
    s.sealTimes.push((performance.now() - t) * 1000);
    await turn();
  }
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await subject.open(sealed[i]);
    s.openTimes.push((performance.now() - t) * 1000);
    await turn();
  }
  // let the sampling timer fire once more, so a stall at the very end is recorded too
  await new Promise((resolve) => setTimeout(resolve, 5));
  serialDelay.disable();
  s.serialMaxDelays.push(serialDelay.max / 1e6);
  s.serialP99Delays.push(serialDelay.percentile(99) / 1e6);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  // messages per second over `count` tasks, IN_FLIGHT at a time
  const rate = async (task: (i: number) => Promise<void>): Promise<number> => {
    const t = performance.now();
    await runConcurrent(count, IN_FLIGHT, task, turn);
    return count / ((performance.now() - t) / 1000);
  };
  const batch: unknown[] = new Array(count);
  s.sealRates.push(await rate(async (i) => void (batch[i] = await subject.seal())));
  s.openRates.push(await rate(async (i) => void (await subject.open(batch[i]))));
  s.roundTripRates.push(await rate(async () => void (await subject.open(await subject.seal()))));
  await new Promise((resolve) => setTimeout(resolve, 5));
  delay.disable();
  gc.disconnect();
  s.maxDelays.push(delay.max / 1e6);
  s.p99Delays.push(delay.percentile(99) / 1e6);
}

function summary(s: Samples): Result {
  return {
    name: s.subject.name,
    sealUs: percentile(s.sealTimes, 50),
    openUs: percentile(s.openTimes, 50),
    sealRate: percentile(s.sealRates, 50),
    openRate: percentile(s.openRates, 50),
    roundTripRate: percentile(s.roundTripRates, 50),
    serialMaxDelayMs: Math.max(...s.serialMaxDelays),
    serialP99DelayMs: Math.max(...s.serialP99Delays),
    maxDelayMs: Math.max(...s.maxDelays),
    gcMaxMs: Math.max(0, ...s.gcPauses),
    p99DelayMs: Math.max(...s.p99Delays),
  };
}

const steal = stealMeter();
const floor = createCryptoFloor({
  payload,
  senderSigning: sender.signing,
  recipientSigning: recipient.signing,
  recipientEncryption: recipient.encryption[0]!,
});
const floorSubject: Subject = {
  name: 'node:crypto floor',
  seal: () => floor.seal(meta()),
  open: (e) => floor.open(e as FloorSealed),
};

// Rounds interleave the subjects, so a burst of load from elsewhere on the machine hits them alike; rates
// are the median over rounds.
const subjects = [
  samplesFor(floorSubject, Math.ceil(COUNT / ROUNDS)),
  // one process with 32 in flight: the thread pool gives the signatures the second core
  samplesFor(
    providerSubject(createNodeCryptoProvider({ signatures: 'thread-pool' }), 'node-crypto (thread pool)'),
    Math.ceil(COUNT / ROUNDS),
  ),
  // the same on the calling thread: the default on two cores or fewer
  samplesFor(
    providerSubject(createNodeCryptoProvider({ signatures: 'inline' }), 'node-crypto (inline)'),
    Math.ceil(COUNT / ROUNDS),
  ),
  samplesFor(providerSubject(createJoseProvider()), Math.ceil(COUNT / ROUNDS)),
  samplesFor(providerSubject(createNodeJoseProvider()), Math.ceil(NODE_JOSE_COUNT / ROUNDS)),
];
for (const s of subjects) for (let i = 0; i < 20; i++) await s.subject.open(await s.subject.seal()); // warm-up
for (let r = 0; r < ROUNDS; r++) for (const s of subjects) await round(s);
const results = subjects.map(summary);
const base = results[0]!;

const f0 = (n: number): string => n.toFixed(0);
const f1 = (n: number): string => n.toFixed(1);
const pct = (n: number): string => `${((n / base.roundTripRate) * 100).toFixed(0)}%`;
const lines = [
  `### Envelope seal and open (\`pnpm bench envelope\`)`,
  '',
  `${await machineLine()}; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' ',
    )} at the end; CPU stolen by the hypervisor during the run ${steal().toFixed(0)} %; payload ${payloadBytes} B of JSON; ${COUNT} messages (node-jose: ${NODE_JOSE_COUNT}); ${IN_FLIGHT} in flight for the rates; ${ROUNDS} interleaved rounds, rates are the median round; event-loop delay (\`monitorEventLoopDelay\`, 1 ms resolution): worst max and worst p99 over the rounds, measured apart for the one-at-a-time and the 32-in-flight phases.`,
  '',
  '| provider | seal µs (median) | open µs (median) | seal msg/s | open msg/s | seal+open msg/s | vs floor | loop delay max / p99, one at a time (ms) | loop delay max / p99, 32 in flight (ms) | longest GC pause (ms) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(
    (r) =>
      `| ${r.name} | ${f0(r.sealUs)} | ${f0(r.openUs)} | ${f0(r.sealRate)} | ${f0(r.openRate)} | ${f0(r.roundTripRate)} | ${pct(r.roundTripRate)} | ${f1(r.serialMaxDelayMs)} / ${f1(r.serialP99DelayMs)} | ${f1(r.maxDelayMs)} / ${f1(r.p99DelayMs)} | ${f1(r.gcMaxMs)} |`,
  ),
];
console.log(lines.join('\n'));
