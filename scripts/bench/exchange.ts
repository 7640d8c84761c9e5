/**
 * `pnpm bench exchange [--count N] [--seconds S] [--rounds R] [--provider jose,node-crypto,node-crypto-inline] [--phases] [--baseline-server <nats-server binary>]`:
 * secure messages end to end (seal, publish, consume, open, contract and schema checks, idempotency,
 * handler, signed receipt, ack, receipt verified by the sender) beside a raw JetStream publish/consume of
 * payloads of the same size and the bare cryptography of a message, in the same run on the same
 * nats-server; for each crypto provider the runtime can use, in R interleaved rounds after a warm-up; then
 * p50/p99 latency of the secure path at a fixed 200 msg/s. `--phases` adds, per round, the sending phase
 * and the phase after it, while the receiver works through what is left (see `Phase`).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadContracts, readExample } from '@passerelle/contracts';
import {
  type CryptoProvider,
  type EnvelopeMeta,
  type ParticipantKeys,
  type ParticipantPublicKeys,
  createNodeCryptoProvider,
  createStaticResolver,
  generateParticipantKeys,
  joseProvider,
  newMessageId,
  publicKeysOf,
} from '@passerelle/envelope';
import { type Exchange, connectExchange, createLogger } from '@passerelle/exchange';
import { type NatsServer, startNatsServer } from '@passerelle/testing';
import { connect } from '@nats-io/transport-node';
import { createCryptoFloor } from './_crypto-floor.js';
import type { ProviderKey } from './_exchange-receiver.js';
import {
  benchArgs,
  machineLine,
  percentile,
  processCpuMs,
  rawStream,
  runConcurrent,
  stealMeter,
} from './_util.js';

const values = benchArgs(
  { count: 5000, seconds: 10, rounds: 5 },
  {
    provider: { type: 'string' },
    phases: { type: 'boolean', default: false },
    'baseline-server': { type: 'string' },
  },
);
/**
 * An older nats-server release the raw row is measured on as well, beside the pinned one:
 * `--baseline-server <binary>` or `PASSERELLE_BENCH_BASELINE_NATS_SERVER`; without it that row is skipped.
 */
const BASELINE_BINARY =
  values['baseline-server'] ?? process.env['PASSERELLE_BENCH_BASELINE_NATS_SERVER'] ?? undefined;
const COUNT = values.count;
/** Messages sent before each measurement and not counted: every path is measured warm. */
const WARMUP = Math.min(1_000, COUNT);
const RATE_SECONDS = values.seconds;
const ROUNDS = values.rounds;
const TYPE = 'application-submitted';
const root = join(import.meta.dirname, '..', '..');
const ALL_PROVIDERS: {
  name: string;
  key: ProviderKey;
  provider: CryptoProvider;
  sender: string;
}[] = [
  {
    name: 'jose',
    key: 'jose',
    provider: joseProvider,
    sender: 'portal-bench-a',
  },
  {
    name: 'node-crypto, signatures on the thread pool (the default on more than two cores)',
    key: 'node-crypto',
    provider: createNodeCryptoProvider({ signatures: 'thread-pool' }),
    sender: 'portal-bench-b',
  },
  {
    name: 'node-crypto, signatures inline (the default on two cores or fewer)',
    key: 'node-crypto-inline',
    provider: createNodeCryptoProvider({ signatures: 'inline' }),
    sender: 'portal-bench-c',
  },
];
// --provider jose,node-crypto,node-crypto-inline (default: all three); a region receives for one path at a
// time, so the paths chosen get one each
const wanted = values.provider?.split(',') ?? ALL_PROVIDERS.map((p) => p.key);
if (wanted.some((key) => !ALL_PROVIDERS.some((p) => p.key === key))) {
  console.error(`--provider takes a list of: ${ALL_PROVIDERS.map((p) => p.key).join(', ')}`);
  process.exit(2);
}
const REGIONS = ['region-bruxelles', 'region-wallonie', 'region-vlaanderen', 'region-dg'];
if (wanted.length > REGIONS.length) {
  console.error(`--provider takes at most ${REGIONS.length} paths (one receiving region each)`);
  process.exit(2);
}
const PROVIDERS = ALL_PROVIDERS.filter((p) => wanted.includes(p.key)).map((p, i) => ({
  ...p,
  receiver: REGIONS[i]!,
}));
// BENCH_PERF_ROUND: which round perf samples (see perfRecorder)
const PERF_ROUND = Number(process.env['BENCH_PERF_ROUND'] ?? 0);
if (!Number.isInteger(PERF_ROUND) || PERF_ROUND < 0 || PERF_ROUND >= ROUNDS) {
  console.error(`BENCH_PERF_ROUND takes a round number from 0 to ${ROUNDS - 1} (--rounds ${ROUNDS})`);
  process.exit(2);
}

const payload = readExample(root, TYPE, 'valid-ict-first-application.json');
const payloadBytes = Buffer.byteLength(JSON.stringify(payload));

const f2 = (n: number): string => n.toFixed(2);
/** The middle value, or the mean of the two middle values of an even count. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const spread = (values: readonly number[]): string =>
  `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

/**
 * One phase of a throughput round (`--phases`): sending while the 32 sends are in flight, draining from the
 * last send's answer until every receipt is back.
 */
interface Phase {
  ms: number;
  /** Messages the receiver's handler took in the phase. */
  handled: number;
  /** Messages whose receipt the sender verified and recorded in the phase. */
  receipts: number;
  /** CPU of each process over wall time (sender, receiver, nats-server): 1.00 is one core kept busy. */
  cores: number[];
}

/** The phases of one counted round, by its number. */
interface RoundPhases {
  round: number;
  sending: Phase;
  draining: Phase;
}

/** A provider under test, set up by `startSubject`. */
interface Subject {
  p: (typeof ALL_PROVIDERS)[number];
  child: ChildProcess;
  /** msg/s of each round, and its ratio to the crypto floor of the same round. */
  rates: number[];
  ratios: number[];
  /** CPU ms per message of each round: sender, receiver, nats-server. */
  cpu: number[][];
  /** The sending and draining phases of each counted round (printed with `--phases`). */
  phases: RoundPhases[];
  /** Sends n messages and waits for their receipts: the whole round, and its two phases. */
  throughput(n: number): Promise<{ whole: Phase; sending: Phase; draining: Phase }>;
  /** The Markdown row of the fixed-rate latency run. */
  fixedRate(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * With `BENCH_PERF=<dir>`, `perf record` samples the sender, the receiver and nats-server (every thread)
 * during each provider's first throughput round (`BENCH_PERF_ROUND=<n>`: round n, counted from 0, once the
 * processes have run longer and the JIT has settled), into `<dir>/exchange-<provider>.data`
 * (`perf report -i … --sort pid,sym`); that round is left out of the medians, since sampling slows it. Run
 * node with `--perf-basic-prof` (NODE_OPTIONS) to name JavaScript frames.
 */
async function perfRecorder(
  pids: number[],
  name: string,
): Promise<{ stop: () => Promise<void> } | undefined> {
  const dir = process.env['BENCH_PERF'];
  if (!dir) return undefined;
  const rec = spawn(
    'perf',
    ['record', '-g', '-o', join(dir, `exchange-${name}.data`), '-p', pids.join(',')],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((resolve) => {
    rec.once('error', (err) => {
      console.error(`perf could not start: ${err.message}`);
      resolve();
    });
    rec.once('exit', () => resolve());
  });
  // give perf time to attach; if it is gone already (not installed, not permitted), say so and go on
  const early = await Promise.race([
    exited.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 500)),
  ]);
  if (early) {
    console.error('perf record exited at once: no profile for this round');
    return undefined;
  }
  return {
    stop: async () => {
      rec.kill('SIGINT');
      await exited;
    },
  };
}

async function until(predicate: () => Promise<boolean> | boolean, everyMs = 20): Promise<void> {
  while (!(await predicate())) await new Promise((r) => setTimeout(r, everyMs));
}

/**
 * The raw baseline on one server: a plain stream, a durable pull consumer with explicit acks, and a run of n
 * messages of the payload's size, 32 publishes in flight, timed until the last is consumed and acked.
 */
async function rawRunner(
  url: string,
  bytes: Uint8Array,
): Promise<((n: number) => Promise<number>) & { close(): Promise<void> }> {
  // the bare client: the exchange's connectNats refuses a server older than the minimum
  const nc = await connect({ servers: url });
  const { js, consumer } = await rawStream(nc, 'RAW', ['raw.>']);
  let sent = 0;
  const run = async (n: number): Promise<number> => {
    const start = performance.now();
    let seen = 0;
    const done = (async () => {
      const it = await consumer.consume({ max_messages: 256 });
      for await (const m of it) {
        m.ack();
        if (++seen >= n) break;
      }
    })();
    await runConcurrent(n, 32, () =>
      js.publish('raw.x', bytes, { msgID: `raw-${sent++}` }).then(() => undefined),
    );
    await done;
    return n / ((performance.now() - start) / 1000);
  };
  return Object.assign(run, { close: () => nc.close() });
}

const server = await startNatsServer();
/** The older release the raw row is also measured on (`--baseline-server`), stopped once it has been. */
let baseline: NatsServer | undefined = BASELINE_BINARY
  ? await startNatsServer({ binary: BASELINE_BINARY, olderRelease: true })
  : undefined;
if (!baseline) {
  console.error(
    'raw JetStream on an older nats-server: skipped (give --baseline-server <binary> or PASSERELLE_BENCH_BASELINE_NATS_SERVER)',
  );
}
const steal = stealMeter();
try {
  const keys = new Map<string, ParticipantKeys>();
  for (const p of PROVIDERS)
    for (const id of [p.sender, p.receiver]) keys.set(id, await generateParticipantKeys(id));
  const directory = createStaticResolver([...keys.values()].map(publicKeysOf));
  const contracts = await loadContracts({ root });

  // --- raw baseline: same payload size, JetStream publish + pull consume + ack, no security; on the pinned
  // server and, given one, on an older release, in interleaved rounds of COUNT messages each
  const raw = new TextEncoder().encode(JSON.stringify(payload));
  const rawTargets = [
    { server, run: await rawRunner(server.url, raw), rates: [] as number[] },
    ...(baseline
      ? [{ server: baseline, run: await rawRunner(baseline.url, raw), rates: [] as number[] }]
      : []),
  ];
  for (const t of rawTargets) await t.run(WARMUP);
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of rawTargets) t.rates.push(await t.run(COUNT));
  }
  const rawRate = median(rawTargets[0]!.rates);
  const oldRaw = rawTargets[1];
  const oldRawRate = oldRaw ? median(oldRaw.rates) : undefined;
  /** The pinned server's raw rate over the older release's, median of the rounds' ratios. */
  const rawGain = oldRaw ? median(oldRaw.rates.map((r, i) => rawTargets[0]!.rates[i]! / r)) : undefined;
  const oldVersion = oldRaw?.server.version;
  /** The cell of the ratio to the older release's raw rate, when it was measured. */
  const oldCell = (rate: number): string =>
    oldRawRate !== undefined ? ` ${(rate / oldRawRate).toFixed(3)} |` : '';
  for (const t of rawTargets) await t.run.close();
  await baseline?.stop();
  baseline = undefined;

  // --- crypto floor: the cryptography of one message (seal, open, receipt signed and verified) on bare
  // node:crypto in this one process, no NATS, no JSON checks: what the two cores allow before anything else
  const floorKeys = keys.get(PROVIDERS[0]!.sender)!;
  const floorPeer = keys.get(PROVIDERS[0]!.receiver)!;
  const floor = createCryptoFloor({
    payload,
    senderSigning: floorKeys.signing,
    recipientSigning: floorPeer.signing,
    recipientEncryption: floorPeer.encryption[0]!,
  });
  const floorMeta = (): EnvelopeMeta => ({
    id: newMessageId(),
    type: TYPE,
    schemaVersion: 1,
    sender: floorKeys.participantId,
    recipient: floorPeer.participantId,
    dossierId: 'BENCH-DOSSIER',
    issuedAt: new Date().toISOString(),
    correlationId: newMessageId(),
    causationId: null,
  });
  const floorRound = (n: number): Promise<void> =>
    runConcurrent(n, 32, async () => {
      const sealed = await floor.seal(floorMeta());
      await floor.open(sealed);
      await floor.receipt(sealed);
    });
  await floorRound(WARMUP);

  /** One provider under test: its sender in this process, its receiver in a child process. */
  const startSubject = async (
    p: (typeof PROVIDERS)[number],
    work: string,
    publics: ParticipantPublicKeys[],
  ): Promise<Subject> => {
    const sender: Exchange = await connectExchange({
      directory,
      contracts,
      servers: server.url,
      provider: p.provider,
      participant: p.sender,
      keys: keys.get(p.sender)!,
      logger: createLogger(p.sender, { level: 'silent' }),
    });
    const settingsFile = join(work, `${p.receiver}.json`);
    writeFileSync(
      settingsFile,
      JSON.stringify({
        server: server.url,
        root,
        type: TYPE,
        provider: p.key,
        keys: keys.get(p.receiver),
        publics,
      }),
    );
    const child = fork(join(import.meta.dirname, '_exchange-receiver.ts'), [settingsFile], {
      execArgv: [
        '--import',
        'tsx',
        ...(process.env['BENCH_PROFILE_DIR']
          ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`]
          : []),
      ],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ask = <T>(cmd: string, key: string): Promise<T> =>
      new Promise((resolve) => {
        const on = (m: Record<string, unknown>): void => {
          if (key in m) {
            child.off('message', on);
            resolve(m[key] as T);
          }
        };
        child.on('message', on);
        if (cmd) child.send({ cmd });
      });
    await ask('', 'ready');
    const receipts = async (): Promise<number> =>
      (await sender.metrics.receiptsReceived.get()).values[0]?.value ?? 0;
    const send = (): Promise<unknown> =>
      sender.send(TYPE, payload, { to: p.receiver, dossierId: 'BENCH-DOSSIER' });
    let sent = 0;
    // CPU in ms: this process's to the microsecond, the others' from /proc (10 ms ticks)
    const mark = async (): Promise<{ at: number; handled: number; receipts: number; cpu: number[] }> => {
      const own = process.cpuUsage();
      return {
        at: performance.now(),
        handled: await ask<number>('handled', 'handled'),
        receipts: await receipts(),
        cpu: [(own.user + own.system) / 1000, ...[child.pid ?? -1, server.pid].map(processCpuMs)],
      };
    };
    const phase = (from: Awaited<ReturnType<typeof mark>>, to: Awaited<ReturnType<typeof mark>>): Phase => ({
      ms: to.at - from.at,
      handled: to.handled - from.handled,
      receipts: to.receipts - from.receipts,
      cores: to.cpu.map((c, i) => (c - from.cpu[i]!) / (to.at - from.at)),
    });
    // 32 sends in flight; done when the sender has verified and recorded every receipt
    const throughput = async (n: number): Promise<{ whole: Phase; sending: Phase; draining: Phase }> => {
      const start = await mark();
      await runConcurrent(n, 32, async () => {
        await send();
      });
      const lastSent = await mark();
      sent += n;
      // polled often: the round's end is measured within a few ms
      await until(async () => (await receipts()) >= sent, 2);
      const end = await mark();
      return { whole: phase(start, end), sending: phase(start, lastSent), draining: phase(lastSent, end) };
    };
    // a warm-up: both processes start cold, where a service runs for days
    await throughput(WARMUP);
    return {
      p,
      child,
      rates: [],
      ratios: [],
      cpu: [],
      phases: [],
      throughput,
      // 200 msg/s for RATE_SECONDS, latency from sealing to the handler
      fixedRate: async () => {
        await ask('latencies', 'latencies');
        const total = 200 * RATE_SECONDS;
        const rateStart = performance.now();
        const pending: Promise<unknown>[] = [];
        for (let i = 0; i < total; i++) {
          const wait = rateStart + i * 5 - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          pending.push(send());
        }
        await Promise.all(pending);
        sent += total;
        await until(async () => (await ask<number>('handled', 'handled')) >= sent);
        const latencies = await ask<number[]>('latencies', 'latencies');
        return `| ${p.name} | ${total} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} | ${Math.max(...latencies).toFixed(1)} |`;
      },
      stop: async () => {
        child.send({ cmd: 'stop' });
        await new Promise((r) => child.once('exit', r));
        await sender.close();
      },
    };
  };

  // --- every provider: its sender here, its receiver in its own process, as in a deployment
  const work = mkdtempSync(join(tmpdir(), 'passerelle-bench-'));
  const publics = [...keys.values()].map(publicKeysOf);
  const subjects: Subject[] = [];
  for (const p of PROVIDERS) subjects.push(await startSubject(p, work, publics));

  // --- interleaved rounds: the floor, then each provider, ROUNDS times, so that the host's changes of
  // speed (a quarter from one minute to the next) fall on all of them alike
  const perRound = Math.ceil(COUNT / ROUNDS);
  const floorRates: number[] = [];
  const floorCpuMs: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const floorCpuBefore = process.cpuUsage();
    const floorStart = performance.now();
    await floorRound(perRound);
    floorRates.push(perRound / ((performance.now() - floorStart) / 1000));
    const floorCpu = process.cpuUsage(floorCpuBefore);
    floorCpuMs.push((floorCpu.user + floorCpu.system) / 1000 / perRound);
    for (const s of subjects) {
      const profiled = round === PERF_ROUND && process.env['BENCH_PERF'] !== undefined;
      const perf = profiled
        ? await perfRecorder([process.pid, s.child.pid!, server.pid], s.p.key)
        : undefined;
      const { whole, sending, draining } = await s.throughput(perRound);
      await perf?.stop();
      if (profiled) continue; // slowed by sampling: not a measurement
      const rate = perRound / (whole.ms / 1000);
      s.rates.push(rate);
      s.ratios.push(rate / floorRates.at(-1)!);
      s.cpu.push(whole.cores.map((cores) => (cores * whole.ms) / perRound));
      s.phases.push({ round: round + 1, sending, draining });
    }
  }
  const floorRate = median(floorRates);

  const rows: string[] = [];
  const latencyLines: string[] = [];
  const cpuLines: string[] = [];
  const phaseLines: string[] = [];
  for (const s of subjects) {
    const rate = median(s.rates);
    const [senderCpu, receiverCpu, serverCpu] = [0, 1, 2].map((i) => median(s.cpu.map((c) => c[i]!)));
    cpuLines.push(
      `| ${s.p.name} | ${f2(senderCpu!)} | ${f2(receiverCpu!)} | ${f2(serverCpu!)} | ${f2(senderCpu! + receiverCpu! + serverCpu!)} |`,
    );
    rows.push(
      `| secure, ${s.p.name}: seal → publish → open, contract, schema, idempotency, handler, signed receipt, ack, receipt verified | ${perRound * s.rates.length} | ${rate.toFixed(0)} (${spread(s.rates)}) | ${(rate / rawRate).toFixed(3)} |${oldCell(rate)} ${f2(median(s.ratios))} |`,
    );
    for (const { round, sending, draining } of s.phases) {
      const cells = [sending, draining].map((ph) => {
        // CPU counted in 10 ms ticks says little about a phase of a few ticks
        const long = ph.ms >= 50;
        const cores = long
          ? `${ph.cores.map(f2).join(' / ')} (${f2(ph.cores.reduce((a, b) => a + b, 0))})`
          : '–';
        const receiverMs = long && ph.handled > 0 ? f2((ph.cores[1]! * ph.ms) / ph.handled) : '–';
        return `${ph.ms.toFixed(0)} | ${ph.handled} | ${ph.receipts} | ${cores} | ${receiverMs}`;
      });
      phaseLines.push(`| ${s.p.key} | ${round} | ${cells.join(' | ')} |`);
    }
    latencyLines.push(await s.fixedRate());
    await s.stop();
  }
  rmSync(work, { recursive: true, force: true });

  console.log(
    [
      `### Exchange — ${new Date().toISOString().slice(0, 10)}`,
      '',
      `Command: \`pnpm bench exchange --count ${COUNT} --seconds ${RATE_SECONDS} --rounds ${ROUNDS}${values.provider ? ` --provider ${values.provider}` : ''}${BASELINE_BINARY ? ` --baseline-server ${BASELINE_BINARY}` : ''}\` · ${await machineLine()} · nats-server ${server.version} (one node, file storage); sender and receiver in two processes (each administration runs its own), nats-server in a third; CPU stolen by the hypervisor during the run: ${steal().toFixed(0)} %.`,
      '',
      `Payload: \`${TYPE}\` example, ${payloadBytes} B of JSON.`,
      '',
      oldRaw
        ? `Raw JetStream on nats-server ${server.version} and ${oldVersion} (\`--baseline-server\`): ${ROUNDS} interleaved rounds of ${COUNT} messages each on each, after ${WARMUP} uncounted; the secure paths run on ${server.version} only (the exchange refuses older servers). ${server.version} / ${oldVersion}, raw: ${rawGain!.toFixed(3)}.`
        : `Raw JetStream on an older nats-server release: skipped (no \`--baseline-server <binary>\` nor PASSERELLE_BENCH_BASELINE_NATS_SERVER; for 2.9.10: \`GOBIN=/tmp/nats-2.9.10 CGO_ENABLED=0 go install github.com/nats-io/nats-server/v2@v2.9.10\`).`,
      '',
      `| path | messages | rate (msg/s): median of ${ROUNDS} rounds (slowest–fastest) | ratio to raw (nats-server ${server.version}) |${oldRawRate !== undefined ? ` ratio to raw on nats-server ${oldVersion} |` : ''} ratio to crypto floor (median of the rounds) |`,
      `| --- | ---: | ---: | ---: |${oldRawRate !== undefined ? ' ---: |' : ''} ---: |`,
      `| raw JetStream publish → pull consume → ack, nats-server ${server.version} | ${COUNT * ROUNDS} | ${rawRate.toFixed(0)} (${spread(rawTargets[0]!.rates)}) | 1.000 |${oldRawRate !== undefined ? ` ${rawGain!.toFixed(3)} (median of the rounds' ratios) |` : ''} |`,
      ...(oldRaw && oldRawRate !== undefined
        ? [
            `| raw JetStream publish → pull consume → ack, nats-server ${oldVersion} | ${COUNT * ROUNDS} | ${oldRawRate.toFixed(0)} (${spread(oldRaw.rates)}) | ${(oldRawRate / rawRate).toFixed(3)} | 1.000 | |`,
          ]
        : []),
      `| crypto floor: bare node:crypto seal + open + receipt sign and verify, one process, no NATS (${f2(median(floorCpuMs))} ms CPU per message) | ${perRound * ROUNDS} | ${floorRate.toFixed(0)} (${spread(floorRates)}) | ${(floorRate / rawRate).toFixed(3)} |${oldCell(floorRate)} 1.00 |`,
      ...rows,
      '',
      'CPU time per message during the throughput rounds (ms, user + system, from /proc, median of the rounds; two cores give 2 ms of CPU per message at 1 000 msg/s):',
      '',
      '| provider | sender | receiver | nats-server | total |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...cpuLines,
      '',
      ...(values.phases
        ? [
            'Phases of each round: sending (32 sends in flight), then draining (no more sends, until the last receipt). Handled: messages the receiver handled in the phase; receipts: those whose receipt the sender verified and recorded; cores: CPU of the sender / receiver / nats-server processes over wall time (total; 2.00 = both cores busy; the receiver and nats-server counted in 10 ms ticks, left out of phases under 50 ms); receiver ms: its CPU per message handled.',
            '',
            '| provider | round | sending ms | handled | receipts | cores | receiver ms | draining ms | handled | receipts | cores | receiver ms |',
            '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
            ...phaseLines,
            '',
          ]
        : []),
      `Fixed rate 200 msg/s for ${RATE_SECONDS} s, latency from sealing to the handler (ms):`,
      '',
      '| provider | messages | p50 | p99 | max |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...latencyLines,
    ].join('\n'),
  );
} finally {
  await baseline?.stop();
  await server.stop();
}
