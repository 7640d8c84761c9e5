/**
 * The secured exchange: identities, TLS material, credentials files and secured nats-servers, from the
 * configuration that scripts/gen-infra.ts generates under infra/nats/. Used by `pnpm start --secure`, the
 * security and fault tests, and the soak benchmark.
 *
 * Layout under the state folder (default `.passerelle/`, git-ignored):
 *   tls/                          development CA, server and client certificates (scripts/dev-ca.sh), keys 0600
 *   secure/nkeys/<identity>.nk    nkey seeds, 0600 (the server only ever sees the public keys)
 *   secure/credentials/<id>.json  one credentials file per participant, read by loadCredentials()
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import {
  type ConnectionOptions,
  type NatsConnection,
  connect,
  nkeyAuthenticator,
  nkeys,
} from '@nats-io/transport-node';
import type { CredentialsFile, InboxConsumerOptions } from '@passerelle/exchange';
import { StreamNames, provisionParticipant, provisionStreams } from '@passerelle/exchange';
import { participantKind } from '@passerelle/directory';
import { AUDITOR_CONSUMER, auditorConsumerConfig } from '../services/auditor/src/index.js';
import { provisionPortalStores } from '../services/portal/src/index.js';
import {
  type NatsCluster,
  type NatsServer,
  type NatsServerOptions,
  startNatsCluster,
  startNatsServer,
} from '@passerelle/testing';
import type { DemoCommuneDesk } from './demo.js';
import type { Closable } from './local-deployment.js';
import {
  OPERATOR_IDENTITY,
  SYSTEM_IDENTITY,
  inboxPrefixOf,
  nkeyEnvName,
  readParticipants,
  readObjectStores,
  readServiceBuckets,
} from './gen-infra.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The generated configuration every secured server includes. */
export const SECURE_CONF = join(ROOT, 'infra/nats/secure.conf');

/** A prepared secured deployment: where its material is and how servers and clients use it. */
export interface SecureDeployment {
  /** Folder of nkeys and credentials files. */
  dir: string;
  /** Folder of the CA and certificates. */
  tlsDir: string;
  /** Participants of infra/participants.json (the identities the server knows). */
  participants: string[];
  /** Environment the server configuration references: public nkeys and TLS files. */
  serverEnv: Record<string, string>;
  /** Path of a participant's (or the operator's) credentials file. */
  credentialsFile(participant: string): string;
  /** Connection settings of the operator identity (full rights in the exchange account). */
  operator(): Promise<Omit<ConnectionOptions, 'servers'>>;
  /** Writes every participant's credentials file, and the operator's, for these server URLs. */
  writeCredentials(servers: readonly string[]): Promise<void>;
}

/**
 * Creates what is missing — CA and certificates (scripts/dev-ca.sh), one nkey per identity — and returns
 * the deployment. Existing material is kept, so restarts keep identities.
 */
export async function prepareSecureDeployment(
  options: { dir?: string; tlsDir?: string } = {},
): Promise<SecureDeployment> {
  const dir = resolve(options.dir ?? join(ROOT, '.passerelle/secure'));
  const tlsDir = resolve(options.tlsDir ?? join(dir, '..', 'tls'));
  const participants = readParticipants(ROOT);
  const identities = [OPERATOR_IDENTITY, SYSTEM_IDENTITY, ...participants];
  await run('bash', [join(ROOT, 'scripts/dev-ca.sh'), '--dir', tlsDir, ...identities]);

  await mkdir(join(dir, 'nkeys'), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'credentials'), { recursive: true, mode: 0o700 });
  const serverEnv: Record<string, string> = {
    PEX_TLS_CERT: join(tlsDir, 'server.pem'),
    PEX_TLS_KEY: join(tlsDir, 'server.key'),
    PEX_TLS_CA: join(tlsDir, 'ca.pem'),
  };
  for (const id of identities) {
    const seedFile = join(dir, 'nkeys', `${id}.nk`);
    if (!existsSync(seedFile)) {
      const user = nkeys.createUser();
      await writeFile(seedFile, new TextDecoder().decode(user.getSeed()) + '\n', { mode: 0o600 });
      await chmod(seedFile, 0o600);
    }
    const seed = (await readFile(seedFile, 'utf8')).trim();
    serverEnv[nkeyEnvName(id)] = nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  }

  const deployment: SecureDeployment = {
    dir,
    tlsDir,
    participants,
    serverEnv,
    credentialsFile: (participant) => join(dir, 'credentials', `${participant}.json`),
    async operator() {
      const seed = (await readFile(join(dir, 'nkeys', `${OPERATOR_IDENTITY}.nk`), 'utf8')).trim();
      return {
        name: OPERATOR_IDENTITY,
        authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)),
        tls: {
          caFile: join(tlsDir, 'ca.pem'),
          certFile: join(tlsDir, `client-${OPERATOR_IDENTITY}.pem`),
          keyFile: join(tlsDir, `client-${OPERATOR_IDENTITY}.key`),
        },
      };
    },
    async writeCredentials(servers) {
      const folder = join(dir, 'credentials');
      // each participant's, and the operator's for the CLI (`passerelle --credentials …`)
      for (const id of [...participants, OPERATOR_IDENTITY]) {
        const body: CredentialsFile = {
          ...(id === OPERATOR_IDENTITY ? { identity: id } : { participant: id }),
          servers: [...servers],
          nkeySeedFile: relative(folder, join(dir, 'nkeys', `${id}.nk`)),
          tls: {
            caFile: relative(folder, join(tlsDir, 'ca.pem')),
            certFile: relative(folder, join(tlsDir, `client-${id}.pem`)),
            keyFile: relative(folder, join(tlsDir, `client-${id}.key`)),
          },
        };
        await writeFile(deployment.credentialsFile(id), JSON.stringify(body, null, 2) + '\n', {
          mode: 0o600,
        });
      }
    },
  };
  return deployment;
}

/**
 * The `include` line of a server configuration written in a folder of the system temp dir (where the test
 * harness writes it): nats-server resolves includes relative to the including file only.
 */
function includeSecureConf(configDir = join(tmpdir(), 'passerelle-nats-x')): string {
  return `include ${JSON.stringify(relative(configDir, SECURE_CONF))}`;
}

/** Starts one secured nats-server (TLS, nkeys, permissions, limits of infra/nats/secure.conf). */
export async function startSecureServer(
  deployment: SecureDeployment,
  options: Omit<NatsServerOptions, 'extraConfig' | 'env'> = {},
): Promise<NatsServer> {
  return startNatsServer({
    ...options,
    extraConfig: includeSecureConf(),
    env: deployment.serverEnv,
  });
}

/** Starts a secured 3-node JetStream cluster on loopback. */
export async function startSecureCluster(deployment: SecureDeployment): Promise<NatsCluster> {
  return startNatsCluster({
    extraConfig: includeSecureConf(),
    env: deployment.serverEnv,
    clientOptions: await deployment.operator(),
  });
}

/** Connects with the operator identity. */
export async function connectOperator(
  deployment: SecureDeployment,
  servers: string | string[],
): Promise<NatsConnection> {
  return connect({ ...(await deployment.operator()), servers, timeout: 10_000 });
}

/**
 * Provisions, with operator credentials, the streams and every participant's consumers and buckets, so
 * participants connect with `provision: false` and rights on their own resources only.
 */
export async function provisionSecure(
  deployment: SecureDeployment,
  servers: string | string[],
  options: { replicas?: number; participants?: readonly string[]; consumer?: InboxConsumerOptions } = {},
): Promise<void> {
  const nc = await connectOperator(deployment, servers);
  try {
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    await provisionStreams(jsm, { replicas: options.replicas ?? 1 });
    for (const id of options.participants ?? deployment.participants) {
      await provisionParticipant(nc, id, {
        replicas: options.replicas ?? 1,
        ...(options.consumer ? { consumer: options.consumer } : {}),
      });
      // the auditor reads the whole stream through its own consumer, which only the operator may create
      if (participantKind(id) === 'auditor') {
        await jsm.consumers
          .info(StreamNames.exchange, AUDITOR_CONSUMER)
          .catch(() => jsm.consumers.add(StreamNames.exchange, auditorConsumerConfig(AUDITOR_CONSUMER)));
      }
    }
  } finally {
    await nc.close();
  }
}

/**
 * Provisions, with operator credentials, what the services keep beside the exchange: each participant's
 * state bucket `svc-<id>`, the buckets and object stores its kind's service shares (infra/participants.json),
 * and the signed `directory` bucket — so services connect with `provision: false`.
 */
export async function provisionServiceStores(
  deployment: SecureDeployment,
  servers: string | string[],
  options: { participants?: readonly string[]; replicas?: number } = {},
): Promise<void> {
  const nc = await connectOperator(deployment, servers);
  try {
    const ids = options.participants ?? deployment.participants;
    const kinds = new Set(ids.map((id) => participantKind(id)));
    const serviceBuckets = readServiceBuckets(ROOT);
    const objectStores = readObjectStores(ROOT);
    const replicas = options.replicas ?? 1;
    const kvm = new Kvm(nc);
    const shared = [...kinds].flatMap((kind) => serviceBuckets[kind] ?? []);
    for (const bucket of new Set([...ids.map((id) => `svc-${id}`), ...shared])) {
      await kvm.create(bucket, { history: 1, replicas });
    }
    await kvm.create('directory', { history: 5, replicas });
    // a portal's stores have settings of their own (retention, history, description)
    for (const id of ids.filter((p) => participantKind(p) === 'portal')) {
      await provisionPortalStores(nc, id, { replicas });
    }
    const objm = new Objm(nc);
    for (const bucket of new Set([...kinds].flatMap((kind) => objectStores[kind] ?? []))) {
      await objm.open(bucket).catch(() => objm.create(bucket, { replicas }));
    }
  } finally {
    await nc.close();
  }
}

export { inboxPrefixOf };

/**
 * `pnpm start --secure`: the exchange with authentication and TLS. Prepares the CA, certificates and
 * identities under `<home>/tls` and `<home>/secure`, starts nats-server with infra/nats/secure.conf,
 * provisions with the operator identity the streams, every participant's consumers and buckets and the
 * services' stores, writes one credentials file per participant, publishes the anchor-signed directory
 * (keys under `<home>/keys`), proves the set-up with a round trip between two participants (nkey + mutual
 * TLS + provision: false, signed receipt), then runs the administrations' services and the auditor, each
 * participant with only its own credentials, until Ctrl-C. The portal and the demo run on `pnpm start`.
 */
export async function runSecureExchange(options: {
  home: string;
  port: number;
  logLevel?: string;
  /** The portal's HTTP port (0: any free one). */
  portalPort?: number;
  /** Run the demo's sample dossiers once everything is up. */
  demo?: boolean;
}): Promise<void> {
  const { loadContracts } = await import('@passerelle/contracts');
  const { ANCHOR_FILES, createDirectoryClient, loadAnchorPrivateKey } = await import('@passerelle/directory');
  const { toPublicJwk } = await import('@passerelle/envelope');
  const { connectExchange, createLogger, loadCredentials } = await import('@passerelle/exchange');
  const local = await import('./local-deployment.js');
  const { runDemo } = await import('./demo.js');
  const demoAbort = new AbortController();
  const logLevel = options.logLevel ?? 'error';

  const deployment = await prepareSecureDeployment({
    dir: join(options.home, 'secure'),
    tlsDir: join(options.home, 'tls'),
  });
  await mkdir(join(options.home, 'nats-secure'), { recursive: true });
  const server = await startSecureServer(deployment, {
    storeDir: join(options.home, 'nats-secure'),
    port: options.port === 0 ? -1 : options.port,
    serverName: 'passerelle-secure',
  });
  const running: Closable[] = [];
  let stopping = false;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    demoAbort.abort();
    console.log(`\nstopping (${why})…`);
    // services and auditor first (each waits for its handlers in flight), the directory last
    const [directory, ...others] = running;
    await Promise.all(others.map((r) => local.closeWithin(r, 5_000)));
    await local.closeWithin(directory, 2_000);
    await server.stop();
    console.log('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  try {
    const url = `tls://127.0.0.1:${server.port}`;
    await deployment.writeCredentials([url]);
    await provisionSecure(deployment, url);
    await provisionServiceStores(deployment, url);

    // The participants' keys and the directory signed by the trust anchor, published by the operator.
    const keysDir = join(options.home, 'keys');
    await local.ensureKeys(keysDir);
    const op = await connectOperator(deployment, url);
    const { keys, revision } = await local.publishDirectory(op, keysDir);
    const anchor = toPublicJwk(await loadAnchorPrivateKey(join(keysDir, ANCHOR_FILES.private)));
    const directory = await createDirectoryClient({
      nc: op,
      anchor,
      // the secured server's bucket has its own versions: its own state file
      stateFile: join(options.home, 'secure', 'directory-state.json'),
      onRejected: (r) => console.error(`  ! directory entry ${r.key} refused: ${r.error.message}`),
    });
    running.push({
      async close() {
        await directory.close();
        await op.close();
      },
    });
    await directory.waitForRevision(revision, 15_000);
    const contracts = await loadContracts({ root: ROOT });
    const credentials = new Map<string, Awaited<ReturnType<typeof loadCredentials>>>();
    for (const id of deployment.participants) {
      credentials.set(id, await loadCredentials(deployment.credentialsFile(id)));
    }

    // A round trip between two participants, each with only its own credentials.
    const [a, b] = ['post-ankara', 'immigration-office'] as const;
    const open = (id: string) =>
      connectExchange({
        participant: id,
        keys: keys.get(id)!,
        directory,
        contracts,
        servers: credentials.get(id)!.servers,
        connection: credentials.get(id)!.connection,
        provision: false,
        logger: createLogger(id, { level: 'error' }),
      });
    const sender = await open(a);
    const receiver = await open(b);
    receiver.subscribe({ 'visa-issued': async () => undefined });
    const examples = join(ROOT, 'schemas/examples/visa-issued.v1');
    const { readdir } = await import('node:fs/promises');
    const first = (await readdir(examples)).filter((f) => f.startsWith('valid-')).sort()[0]!;
    const payload = JSON.parse(await readFile(join(examples, first), 'utf8')) as unknown;
    const [sent] = await sender.send('visa-issued', payload, { to: b, dossierId: 'secure-smoke-0001' });
    const receipt = await sender.awaitReceipt(sent!.id, 15_000);
    await sender.close();
    await receiver.close();

    // The administrations' services, the auditor and the portal, each hosted id on its own credentials.
    const stack = await local.startStack({
      home: options.home,
      servers: url,
      keys,
      storageKeys: await local.loadStorageKeyrings(keysDir),
      directory,
      contracts,
      logLevel,
      auditorPort: options.port === 0 ? 0 : 8090,
      portalPort: options.portalPort ?? 0,
      connectionFor: (id) => credentials.get(id)?.connection,
      running,
      print: (line) => console.log(line),
    });
    const { portalUrl, client } = stack;

    console.log('Passerelle secured exchange');
    console.log(`  nats-server ${server.version} on ${url}: mutual TLS, nkeys, per-participant permissions`);
    console.log(
      `  configuration: infra/nats/secure.conf (pnpm gen:infra), data in ${join(options.home, 'nats-secure')}`,
    );
    console.log(`  CA and certificates: ${deployment.tlsDir}`);
    console.log(
      `  credentials: ${join(deployment.dir, 'credentials')}/<participant>.json (${deployment.participants.length} participants)`,
    );
    console.log(
      `  CLI: passerelle <command> --credentials ${deployment.credentialsFile(OPERATOR_IDENTITY)} (the operator's)`,
    );
    console.log(`  directory: ${keys.size} entries signed by the trust anchor (keys in ${keysDir})`);
    console.log(`  check: ${a} -> ${b} visa-issued, signed receipt from ${receipt.receiver}`);
    console.log(`  services, each id on its own credentials: ${local.servicesLine(stack.services)}`);
    console.log(
      `  auditor: recording every envelope and receipt in LEDGER; viewer on ${stack.auditorViewerUrl} (token in ${stack.auditorTokenFile})`,
    );
    console.log(
      `  portal: ${local.PORTAL} on ${portalUrl} (the demo integrator's client credentials in ${join(options.home, 'portal-client.json')})`,
    );
    console.log('ready: other services connect with loadCredentials(<credentials file>); Ctrl-C stops.');
    if (options.demo) {
      // the demo watches the exchange with the operator's connection; no stray consular post here, since
      // a secured server knows only the participants of infra/participants.json
      const communes = stack.services['commune'] as (Closable & DemoCommuneDesk) | undefined;
      const results = await runDemo({
        portalUrl,
        client,
        nc: op,
        ...(communes ? { communes } : {}),
        signal: demoAbort.signal,
      });
      if (!stopping) {
        console.log(
          `demo finished: ${results.filter((r) => r.ok).length} of ${results.length} dossiers reached their last step; the exchange keeps running (Ctrl-C stops).`,
        );
      }
    }
  } catch (err) {
    if (stopping) return;
    const e = err as { code?: string; message?: string };
    console.error(`error ${e.code ?? ''}: ${e.message ?? String(err)}`);
    for (const r of running.reverse()) await local.closeWithin(r, 5_000);
    await server.stop();
    process.exit(1);
  }
}
