/**
 * The secured exchange: keys, account and user JWTs, TLS material, credentials files and secured
 * nats-servers in operator mode, from the account design of packages/operator/src/accounts.ts (infra/nats/accounts.json)
 * and the configuration scripts/gen-infra.ts generates under infra/nats/. Used by `pnpm start --secure`,
 * the security and fault tests, and the soak benchmark.
 *
 * Layout under the state folder (default `.passerelle/`, git-ignored):
 *   tls/                               development CA, server and client certificates (scripts/dev-ca.sh), keys 0600
 *   secure/keys/                       the operator's: operator, account and administrators' nkey seeds, 0600
 *   secure/resolver/                   the account JWTs the server's full resolver starts from
 *   secure/nodes/<node>/resolver/      the same, one folder per node of a cluster
 *   secure/admin/<id>.creds            the operator's administrator of each participant's account (provisioning)
 *   secure/credentials/<id>.json       one credentials file per participant, read by loadCredentials(),
 *   secure/credentials/<id>.creds      with its user JWT and user seed (0600); operator.json for the CLI
 *   secure/revocations.json            users revoked by revokeUser(), signed into their accounts' JWTs
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { fmtCreds } from '@nats-io/jwt';
import { Kvm } from '@nats-io/kv';
import { type KeyPair, createAccount, createOperator, createUser, fromSeed } from '@nats-io/nkeys';
import {
  type ConnectionOptions,
  type NatsConnection,
  connect,
  credsAuthenticator,
} from '@nats-io/transport-node';
import { loadContracts } from '@passerelle/contracts';
import type {
  CredentialsFile,
  Exchange,
  ExchangeOptions,
  InboxConsumerOptions,
  LoadedCredentials,
} from '@passerelle/exchange';
import { StreamNames, connectExchange, createLogger, provisionStreams } from '@passerelle/exchange';
import type { ParticipantKeys } from '@passerelle/envelope';
import { IdempotencyStore, Outbox, ensureConsumers } from '@passerelle/exchange/internal';
import { DIRECTORY_HISTORY, participantKind } from '@passerelle/directory';
import { AUDITOR_CONSUMER, auditorConsumerConfig } from '../services/auditor/src/index.js';
import { provisionPortalStores } from '../services/portal/src/index.js';
import {
  type NatsCluster,
  type NatsServer,
  type NatsServerOptions,
  startNatsCluster,
  startNatsServer,
} from '@passerelle/testing';
import type { Closable } from './local-deployment.js';
import {
  type AccountPlan,
  accountPlan,
  accountSettingsOf,
  provisionOwnAccount,
  whileAccountStarts,
  encodeDeployment,
  encodeParticipantAccount,
  encodeUserJwt,
  readRegistry,
} from '@passerelle/operator';
import {
  OPERATOR_IDENTITY,
  SYSTEM_IDENTITY,
  inboxPrefixOf,
  portalBuckets,
  readObjectStores,
  readObjectStoresRead,
  readParticipants,
  readServiceBuckets,
} from './gen-infra.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The generated configuration every secured server includes. */
export const SECURE_CONF = join(ROOT, 'infra/nats/secure.conf');

/** A prepared secured deployment: where its material is and how servers and clients use it. */
export interface SecureDeployment {
  /** Folder of keys, JWTs and credentials files. */
  dir: string;
  /** Folder of the CA and certificates. */
  tlsDir: string;
  /** Participants of infra/participants.json (one account each). */
  participants: string[];
  /** The account design the JWTs encode. */
  plan: AccountPlan;
  /** Public key of each account: `EXCHANGE`, `SYS` and every participant id. */
  accountKeys: Map<string, string>;
  /** Environment the server configuration references: operator JWT, system account, resolver folder, TLS files. */
  serverEnv: Record<string, string>;
  /**
   * {@link serverEnv} for one node of a cluster: the node gets a resolver folder of its own
   * (`nodes/<node>/resolver`, seeded with the account JWTs), as each server of a production cluster keeps
   * its own and takes pushed updates through the system account.
   */
  serverEnvFor(node: string): Promise<Record<string, string>>;
  /** Path of a participant's (or the operator's) credentials file. */
  credentialsFile(participant: string): string;
  /** Path of a `.creds` file: a participant's service user, `operator`, `system`, or `admin-<id>`. */
  credsFile(identity: string): string;
  /** Connection settings of the operator identity (full rights in the EXCHANGE account). */
  operator(): Promise<Omit<ConnectionOptions, 'servers'>>;
  /** Connection settings of the administrator of a participant's account (full rights there; the operator's). */
  admin(participant: string): Promise<Omit<ConnectionOptions, 'servers'>>;
  /** Writes every participant's credentials file, and the operator's, for these server URLs. */
  writeCredentials(servers: readonly string[]): Promise<void>;
  /**
   * Revokes the current user of `participant` (its services' `.creds`): records it in `revocations.json`,
   * signs the participant's account JWT again with it and pushes that JWT to `servers` with the system user
   * (`$SYS.REQ.CLAIMS.UPDATE`; a cluster's full resolvers pass it on to every node). The server closes that
   * user's connections and refuses it from then on; a new user key (delete `keys/user-<id>.nk` and prepare
   * again) is not affected.
   */
  revokeUser(participant: string, servers: string | string[]): Promise<void>;
}

/** Users revoked so far: participant id → user public key → when. */
type Revocations = Record<string, Record<string, string>>;

async function readRevocations(file: string): Promise<Revocations> {
  return existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Revocations) : {};
}

function revocationDates(all: Revocations): Map<string, Record<string, Date>> {
  return new Map(
    Object.entries(all).map(([id, users]) => [
      id,
      Object.fromEntries(Object.entries(users).map(([user, at]) => [user, new Date(at)])),
    ]),
  );
}

/** Reads the seed in `file`, or creates one with `make` (0600). */
async function seedIn(file: string, make: () => KeyPair): Promise<KeyPair> {
  if (!existsSync(file)) {
    await writeFile(file, new TextDecoder().decode(make().getSeed()) + '\n', { mode: 0o600 });
    await chmod(file, 0o600);
  }
  return fromSeed(new TextEncoder().encode((await readFile(file, 'utf8')).trim()));
}

/** A `.creds` file (user JWT + seed), 0600. */
async function writeCreds(file: string, jwt: string, user: KeyPair): Promise<void> {
  await writeFile(file, fmtCreds(jwt, user), { mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * Creates what is missing — CA and certificates (scripts/dev-ca.sh), the operator, account and user keys —
 * then signs the account design: account JWTs into the resolver folder, user JWTs into `.creds` files.
 * Existing keys are kept, so restarts keep identities.
 */
export async function prepareSecureDeployment(
  options: { dir?: string; tlsDir?: string } = {},
): Promise<SecureDeployment> {
  const dir = resolve(options.dir ?? join(ROOT, '.passerelle/secure'));
  const tlsDir = resolve(options.tlsDir ?? join(dir, '..', 'tls'));
  const participants = readParticipants(ROOT);
  const identities = [OPERATOR_IDENTITY, SYSTEM_IDENTITY, ...participants];
  await run('bash', [join(ROOT, 'scripts/dev-ca.sh'), '--dir', tlsDir, ...identities]);
  for (const sub of ['keys', 'resolver', 'admin', 'credentials']) {
    await mkdir(join(dir, sub), { recursive: true, mode: 0o700 });
  }
  const keys = join(dir, 'keys');
  const operator = await seedIn(join(keys, 'operator.nk'), createOperator);
  const system = await seedIn(join(keys, 'account-SYS.nk'), createAccount);
  const exchange = await seedIn(join(keys, 'account-EXCHANGE.nk'), createAccount);
  const stores = await seedIn(join(keys, 'account-STORES.nk'), createAccount);
  // participants approved since with `passerelle participants approve` keep their accounts, and the
  // accounts that import from them their imports, across restarts
  const approved = Object.keys((await readRegistry(join(dir, 'registry.json'))).participants).filter(
    (id) => !participants.includes(id),
  );
  const accounts = new Map<string, KeyPair>();
  for (const id of [...participants, ...approved])
    accounts.set(id, await seedIn(join(keys, `account-${id}.nk`), createAccount));

  const contracts = await loadContracts({ root: ROOT });
  const plan = accountPlan(
    contracts,
    [...participants, ...approved],
    readServiceBuckets(ROOT),
    readObjectStores(ROOT),
    readObjectStoresRead(ROOT),
    portalBuckets,
  );
  const deploymentKeys = { operator, system, exchange, stores, accounts };
  const revocationsFile = join(dir, 'revocations.json');
  const encoded = await encodeDeployment(
    plan,
    deploymentKeys,
    revocationDates(await readRevocations(revocationsFile)),
  );
  // the full resolver starts from these files; an account JWT the operator re-signs replaces its file
  const resolverDir = join(dir, 'resolver');
  const seedResolver = async (folder: string): Promise<void> => {
    for (const [pub, jwt] of encoded.accountJwts) await writeFile(join(folder, `${pub}.jwt`), jwt);
  };
  await seedResolver(resolverDir);

  // user JWTs: participants' service users (their permissions), the operator, the system user, administrators
  const credsFile = (identity: string): string =>
    identity.startsWith('admin-')
      ? join(dir, 'admin', `${identity.slice('admin-'.length)}.creds`)
      : identity === SYSTEM_IDENTITY
        ? join(keys, 'system.creds')
        : join(dir, 'credentials', `${identity}.creds`);
  const userSeed = (identity: string) => seedIn(join(keys, `user-${identity}.nk`), createUser);
  await writeCreds(
    credsFile(OPERATOR_IDENTITY),
    await encodeUserJwt(OPERATOR_IDENTITY, await userSeed(OPERATOR_IDENTITY), exchange),
    await userSeed(OPERATOR_IDENTITY),
  );
  await writeCreds(
    credsFile(SYSTEM_IDENTITY),
    await encodeUserJwt(SYSTEM_IDENTITY, await userSeed(SYSTEM_IDENTITY), system),
    await userSeed(SYSTEM_IDENTITY),
  );
  const revokedWhole = await readRevocations(revocationsFile);
  // users of the deployment file's participants only (an approved body holds its own user key), and none
  // for a participant revoked whole: a user signed now would postdate its revocation
  for (const p of plan.participants.filter(
    (x) => participants.includes(x.id) && revokedWhole[x.id]?.['*'] === undefined,
  )) {
    const account = accounts.get(p.id)!;
    const user = await userSeed(p.id);
    await writeCreds(credsFile(p.id), await encodeUserJwt(p.id, user, account, p.user), user);
    const admin = await userSeed(`admin-${p.id}`);
    await writeCreds(credsFile(`admin-${p.id}`), await encodeUserJwt(`admin-${p.id}`, admin, account), admin);
  }

  const serverEnv: Record<string, string> = {
    PEX_TLS_CERT: join(tlsDir, 'server.pem'),
    PEX_TLS_KEY: join(tlsDir, 'server.key'),
    PEX_TLS_CA: join(tlsDir, 'ca.pem'),
    PEX_OPERATOR_JWT: encoded.operatorJwt,
    PEX_SYSTEM_ACCOUNT: encoded.systemAccount,
    PEX_RESOLVER_DIR: resolverDir,
  };
  const tlsOf = (identity: string) => ({
    caFile: join(tlsDir, 'ca.pem'),
    certFile: join(tlsDir, `client-${identity}.pem`),
    keyFile: join(tlsDir, `client-${identity}.key`),
  });
  const connectionOf = async (identity: string, tlsIdentity: string) => ({
    name: identity,
    authenticator: credsAuthenticator(await readFile(credsFile(identity))),
    tls: tlsOf(tlsIdentity),
  });
  const accountKeys = new Map<string, string>([
    ['SYS', system.getPublicKey()],
    ['EXCHANGE', exchange.getPublicKey()],
    ...[...accounts].map(([id, k]) => [id, k.getPublicKey()] as [string, string]),
  ]);

  const deployment: SecureDeployment = {
    async revokeUser(participant, servers) {
      const p = plan.participants.find((x) => x.id === participant);
      if (!p) throw new Error(`${participant} is not a participant of this deployment`);
      const all = await readRevocations(revocationsFile);
      (all[participant] ??= {})[(await userSeed(participant)).getPublicKey()] = new Date().toISOString();
      await writeFile(revocationsFile, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
      const jwt = await encodeParticipantAccount(
        p,
        deploymentKeys,
        undefined,
        revocationDates(all).get(participant),
      );
      const nc = await connect({ ...(await connectionOf(SYSTEM_IDENTITY, SYSTEM_IDENTITY)), servers });
      try {
        const answer = (await nc.request('$SYS.REQ.CLAIMS.UPDATE', jwt, { timeout: 10_000 })).json<{
          data?: { code?: number };
          error?: { description?: string };
        }>();
        if (answer.data?.code !== 200) {
          throw new Error(
            `the server refused the account update: ${answer.error?.description ?? 'no reason'}`,
          );
        }
      } finally {
        await nc.close();
      }
    },
    dir,
    tlsDir,
    participants,
    plan,
    accountKeys,
    serverEnv,
    async serverEnvFor(node) {
      if (!/^[A-Za-z0-9_-]+$/.test(node)) throw new Error(`not a server name: ${node}`);
      const folder = join(dir, 'nodes', node, 'resolver');
      await mkdir(folder, { recursive: true, mode: 0o700 });
      await seedResolver(folder);
      return { ...serverEnv, PEX_RESOLVER_DIR: folder };
    },
    credentialsFile: (participant) => join(dir, 'credentials', `${participant}.json`),
    credsFile,
    operator: () => connectionOf(OPERATOR_IDENTITY, OPERATOR_IDENTITY),
    admin: (participant) => connectionOf(`admin-${participant}`, OPERATOR_IDENTITY),
    async writeCredentials(servers) {
      const folder = join(dir, 'credentials');
      // each participant's, and the operator's for the CLI (`passerelle --credentials …`)
      for (const id of [...participants, OPERATOR_IDENTITY]) {
        const t = tlsOf(id);
        const p = plan.participants.find((x) => x.id === id);
        const body: CredentialsFile = {
          ...(id === OPERATOR_IDENTITY ? { identity: id } : { participant: id }),
          servers: [...servers],
          credsFile: relative(folder, credsFile(id)),
          tls: {
            caFile: relative(folder, t.caFile),
            certFile: relative(folder, t.certFile),
            keyFile: relative(folder, t.keyFile),
          },
          ...(p?.jetstream ? { accounts: accountSettingsOf(p) } : {}),
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
export function includeSecureConf(configDir = join(tmpdir(), 'passerelle-nats-x')): string {
  return `include ${JSON.stringify(relative(configDir, SECURE_CONF))}`;
}

/** Starts one secured nats-server (TLS, operator mode, limits of infra/nats/secure.conf). */
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

/**
 * Starts a secured 3-node JetStream cluster on loopback, each node with a resolver folder of its own
 * seeded with the account JWTs (an update pushed later reaches every node through the system account).
 */
export async function startSecureCluster(deployment: SecureDeployment): Promise<NatsCluster> {
  return startNatsCluster({
    extraConfig: includeSecureConf(),
    env: deployment.serverEnv,
    nodeEnv: (serverName) => deployment.serverEnvFor(serverName),
    clientOptions: await deployment.operator(),
  });
}

/** Connects with the operator identity (the EXCHANGE account). */
export async function connectOperator(
  deployment: SecureDeployment,
  servers: string | string[],
): Promise<NatsConnection> {
  return connect({ ...(await deployment.operator()), servers, timeout: 10_000 });
}

/** Connects as the operator's administrator of `participant`'s account. */
export async function connectAdmin(
  deployment: SecureDeployment,
  participant: string,
  servers: string | string[],
): Promise<NatsConnection> {
  return connect({ ...(await deployment.admin(participant)), servers, timeout: 10_000 });
}

/**
 * Provisions, with operator credentials, the shared streams and every participant's durables in the
 * EXCHANGE account, then in each participant's own account (its administrator) its idempotency and
 * outbox buckets — so participants connect with `provision: false` and rights on their own resources only.
 */
export async function provisionSecure(
  deployment: SecureDeployment,
  servers: string | string[],
  options: { replicas?: number; participants?: readonly string[]; consumer?: InboxConsumerOptions } = {},
): Promise<void> {
  const replicas = options.replicas ?? 1;
  const nc = await connectOperator(deployment, servers);
  try {
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    await provisionStreams(jsm, { replicas });
    for (const id of options.participants ?? deployment.participants) {
      if (participantKind(id) === 'auditor') {
        // the auditor reads the whole stream through its own consumer, which only the operator may create
        await jsm.consumers
          .info(StreamNames.exchange, AUDITOR_CONSUMER)
          .catch(() => jsm.consumers.add(StreamNames.exchange, auditorConsumerConfig(AUDITOR_CONSUMER)));
        continue;
      }
      await ensureConsumers(jsm, id, options.consumer);
      const admin = await connectAdmin(deployment, id, servers);
      try {
        await whileAccountStarts(() => IdempotencyStore.open(admin, id, { owner: 'provisioning', replicas }));
        await whileAccountStarts(() => Outbox.open(admin, id, { replicas }));
      } finally {
        await admin.close();
      }
    }
  } finally {
    await nc.close();
  }
}

/**
 * Provisions, with operator credentials, what the services keep beside the exchange: the signed `directory`
 * bucket in the EXCHANGE account and, in each participant's own account, a read-only mirror of it, its
 * state bucket `svc-<id>`, the buckets its kind's service keeps (infra/participants.json) and the object
 * store it writes — so services connect with `provision: false`.
 */
export async function provisionServiceStores(
  deployment: SecureDeployment,
  servers: string | string[],
  options: { participants?: readonly string[]; replicas?: number } = {},
): Promise<void> {
  const replicas = options.replicas ?? 1;
  const op = await connectOperator(deployment, servers);
  try {
    await new Kvm(op).create('directory', { history: DIRECTORY_HISTORY, replicas });
  } finally {
    await op.close();
  }
  const ids = options.participants ?? deployment.participants;
  for (const p of deployment.plan.participants.filter((x) => ids.includes(x.id) && x.jetstream)) {
    const nc = await connectAdmin(deployment, p.id, servers);
    try {
      await provisionOwnAccount(nc, p, { replicas });
      if (p.kind === 'portal') {
        await whileAccountStarts(() => provisionPortalStores(nc, p.id, { replicas }));
      }
    } finally {
      await nc.close();
    }
  }
}

/** What the participants a launcher or a benchmark connects share. */
export interface SharedExchangeOptions extends Pick<
  ExchangeOptions,
  'directory' | 'contracts' | 'concurrency'
> {
  logLevel: 'silent' | 'error' | 'info';
}

/**
 * Connects `participant` as its service does on the secured server: on its own credentials (servers, TLS,
 * user JWT, its account's API prefix), provisioning nothing.
 */
export function connectOnCredentials(
  credentials: LoadedCredentials,
  participant: string,
  keys: ParticipantKeys,
  { logLevel, ...shared }: SharedExchangeOptions,
): Promise<Exchange> {
  return connectExchange({
    ...shared,
    participant,
    keys,
    servers: credentials.servers,
    connection: credentials.connection,
    ...(credentials.accounts ? { exchangeApiPrefix: credentials.accounts.exchangeApiPrefix } : {}),
    provision: false,
    logger: createLogger(participant, { level: logLevel }),
  });
}

/** Removes a deployment's keys, JWTs and credentials (tests). */
export async function removeSecureDeployment(deployment: SecureDeployment): Promise<void> {
  await rm(deployment.dir, { recursive: true, force: true });
}

export { inboxPrefixOf };

/**
 * `pnpm start --secure`: the exchange with authentication and TLS. Prepares the CA, certificates and
 * identities under `<home>/tls` and `<home>/secure`, starts nats-server with infra/nats/secure.conf,
 * provisions with the operator identity the streams, every participant's consumers and buckets and the
 * services' stores, writes one credentials file per participant, publishes the anchor-signed directory
 * (keys under `<home>/keys`), proves the set-up with a round trip between two participants (user JWT +
 * mutual TLS + provision: false, signed receipt), then runs the administrations' services, the auditor and
 * the portal, each participant with only its own credentials, and the demo unless told not to, until Ctrl-C.
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
  const { loadCredentials } = await import('@passerelle/exchange');
  const local = await import('./local-deployment.js');
  const { runDemoBeside } = await import('./demo.js');
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
  const launcher = local.stopOnSignals(running, demoAbort, () => server.stop());
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
      connectOnCredentials(credentials.get(id)!, id, keys.get(id)!, {
        directory,
        contracts,
        logLevel: 'error',
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
      accountsFor: (id) => credentials.get(id)?.accounts,
      running,
      backOfficeDefaultPorts: false,
      print: (line) => console.log(line),
    });
    const { portalUrl, client } = stack;

    console.log('Passerelle secured exchange');
    console.log(
      `  nats-server ${server.version} on ${url}: mutual TLS, operator mode, one account per participant`,
    );
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
    if (stack.automatic.length) {
      console.log(`  automatic decisions (the local deployment's policies): ${stack.automatic.join('; ')}`);
    }
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
      await runDemoBeside(
        { portalUrl, client, nc: op, signal: demoAbort.signal },
        stack.services['commune'],
        () => launcher.stopping,
      );
    }
  } catch (err) {
    if (launcher.stopping) return;
    const e = err as { code?: string; message?: string };
    console.error(`error ${e.code ?? ''}: ${e.message ?? String(err)}`);
    for (const r of running.reverse()) await local.closeWithin(r, 5_000);
    await server.stop();
    process.exit(1);
  }
}
