/**
 * `pnpm start`: the local exchange on an embedded nats-server, every service, the portal, and a demo.
 *
 * Starts nats-server with JetStream (data under `.passerelle/`, or PASSERELLE_HOME), provisions the
 * streams of DESIGN.md, records the address in `.passerelle/server.json` for the CLI. On first start it
 * generates the trust anchor and every demo participant's keys under `.passerelle/keys/` (0600); on every
 * start it publishes the anchor-signed directory, starts the administrations' services and the portal (on
 * loopback), then runs a demo that submits sample dossiers through the portal and prints their progress
 * (meta only) and any dead letter. `pnpm start --no-demo` skips the demo. Ctrl-C stops everything.
 * Settings: environment variables validated against LAUNCHER_SETTINGS_SCHEMA (the table in README.md is
 * generated from it).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadContracts } from '@passerelle/contracts';
import { ANCHOR_FILES, createDirectoryClient, loadAnchorPrivateKey } from '@passerelle/directory';
import { toPublicJwk } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import {
  DossierKeys,
  type Exchange,
  connectExchange,
  connectNats,
  createLogger,
  provisionStreams,
} from '@passerelle/exchange';
import { startNatsServer } from '@passerelle/testing';
import { runDemoBeside } from './demo.js';
import { readLauncherSettings } from './launcher-settings.js';
import {
  type Closable,
  PARTICIPANTS,
  PORTAL,
  STRAY_POST,
  closeWithin,
  endpointsOf,
  ensureKeys,
  loadStorageKeyrings,
  publishDirectory,
  servicesLine,
  startStack,
  stopOnSignals,
} from './local-deployment.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const settings = (() => {
  try {
    return readLauncherSettings(process.env);
  } catch (err) {
    console.error(`error ${(err as PasserelleError).code}: ${(err as Error).message}`);
    process.exit(2);
  }
})();
const home = resolve(settings.home);
const keysDir = join(home, 'keys');
const withDemo = !process.argv.slice(2).includes('--no-demo');
const { logLevel, port } = settings;
const portalPort = settings.portalPort ?? (port === 0 ? 0 : 8080);

async function main(): Promise<void> {
  await mkdir(home, { recursive: true });
  const server = await startNatsServer({
    storeDir: join(home, 'nats'),
    port: port === 0 ? -1 : port,
    serverName: 'passerelle-local',
  });
  const running: Closable[] = [];
  let nc: NatsConnection | undefined;
  const demoAbort = new AbortController();
  const launcher = stopOnSignals(running, demoAbort, async () => {
    if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
    await rm(join(home, 'server.json'), { force: true });
    await server.stop();
  });

  try {
    nc = await connectNats({ servers: server.url, name: 'passerelle-start' });
    // Stream creation right after a restart can take more than the default 5 s on two cores.
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    const streams = await provisionStreams(jsm);
    await writeFile(
      join(home, 'server.json'),
      JSON.stringify({ url: server.url, pid: process.pid }, null, 2) + '\n',
    );
    console.log(`Passerelle local exchange`);
    console.log(`  nats-server ${server.version} listening on ${server.url}`);
    console.log(`  data in ${join(home, 'nats')}`);
    console.log(`  streams: ${streams.map((s) => `${s.config.name} (${s.state.messages} msgs)`).join(', ')}`);

    const { generated } = await ensureKeys(keysDir);
    console.log(
      generated.length
        ? `  keys: generated ${generated.length} key sets (trust anchor and participants) in ${keysDir}`
        : `  keys: ${PARTICIPANTS.length} participants and the trust anchor in ${keysDir}`,
    );
    const { keys, revision } = await publishDirectory(nc, keysDir);
    const anchor = toPublicJwk(await loadAnchorPrivateKey(join(keysDir, ANCHOR_FILES.private)));
    // the entries this host accepted, kept across restarts: an older one put back later is refused
    const directory = await createDirectoryClient({
      nc,
      anchor,
      stateFile: join(home, 'directory-state.json'),
      onRejected: (r) => console.error(`  ! directory entry ${r.key} refused: ${r.error.message}`),
    });
    await directory.waitForRevision(revision, 15_000);
    running.push(directory);
    console.log(`  directory: ${PARTICIPANTS.length} entries signed by the trust anchor`);
    const contracts = await loadContracts({ root });

    const stack = await startStack({
      home,
      servers: server.url,
      keys,
      storageKeys: await loadStorageKeyrings(keysDir),
      directory,
      contracts,
      logLevel,
      auditorPort: port === 0 ? 0 : 8090,
      portalPort,
      backOfficeDefaultPorts: port !== 0,
      running,
      print: (line) => console.log(line),
    });
    const { services: started, portalUrl, client } = stack;
    console.log(`  services: ${servicesLine(started)}`);
    if (stack.automatic.length) {
      console.log(`  automatic decisions (the local deployment's policies): ${stack.automatic.join('; ')}`);
    }
    if (stack.scans.services.length) {
      console.log(
        `  deadline scans: ${stack.scans.services.join(', ')}, at start and every ${stack.scans.intervalMs / 1000} s (as each service alone)`,
      );
    }
    if (stack.missing.length) {
      console.log(`  services not available in this checkout: ${stack.missing.join(', ')}`);
    }
    console.log(
      `  auditor: recording every envelope and receipt in LEDGER; viewer on ${stack.auditorViewerUrl} (token in ${stack.auditorTokenFile})`,
    );
    await writeFile(
      join(home, 'server.json'),
      JSON.stringify({ url: server.url, pid: process.pid, portal: portalUrl }, null, 2) + '\n',
    );
    console.log(
      `  portal: ${PORTAL} on ${portalUrl} (OpenAPI at ${portalUrl}/openapi.json; the demo integrator's client credentials in ${join(home, 'portal-client.json')})`,
    );
    for (const [name, bo] of Object.entries(stack.backOffices)) {
      console.log(
        `  back office: ${name} (${bo.participants.join(', ')}) on ${bo.url} (OpenAPI at ${bo.url}/openapi.json; the demo case system's client credentials in ${bo.credentialsFile})`,
      );
    }
    const endpoints = endpointsOf(server.url, stack, join(home, 'portal-client.json'));
    await writeFile(join(home, 'endpoints.json'), JSON.stringify(endpoints, null, 2) + '\n', { mode: 0o600 });
    console.log(`  every door's URL and credentials file: ${join(home, 'endpoints.json')}`);
    console.log(`ready: try \`pnpm passerelle status\` in another shell; Ctrl-C stops.`);

    if (withDemo) {
      let strayPost: Exchange | undefined;
      if (started['immigration-office']) {
        strayPost = await connectExchange({
          participant: STRAY_POST,
          keys: keys.get(STRAY_POST)!,
          directory,
          contracts,
          servers: server.url,
          logger: createLogger(STRAY_POST, { level: logLevel }),
          // sealed under the dossier's key, as every party of the local exchange does
          payloadSeal: DossierKeys.over(() => nc!, { keys: keys.get(STRAY_POST)!, directory }),
        });
        running.push(strayPost);
      }
      await runDemoBeside(
        {
          portalUrl,
          client,
          nc,
          backOffices: Object.fromEntries(
            Object.entries(stack.backOffices).map(([name, bo]) => [name, { url: bo.url, client: bo.client }]),
          ),
          byHand: stack.byHand,
          ...(strayPost ? { strayPost } : {}),
          signal: demoAbort.signal,
        },
        started['commune'],
        () => launcher.stopping,
      );
    }
  } catch (err) {
    if (launcher.stopping) return;
    if (err instanceof PasserelleError) console.error(`error ${err.code}: ${err.message}`);
    else console.error(err);
    for (const r of running.reverse()) await closeWithin(r, 5_000);
    await server.stop();
    process.exit(1);
  }
}

// `pnpm start --secure`: the exchange with nkeys, mutual TLS and per-participant permissions (scripts/secure-exchange.ts).
const run = process.argv.slice(2).includes('--secure')
  ? async () =>
      (await import('./secure-exchange.js')).runSecureExchange({
        home,
        port,
        logLevel,
        portalPort,
        demo: withDemo,
      })
  : main;
run().catch((err: unknown) => {
  if (err instanceof PasserelleError) console.error(`error ${err.code}: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
