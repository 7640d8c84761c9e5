import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fmtCreds } from '@nats-io/jwt';
import { type KeyPair, createAccount, createUser, fromSeed } from '@nats-io/nkeys';
import { type NatsConnection, connect, credsAuthenticator } from '@nats-io/transport-node';
import { loadClientCredentials } from '@passerelle/exchange/internal';
import { PasserelleError } from '@passerelle/errors';
import { encodeUserJwt } from './accounts.js';
import { withNativeSigning } from './native-signing.js';
import { type Registry, readRegistry, writeRegistry } from './registry.js';

/** Users revoked so far: participant id → user public key (or `*`: all) → when (RFC 3339). */
export type Revocations = Record<string, Record<string, string>>;

/**
 * The operator's folder, as `pnpm start --secure` lays it out (scripts/secure-exchange.ts): the operator,
 * system, EXCHANGE and participant account seeds in `keys/` (0600), the system user's `keys/system.creds`,
 * the operator's CLI credentials `credentials/operator.json`, the administrators' `admin/<id>.creds`,
 * `revocations.json`, the lifecycle's `registry.json`; the CA and client certificates in `tlsDir`.
 */
export interface OperatorHome {
  dir: string;
  tlsDir: string;
  operator: KeyPair;
  system: KeyPair;
  exchange: KeyPair;
  /** The STORES relay's account key. */
  stores: KeyPair;
  /** The servers the operator's credentials name. */
  servers(): Promise<string[]>;
  /** A participant account's key; made (0600) when `create` and missing. */
  accountKey(participant: string, create?: boolean): Promise<KeyPair>;
  /**
   * The account public keys of `participants`, from an index beside the seeds (deriving a public key from
   * a seed costs a scalar multiplication; EXCHANGE's relay names every writer at each approval).
   */
  accountPublicKeys(participants: readonly string[]): Promise<Map<string, string>>;
  /** Whether the operator holds an account key for the participant. */
  hasAccount(participant: string): boolean;
  /** Connects as the operator (EXCHANGE), the system user, or the administrator of a participant's account. */
  connect(as: 'operator' | 'system' | { admin: string }, servers?: string[]): Promise<NatsConnection>;
  readRevocations(): Promise<Revocations>;
  writeRevocations(all: Revocations): Promise<void>;
  readRegistry(): Promise<Registry>;
  writeRegistry(registry: Registry): Promise<void>;
}

async function readSeed(file: string): Promise<KeyPair> {
  try {
    return withNativeSigning(fromSeed(new TextEncoder().encode((await readFile(file, 'utf8')).trim())));
  } catch (cause) {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${file}: the operator's key cannot be read.`, {
      details: { file, setting: 'operator' },
      cause,
    });
  }
}

async function seedIn(file: string, make: () => KeyPair): Promise<KeyPair> {
  if (!existsSync(file)) {
    await writeFile(file, new TextDecoder().decode(make().getSeed()) + '\n', { mode: 0o600, flag: 'wx' });
    await chmod(file, 0o600);
  }
  return readSeed(file);
}

/**
 * Opens the operator's folder (`dir`, default `.passerelle/secure`; `tlsDir` default its sibling `tls`).
 *
 * @example
 * ```ts
 * const home = await openOperatorHome({ dir: '.passerelle/secure' });
 * ```
 */
export async function openOperatorHome(options: { dir: string; tlsDir?: string }): Promise<OperatorHome> {
  const dir = resolve(options.dir);
  const tlsDir = resolve(options.tlsDir ?? join(dir, '..', 'tls'));
  const keys = join(dir, 'keys');
  const operator = await readSeed(join(keys, 'operator.nk'));
  const system = await readSeed(join(keys, 'account-SYS.nk'));
  const exchange = await readSeed(join(keys, 'account-EXCHANGE.nk'));
  const stores = await readSeed(join(keys, 'account-STORES.nk'));
  const operatorCredentials = join(dir, 'credentials', 'operator.json');
  const revocationsFile = join(dir, 'revocations.json');
  const registryFile = join(dir, 'registry.json');
  const publicKeyIndex = join(keys, 'account-public-keys.json');
  const tls = (identity: string) => ({
    caFile: join(tlsDir, 'ca.pem'),
    certFile: join(tlsDir, `client-${identity}.pem`),
    keyFile: join(tlsDir, `client-${identity}.key`),
  });
  const servers = async (): Promise<string[]> => (await loadClientCredentials(operatorCredentials)).servers;
  const home: OperatorHome = {
    dir,
    tlsDir,
    operator,
    system,
    exchange,
    stores,
    servers,
    async accountPublicKeys(participants) {
      const index: Record<string, string> = existsSync(publicKeyIndex)
        ? (JSON.parse(await readFile(publicKeyIndex, 'utf8')) as Record<string, string>)
        : {};
      let added = false;
      for (const id of participants) {
        if (index[id]) continue;
        index[id] = (await home.accountKey(id)).getPublicKey();
        added = true;
      }
      if (added) await writeFile(publicKeyIndex, JSON.stringify(index, null, 2) + '\n', { mode: 0o600 });
      return new Map(participants.map((id) => [id, index[id]!]));
    },
    hasAccount: (participant) => existsSync(join(keys, `account-${participant}.nk`)),
    accountKey: (participant, create = false) =>
      create
        ? seedIn(join(keys, `account-${participant}.nk`), createAccount)
        : readSeed(join(keys, `account-${participant}.nk`)),
    async connect(as, given) {
      const to = given ?? (await servers());
      if (as === 'operator') {
        const c = await loadClientCredentials(operatorCredentials);
        return connect({ ...c.connection, servers: to, timeout: 10_000 });
      }
      let creds: Uint8Array;
      if (as === 'system') {
        creds = await readFile(join(keys, 'system.creds'));
      } else {
        // an administrator of the participant's account, made on first use: full rights in that account only
        const file = join(dir, 'admin', `${as.admin}.creds`);
        if (!existsSync(file)) {
          await mkdir(join(dir, 'admin'), { recursive: true, mode: 0o700 });
          const user = await seedIn(join(keys, `user-admin-${as.admin}.nk`), createUser);
          const jwt = await encodeUserJwt(`admin-${as.admin}`, user, await home.accountKey(as.admin));
          await writeFile(file, fmtCreds(jwt, user), { mode: 0o600 });
        }
        creds = await readFile(file);
      }
      const t = tls(as === 'system' ? 'system' : 'operator');
      return connect({
        name: as === 'system' ? 'system' : `admin-${as.admin}`,
        authenticator: credsAuthenticator(creds),
        tls: t,
        servers: to,
        timeout: 10_000,
      });
    },
    async readRevocations() {
      return existsSync(revocationsFile)
        ? (JSON.parse(await readFile(revocationsFile, 'utf8')) as Revocations)
        : {};
    },
    async writeRevocations(all) {
      await writeFile(revocationsFile, JSON.stringify(all, null, 2) + '\n', { mode: 0o600 });
    },
    readRegistry: () => readRegistry(registryFile),
    writeRegistry: (registry) => writeRegistry(registryFile, registry),
  };
  return home;
}
