/**
 * `pnpm bench scale [--sizes 10,100,1000]`: how onboarding grows with the number of participants, on one
 * secured nats-server in operator mode. For each size, on a fresh server: the deployment file's
 * participants, then that many communes onboarded through the lifecycle (request on the body's side,
 * approve by the operator), timed; then one more commune approved while a post and the Immigration Office
 * exchange at a steady rate, timed until its first message is receipted; the server's memory and the size
 * of the account JWTs the operator pushes. Prints a Markdown table for BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Contracts, loadContracts, readExample } from '@passerelle/contracts';
import {
  createDirectoryClient,
  loadAnchorPrivateKey,
  loadParticipantKeys,
  makeEntry,
  publishNextEntry,
  writeAnchor,
} from '@passerelle/directory';
import { generateParticipantKeys, toPublicJwk } from '@passerelle/envelope';
import { loadCredentials } from '@passerelle/exchange';
import {
  type LifecycleOptions,
  acceptApproval,
  approveParticipant,
  openOperatorHome,
  readDeploymentFile,
  requestRegistration,
} from '@passerelle/operator';
import {
  connectOnCredentials,
  connectOperator,
  prepareSecureDeployment,
  provisionSecure,
  provisionServiceStores,
  startSecureServer,
} from '../secure-exchange.js';
import { machineLine, percentile } from './_util.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const POST = 'post-ankara';
const OE = 'immigration-office';
/** Messages per second of the traffic that runs while one more commune is onboarded. */
const RATE = 50;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The first valid example payload shipped beside a schema. */
async function example(type: string): Promise<unknown> {
  return Promise.resolve(readExample(ROOT, type));
}

interface Row {
  size: number;
  provisionS: number;
  approveMsP50: number;
  approveMsLast: number;
  onboardUnderTrafficMs: number;
  firstMessageMs: number;
  trafficP99Ms: number;
  serverRssMiB: number;
  communeAccountJwtKiB: number;
}

async function measure(size: number, contracts: Contracts): Promise<Row> {
  const home = mkdtempSync(join(tmpdir(), `passerelle-bench-scale-${size}-`));
  const deployment = await prepareSecureDeployment({ dir: join(home, 'secure') });
  const server = await startSecureServer(deployment);
  try {
    await deployment.writeCredentials([server.url]);
    await provisionSecure(deployment, server.url, { participants: [POST, OE] });
    await provisionServiceStores(deployment, server.url, { participants: [POST, OE] });
    const anchor = await writeAnchor(join(home, 'keys'));
    const anchorKey = await loadAnchorPrivateKey(anchor.privatePath);
    const op = await connectOperator(deployment, server.url);
    const keys = new Map([
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
    const directory = await createDirectoryClient({ nc: op, anchor: anchor.publicKey });
    const options: LifecycleOptions = {
      home: await openOperatorHome({ dir: deployment.dir }),
      deployment: readDeploymentFile(join(ROOT, 'infra', 'participants.json')),
      contracts,
      anchorKey,
      servers: [server.url],
    };
    const onboard = async (i: number): Promise<{ id: string; dir: string; ms: number }> => {
      const id = `commune-${String(90000 + i)}`;
      const dir = join(home, 'bodies', id);
      const { file } = await requestRegistration({ participant: id, name: `Commune ${i}`, dir });
      const started = performance.now();
      const approval = await approveParticipant(JSON.parse(await readFile(file, 'utf8')), options);
      const ms = performance.now() - started;
      await acceptApproval(approval, dir);
      return { id, dir, ms };
    };

    const startedAll = performance.now();
    const approvals: number[] = [];
    for (let i = 0; i < size; i++) {
      try {
        approvals.push((await onboard(i)).ms);
      } catch (err) {
        // say where it stopped and what the server said, then fail
        const said = server
          .log()
          .split('\n')
          .filter((l) => /resources|JetStream|jetstream/i.test(l))
          .slice(-5);
        console.error(`scale: onboarding commune ${i + 1} of ${size} failed:\n${said.join('\n')}`);
        throw err;
      }
    }
    const provisionS = (performance.now() - startedAll) / 1000;

    // steady traffic between two participants while one more commune is onboarded
    const shared = { directory, contracts, logLevel: 'silent' } as const;
    const open = async (id: string) =>
      connectOnCredentials(await loadCredentials(deployment.credentialsFile(id)), id, keys.get(id)!, shared);
    const post = await open(POST);
    const office = await open(OE);
    const arrived = new Map<string, number>();
    const sentAt = new Map<string, number>();
    office.subscribe({
      'visa-issued': async (m) => {
        arrived.set(m.meta.id, performance.now());
      },
      'arrival-registered': async (m) => {
        arrived.set(m.meta.id, performance.now());
      },
    });
    const visa = await example('visa-issued');
    let running = true;
    let n = 0;
    const traffic = (async () => {
      while (running) {
        const t = performance.now();
        const [s] = await post.send('visa-issued', visa, { to: OE, dossierId: `bench-scale-${n++}` });
        sentAt.set(s!.id, t);
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 / RATE - (performance.now() - t))));
      }
    })();
    await new Promise((r) => setTimeout(r, 1_000));
    const onboardStart = performance.now();
    const extra = await onboard(size);
    const commune = await connectOnCredentials(
      await loadCredentials(join(extra.dir, `${extra.id}.json`)),
      extra.id,
      await loadParticipantKeys(extra.dir),
      shared,
    );
    while (directory.get(extra.id) === undefined) await new Promise((r) => setTimeout(r, 20));
    const [first] = await commune.send('arrival-registered', await example('arrival-registered'), {
      to: OE,
      dossierId: 'bench-scale-first',
    });
    await commune.awaitReceipt(first!.id, 30_000);
    const firstMessageMs = performance.now() - onboardStart;
    running = false;
    await traffic;
    await new Promise((r) => setTimeout(r, 1_000));
    const latencies = [...sentAt].filter(([id]) => arrived.has(id)).map(([id, t]) => arrived.get(id)! - t);
    const varz = (await (await fetch(`${server.monitorUrl}/varz`)).json()) as { mem: number };
    const resolver = join(deployment.dir, 'resolver');
    const sizes = await Promise.all(
      (await readdir(resolver)).map(async (f) => (await stat(join(resolver, f))).size),
    );
    await commune.close();
    await post.close();
    await office.close();
    await directory.close();
    await op.close();
    return {
      size,
      provisionS,
      approveMsP50: percentile(approvals, 50),
      approveMsLast: approvals.at(-1) ?? Number.NaN,
      onboardUnderTrafficMs: extra.ms,
      firstMessageMs,
      trafficP99Ms: percentile(latencies, 99),
      serverRssMiB: varz.mem / 2 ** 20,
      communeAccountJwtKiB: Math.max(...sizes) / 1024,
    };
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

const sizes = (arg('--sizes') ?? '10,100').split(',').map(Number);
const contracts = await loadContracts({ root: ROOT });
const rows: Row[] = [];
for (const size of sizes) {
  console.error(`scale: ${size} communes…`);
  rows.push(await measure(size, contracts));
}
console.log(`\n${await machineLine()}, nats-server 2.15.3, one secured node\n`);
console.log(
  '| communes onboarded | provision all (s) | approve p50 (ms) | approve of the last (ms) | approve under traffic (ms) | approve → first receipt (ms) | traffic p99 (ms) | server memory (MiB) | largest account JWT (KiB) |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.size} | ${r.provisionS.toFixed(1)} | ${r.approveMsP50.toFixed(0)} | ${r.approveMsLast.toFixed(0)} | ${r.onboardUnderTrafficMs.toFixed(0)} | ${r.firstMessageMs.toFixed(0)} | ${r.trafficP99Ms.toFixed(1)} | ${r.serverRssMiB.toFixed(0)} | ${r.communeAccountJwtKiB.toFixed(1)} |`,
  );
}
