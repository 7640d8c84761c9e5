/**
 * `pnpm bench scale [--sizes 10,100,1000] [--seconds 10]`: how the secured exchange grows with the number of
 * participants, on one nats-server in operator mode (full resolver). For each size, on a fresh server: the
 * deployment file's participants, then that many bodies (six communes to one consular post) onboarded one
 * after the other through the lifecycle (request on the body's side, approve by the operator), timed; every
 * one of them then connected as its service would be (one connection each, its inbox pulled), all in this
 * process; the server's and this process's CPU while nobody sends; a consular post sending to the
 * Immigration Office at 200 msg/s (latency to the handler, server CPU per delivered message) and at full
 * speed; one more commune approved while the 200 msg/s run, timed until its first message is receipted;
 * the server's memory. Prints a Markdown table for BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type Contracts, loadContracts, readExample } from '@passerelle/contracts';
import {
  type DirectoryClient,
  createDirectoryClient,
  loadAnchorPrivateKey,
  loadParticipantKeys,
  makeEntry,
  publishNextEntry,
  writeAnchor,
} from '@passerelle/directory';
import { type ParticipantKeys, generateParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import { type Exchange, connectExchange, createLogger, loadCredentials } from '@passerelle/exchange';
import {
  type LifecycleOptions,
  type Approval,
  acceptApproval,
  approveParticipant,
  openOperatorHome,
  readDeploymentFile,
  requestRegistration,
} from '@passerelle/operator';
import {
  connectOperator,
  prepareSecureDeployment,
  provisionSecure,
  provisionServiceStores,
  startSecureServer,
} from '../secure-exchange.js';
import type { ApproveWorkerData } from './_approve-worker.js';
import { machineLine, percentile, processCpuMs } from './_util.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const POST = 'post-ankara';
const OE = 'immigration-office';
/** Messages per second of the paced run (the target: p99 under 50 ms at this rate). */
const RATE = 200;
/** Sends in flight at once in the full-speed run. */
const WINDOW = 32;
/**
 * Most messages the full-speed window sends: the sending post's account is sized for its kind (a few
 * thousand records a year) and its outbox keeps a record of each message, so a fast machine would fill it.
 */
const FULL_SPEED_CAP = 8_000;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  size: number;
  provisionS: number;
  approveMsP50: number;
  approveMsLast: number;
  connectAllS: number;
  startupMsP50: number;
  idleServerCpuPct: number;
  idleClientCpuPct: number;
  pacedRate: number;
  pacedP50Ms: number;
  pacedP99Ms: number;
  serverCpuUsPerMsg: number;
  fullRate: number;
  onboardUnderTrafficMs: number;
  onboardUnderTrafficInLoopMs: number;
  firstMessageMs: number;
  serverRssMiB: number;
  loadAvg: string;
}

/** The id of the `i`-th body onboarded: six communes to one consular post. */
function bodyId(i: number): string {
  return i % 7 === 6 ? `post-b${i}` : `commune-${String(90000 + i)}`;
}

async function measure(size: number, contracts: Contracts, seconds: number): Promise<Row> {
  const home = mkdtempSync(join(tmpdir(), `passerelle-bench-scale-${size}-`));
  const deployment = await prepareSecureDeployment({ dir: join(home, 'secure') });
  const server = await startSecureServer(deployment);
  const exchanges: Exchange[] = [];
  let directory: DirectoryClient | undefined;
  try {
    await deployment.writeCredentials([server.url]);
    await provisionSecure(deployment, server.url, { participants: [POST, OE] });
    await provisionServiceStores(deployment, server.url, { participants: [POST, OE] });
    const anchor = await writeAnchor(join(home, 'keys'));
    const anchorKey = await loadAnchorPrivateKey(anchor.privatePath);
    const op = await connectOperator(deployment, server.url);
    const keys = new Map<string, ParticipantKeys>([
      [POST, await generateParticipantKeys(POST)],
      [OE, await generateParticipantKeys(OE)],
    ]);
    for (const [id, k] of keys) {
      await publishNextEntry(
        op,
        makeEntry(id, id, [toPublicJwk(k.signing)], k.encryption.map(toPublicJwk)),
        anchorKey,
      );
    }
    directory = await createDirectoryClient({ nc: op, anchor: anchor.publicKey });
    const dir = directory;
    const options: LifecycleOptions = {
      home: await openOperatorHome({ dir: deployment.dir }),
      deployment: readDeploymentFile(join(ROOT, 'infra', 'participants.json')),
      contracts,
      anchorKey,
      servers: [server.url],
    };
    const onboard = async (id: string): Promise<{ id: string; dir: string; ms: number }> => {
      const bodyDir = join(home, 'bodies', id);
      const { file } = await requestRegistration({ participant: id, name: id, dir: bodyDir });
      const started = performance.now();
      const approval = await approveParticipant(JSON.parse(await readFile(file, 'utf8')), options);
      const ms = performance.now() - started;
      await acceptApproval(approval, bodyDir);
      return { id, dir: bodyDir, ms };
    };
    /**
     * `id` onboarded with the operator's approval in a thread of its own, as the operator's own process
     * would approve it: the thread is started and loaded before it is timed.
     */
    const onboardByOperator = async (id: string): Promise<{ id: string; dir: string; ms: number }> => {
      const bodyDir = join(home, 'bodies', id);
      const { file } = await requestRegistration({ participant: id, name: id, dir: bodyDir });
      const answer = await new Promise<{ approval?: Approval; ms?: number; error?: string }>(
        (resolve, reject) => {
          approver.once('message', (m: { approval?: Approval; ms?: number; error?: string }) => resolve(m));
          approver.once('error', reject);
          approver.postMessage(file);
        },
      );
      if (!answer.approval) throw new Error(`the approval of ${id} failed: ${answer.error}`);
      await acceptApproval(answer.approval, bodyDir);
      return { id, dir: bodyDir, ms: answer.ms! };
    };
    /** `id` connected as its service, with its credentials file and keys, on streams provisioned already. */
    const connectAs = async (
      id: string,
      credentialsFile: string,
      participantKeys: ParticipantKeys,
    ): Promise<Exchange> => {
      const c = await loadCredentials(credentialsFile);
      return connectExchange({
        participant: id,
        keys: participantKeys,
        directory: dir,
        contracts,
        servers: c.servers,
        connection: c.connection,
        exchangeApiPrefix: c.accounts!.exchangeApiPrefix,
        provision: false,
        logger: createLogger(id, { level: 'silent' }),
      });
    };
    /** A body's service: its credentials file, its keys, its inbox pulled (no handler: nobody sends to it). */
    const openBody = async (id: string, bodyDir: string): Promise<Exchange> => {
      const ex = await connectAs(id, join(bodyDir, `${id}.json`), await loadParticipantKeys(bodyDir));
      ex.subscribe({});
      return ex;
    };

    const startedAll = performance.now();
    const bodies: { id: string; dir: string; ms: number }[] = [];
    for (let i = 0; i < size; i++) {
      try {
        bodies.push(await onboard(bodyId(i)));
      } catch (err) {
        const said = server
          .log()
          .split('\n')
          .filter((l) => /\[(ERR|WRN)\]/.test(l))
          .slice(-5);
        console.error(`scale: onboarding body ${i + 1} of ${size} failed:\n${said.join('\n')}`);
        throw err;
      }
      if ((i + 1) % 100 === 0) {
        const recent = bodies.slice(-100).map((b) => b.ms);
        console.error(
          `scale: ${i + 1} of ${size} onboarded in ${((performance.now() - startedAll) / 1000).toFixed(0)} s; approvals ${i - 98}–${i + 1}: p50 ${percentile(recent, 50).toFixed(0)} ms, p90 ${percentile(recent, 90).toFixed(0)} ms; load ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`,
        );
      }
    }
    const provisionS = (performance.now() - startedAll) / 1000;

    // every body connected as its service: one connection each, its inbox consumer pulled
    const startupMs: number[] = [];
    const connectStart = performance.now();
    for (const b of bodies) {
      const t = performance.now();
      exchanges.push(await openBody(b.id, b.dir));
      startupMs.push(performance.now() - t);
    }
    const connectAllS = (performance.now() - connectStart) / 1000;

    const open = async (id: string) => {
      const ex = await connectAs(id, deployment.credentialsFile(id), keys.get(id)!);
      exchanges.push(ex);
      return ex;
    };
    const post = await open(POST);
    const office = await open(OE);
    const arrived = new Map<string, number>();
    office.subscribe({
      'visa-issued': async (m) => {
        arrived.set(m.meta.id, performance.now());
      },
      'arrival-registered': async (m) => {
        arrived.set(m.meta.id, performance.now());
      },
    });
    const visa = readExample(ROOT, 'visa-issued');
    let n = 0;
    const sendOne = async (sentAt: Map<string, number>) => {
      const t = performance.now();
      const [s] = await post.send('visa-issued', visa, { to: OE, dossierId: `bench-scale-${n++}` });
      sentAt.set(s!.id, t);
    };
    // warm-up: the paths, the keys, the JIT
    const warm = new Map<string, number>();
    for (let i = 0; i < 200; i++) await sendOne(warm);
    while ([...warm.keys()].some((id) => !arrived.has(id))) await sleep(50);

    // idle: everyone connected and pulling, nobody sending
    await sleep(3_000);
    const idleServer0 = processCpuMs(server.pid);
    const idleClient0 = process.cpuUsage();
    await sleep(seconds * 1000);
    const idleServerCpuPct = (processCpuMs(server.pid) - idleServer0) / (seconds * 10);
    const idleClientUs = process.cpuUsage(idleClient0);
    const idleClientCpuPct = (idleClientUs.user + idleClientUs.system) / 1000 / (seconds * 10);

    /** Sends at RATE msg/s until `stop` resolves; what was sent, by envelope id → when. */
    const paced = async (stop: Promise<unknown>): Promise<Map<string, number>> => {
      const sent = new Map<string, number>();
      let running = true;
      void stop.finally(() => (running = false));
      const start = performance.now();
      for (let k = 1; running; k++) {
        void sendOne(sent);
        await sleep(Math.max(0, start + (k * 1000) / RATE - performance.now()));
      }
      const deadline = performance.now() + 10_000;
      while ([...sent.keys()].some((id) => !arrived.has(id)) && performance.now() < deadline) await sleep(50);
      return sent;
    };

    // paced: RATE msg/s for `seconds`, nothing else running
    const pacedServer0 = processCpuMs(server.pid);
    const pacedSent = await paced(sleep(seconds * 1000));
    const pacedServerMs = processCpuMs(server.pid) - pacedServer0;
    const latencies = [...pacedSent].filter(([id]) => arrived.has(id)).map(([id, t]) => arrived.get(id)! - t);
    const pacedSpan =
      (Math.max(...[...pacedSent.keys()].map((id) => arrived.get(id) ?? 0)) -
        Math.min(...pacedSent.values())) /
      1000;

    // one more commune onboarded while RATE msg/s run, until its first message is receipted; its approval
    // by the operator's own thread, then one more in the benchmark's event loop (as earlier runs measured it)
    const approver = new Worker(new URL('./_ts-worker.mjs', import.meta.url), {
      workerData: {
        module: new URL('./_approve-worker.ts', import.meta.url).href,
        root: ROOT,
        operatorDir: deployment.dir,
        deploymentFile: join(ROOT, 'infra', 'participants.json'),
        anchorKey,
        servers: [server.url],
      } satisfies ApproveWorkerData & { module: string },
    });
    await new Promise<void>((resolve, reject) => {
      approver.once('message', () => resolve());
      approver.once('error', reject);
    });
    let onboardMs = 0;
    let onboardInLoopMs = 0;
    let firstMessageMs = 0;
    await paced(
      (async () => {
        await sleep(1_000);
        const onboardStart = performance.now();
        const extra = await onboardByOperator(`commune-${String(90000 + size)}`);
        onboardMs = extra.ms;
        const commune = await openBody(extra.id, extra.dir);
        exchanges.push(commune);
        while (dir.get(extra.id) === undefined) await sleep(20);
        const [first] = await commune.send('arrival-registered', readExample(ROOT, 'arrival-registered'), {
          to: OE,
          dossierId: 'bench-scale-first',
        });
        await commune.awaitReceipt(first!.id, 30_000);
        firstMessageMs = performance.now() - onboardStart;
        onboardInLoopMs = (await onboard(`commune-${String(90001 + size)}`)).ms;
        await sleep(1_000);
      })(),
    );
    await approver.terminate();

    // full speed: WINDOW sends in flight for `seconds` (FULL_SPEED_CAP at most), counted where they arrive
    const full = new Map<string, number>();
    const fullStart = performance.now();
    const fullEnd = fullStart + seconds * 1000;
    await Promise.all(
      Array.from({ length: WINDOW }, async () => {
        while (performance.now() < fullEnd && full.size < FULL_SPEED_CAP) await sendOne(full);
      }),
    );
    const fullDeadline = performance.now() + 30_000;
    while ([...full.keys()].some((id) => !arrived.has(id)) && performance.now() < fullDeadline)
      await sleep(20);
    const lastArrival = Math.max(...[...full.keys()].map((id) => arrived.get(id) ?? 0));
    const fullRate =
      [...full.keys()].filter((id) => arrived.has(id)).length / ((lastArrival - fullStart) / 1000);

    const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as { mem: number };
    const os = await import('node:os');
    for (const ex of exchanges.splice(0)) await ex.close();
    await directory.close();
    directory = undefined;
    await op.close();
    return {
      size,
      provisionS,
      approveMsP50: percentile(
        bodies.map((b) => b.ms),
        50,
      ),
      approveMsLast: bodies.at(-1)?.ms ?? Number.NaN,
      connectAllS,
      startupMsP50: percentile(startupMs, 50),
      idleServerCpuPct,
      idleClientCpuPct,
      pacedRate: latencies.length / pacedSpan,
      pacedP50Ms: percentile(latencies, 50),
      pacedP99Ms: percentile(latencies, 99),
      serverCpuUsPerMsg: (pacedServerMs * 1000) / Math.max(1, latencies.length),
      fullRate,
      onboardUnderTrafficMs: onboardMs,
      onboardUnderTrafficInLoopMs: onboardInLoopMs,
      firstMessageMs,
      serverRssMiB: varz.mem / 2 ** 20,
      loadAvg: os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' '),
    };
  } finally {
    for (const ex of exchanges) await ex.close().catch(() => undefined);
    await directory?.close().catch(() => undefined);
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

const sizes = (arg('--sizes') ?? '10,100,1000').split(',').map(Number);
const seconds = Number(arg('--seconds') ?? '10');
const contracts = await loadContracts({ root: ROOT });
const rows: Row[] = [];
for (const size of sizes) {
  console.error(`scale: ${size} bodies…`);
  rows.push(await measure(size, contracts, seconds));
  const r = rows.at(-1)!;
  console.error(`scale: ${size} done: ${JSON.stringify(r)}`);
}
console.log(`\n${await machineLine()}, nats-server 2.15.3, one secured node\n`);
const header = [
  'bodies onboarded',
  'provision all (s)',
  'approve p50 (ms)',
  'approve of the last (ms)',
  "approve under traffic, operator's thread (ms)",
  "approve under traffic, in the benchmark's loop (ms)",
  'approve → first receipt (ms)',
  'connect all (s)',
  'service start-up p50 (ms)',
  'idle server CPU (% of a core)',
  'idle clients CPU (% of a core)',
  `delivered at ${RATE}/s (msg/s)`,
  'p50 (ms)',
  'p99 (ms)',
  'server CPU per message (µs)',
  'full speed (msg/s)',
  'server memory (MiB)',
  'load average after',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---:').join('|')}|`);
for (const r of rows) {
  console.log(
    `| ${[
      r.size,
      r.provisionS.toFixed(1),
      r.approveMsP50.toFixed(0),
      r.approveMsLast.toFixed(0),
      r.onboardUnderTrafficMs.toFixed(0),
      r.onboardUnderTrafficInLoopMs.toFixed(0),
      r.firstMessageMs.toFixed(0),
      r.connectAllS.toFixed(1),
      r.startupMsP50.toFixed(0),
      r.idleServerCpuPct.toFixed(1),
      r.idleClientCpuPct.toFixed(1),
      r.pacedRate.toFixed(0),
      r.pacedP50Ms.toFixed(1),
      r.pacedP99Ms.toFixed(1),
      r.serverCpuUsPerMsg.toFixed(0),
      r.fullRate.toFixed(0),
      r.serverRssMiB.toFixed(0),
      r.loadAvg,
    ].join(' | ')} |`,
  );
}
const base = rows[0]!;
for (const r of rows.slice(1)) {
  console.log(
    `\n${r.size} against ${base.size}: full-speed rate ×${(r.fullRate / base.fullRate).toFixed(2)}, paced p99 ×${(r.pacedP99Ms / base.pacedP99Ms).toFixed(2)}, server CPU per message ×${(r.serverCpuUsPerMsg / base.serverCpuUsPerMsg).toFixed(2)}, idle server CPU ×${(r.idleServerCpuPct / Math.max(0.01, base.idleServerCpuPct)).toFixed(1)}`,
  );
}
