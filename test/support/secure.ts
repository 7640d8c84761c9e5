/**
 * Helpers shared by the security and fault scenarios: participant keys, example payloads, exchanges
 * connected with credentials files (user JWT + mutual TLS + private inbox, provision: false), and a raw
 * protocol client for what a well-behaved library would never send.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type Socket, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { type NatsConnection, connect as natsConnect, nkeys } from '@nats-io/transport-node';
import { readExample } from '@passerelle/contracts';
import {
  type Exchange,
  type ExchangeOptions,
  type InboxConsumerOptions,
  connectExchange,
  createLogger,
  loadCredentials,
} from '@passerelle/exchange';
import { type Parties, generateParties } from '@passerelle/exchange/testing';
import type { NatsServer } from '@passerelle/testing';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import {
  type SecureDeployment,
  prepareSecureDeployment,
  provisionSecure,
  provisionServiceStores,
  startSecureServer,
} from '../../scripts/secure-exchange.js';
import { startedHandle } from './handle.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export type { Parties };

/** Real keys for `ids`, a resolver over their public halves, the repository's contracts. */
export function makeParties(ids: readonly string[]): Promise<Parties> {
  return generateParties(ids, repoRoot);
}

/** The first valid example payload shipped beside a schema. */
export function example(type: string): unknown {
  return readExample(repoRoot, type);
}

/** Connects a participant the way a secured service does: its credentials file, provision: false. */
export async function connectSecureExchange(
  deployment: SecureDeployment,
  parties: Parties,
  participant: string,
  extra: Partial<ExchangeOptions> = {},
): Promise<Exchange> {
  const credentials = await loadCredentials(deployment.credentialsFile(participant));
  return connectExchange({
    participant,
    keys: parties.keys.get(participant)!,
    directory: parties.resolver,
    contracts: parties.contracts,
    servers: credentials.servers,
    connection: { ...credentials.connection, maxReconnectAttempts: -1, reconnectTimeWait: 250 },
    ...(credentials.accounts ? { exchangeApiPrefix: credentials.accounts.exchangeApiPrefix } : {}),
    provision: false,
    logger: createLogger(participant, { level: 'silent' }),
    ...extra,
  });
}

/** A participant's `.creds` file (user JWT and seed), as its services hold it. */
export function credsOf(deployment: SecureDeployment, identity: string): { jwt: string; seed: string } {
  const text = readFileSync(deployment.credsFile(identity), 'utf8');
  const jwt = /-----BEGIN NATS USER JWT-----\s+(\S+)\s+/.exec(text)?.[1];
  const seed = /-----BEGIN USER NKEY SEED-----\s+(\S+)\s+/.exec(text)?.[1];
  if (!jwt || !seed) throw new Error(`${identity}: no user JWT and seed in its creds file`);
  return { jwt, seed };
}

/** A raw NATS protocol session: what the server answers, line by line. */
export interface RawSession {
  info: { nonce?: string; tls_required?: boolean; max_payload?: number };
  send(text: string | Buffer): void;
  /** Everything received so far. */
  received(): string;
  /** Resolves with everything received once `pattern` matches, or rejects after `timeoutMs`. */
  until(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
  close(): void;
}

function session(socket: Socket | TLSSocket, initial = ''): RawSession {
  let received = initial;
  const waiters = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    for (const w of waiters) w();
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  const infoLine = /^INFO (\{.*\})\s*\r\n/.exec(initial)?.[1];
  return {
    info: infoLine ? (JSON.parse(infoLine) as RawSession['info']) : {},
    send: (text) => socket.write(text),
    received: () => received,
    until(pattern, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(received)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(received);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; received: ${received.slice(0, 500)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    closed,
    close: () => socket.destroy(),
  };
}

/** Reads the server's INFO line over plain TCP and stops there. */
async function readInfo(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n')) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/**
 * Opens a raw session. `tls` false: plain text after INFO (what the server must refuse). Otherwise the
 * TLS upgrade with the given client certificate, then CONNECT signed with `seed` when given.
 */
export async function rawSession(
  port: number,
  options: {
    tls: false | { ca: string; cert?: string; key?: string };
    /** A user's JWT and seed (operator mode), or a bare nkey seed. */
    seed?: string | { jwt: string; seed: string };
    connect?: boolean;
  },
): Promise<RawSession> {
  const plain = tcpConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    plain.once('connect', resolve);
    plain.once('error', reject);
  });
  const info = await readInfo(plain);
  if (options.tls === false) {
    const s = session(plain, info);
    if (options.connect !== false) s.send('CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n');
    return s;
  }
  const secured = tlsConnect({
    socket: plain,
    ca: options.tls.ca,
    ...(options.tls.cert ? { cert: options.tls.cert } : {}),
    ...(options.tls.key ? { key: options.tls.key } : {}),
    servername: 'localhost',
  });
  await new Promise<void>((resolve, reject) => {
    secured.once('secureConnect', resolve);
    secured.once('error', reject);
  });
  const s = session(secured, info);
  if (options.connect !== false) {
    const nonce = s.info.nonce ?? '';
    const connect: Record<string, unknown> = { verbose: false, pedantic: false, protocol: 1, headers: true };
    if (options.seed) {
      const user = typeof options.seed === 'string' ? { seed: options.seed } : options.seed;
      const kp = nkeys.fromSeed(new TextEncoder().encode(user.seed));
      if ('jwt' in user) connect['jwt'] = user.jwt;
      else connect['nkey'] = kp.getPublicKey();
      connect['sig'] = Buffer.from(kp.sign(new TextEncoder().encode(nonce))).toString('base64url');
    }
    s.send(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
  }
  return s;
}

/** Client TLS material of an identity, as strings. */
export function clientTls(
  deployment: SecureDeployment,
  identity: string,
): { ca: string; cert: string; key: string } {
  const t = deployment.tlsDir;
  return {
    ca: readFileSync(join(t, 'ca.pem'), 'utf8'),
    cert: readFileSync(join(t, `client-${identity}.pem`), 'utf8'),
    key: readFileSync(join(t, `client-${identity}.key`), 'utf8'),
  };
}

/** A secured nats-server in a temp folder, with provisioned participants and their keys. */
export interface SecuredServer {
  /** Temp folder of the scenario (removed by `stop`). */
  home: string;
  deployment: SecureDeployment;
  server: NatsServer;
  parties: Parties;
  stop(): Promise<void>;
}

/** A secured server and one participant's raw connection. */
export interface SecuredScenario extends SecuredServer {
  /** A plain NATS connection with `clientId`'s credentials (user JWT + mutual TLS). */
  client: NatsConnection;
}

export interface SecuredServerOptions {
  /** Participants who get keys as well, without being provisioned. */
  alsoKeys?: readonly string[];
  /** The participants' inbox durables, as `provisionSecure` takes them. */
  consumer?: InboxConsumerOptions;
  /** The server's store in `home/store`, where a restarted server finds it again. */
  storeInHome?: boolean;
}

/**
 * Starts the secured server of infra/nats in a temp folder, provisions `participants` (exchange and service
 * stores) with the operator identity, writes their credentials and makes their keys.
 */
export async function startSecuredServer(
  prefix: string,
  participants: readonly string[],
  options: SecuredServerOptions = {},
): Promise<SecuredServer> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const deployment = await prepareSecureDeployment({ dir: join(home, 'secure') });
  const server = await startSecureServer(
    deployment,
    options.storeInHome ? { storeDir: join(home, 'store') } : {},
  );
  await deployment.writeCredentials([server.url]);
  await provisionSecure(deployment, server.url, {
    participants: [...participants],
    ...(options.consumer ? { consumer: options.consumer } : {}),
  });
  await provisionServiceStores(deployment, server.url, { participants: [...participants] });
  const parties = await makeParties([...participants, ...(options.alsoKeys ?? [])]);
  return {
    home,
    deployment,
    server,
    parties,
    async stop() {
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A secured server (`startSecuredServer`), and a connection as `clientId`. */
export async function startSecuredScenario(
  prefix: string,
  participants: readonly string[],
  clientId: string,
): Promise<SecuredScenario> {
  const started = await startSecuredServer(prefix, participants);
  const c = await loadCredentials(started.deployment.credentialsFile(clientId));
  const client = await natsConnect({ ...c.connection, servers: c.servers });
  return {
    ...started,
    client,
    async stop() {
      await client.close();
      await started.stop();
    },
  };
}

/**
 * Runs what `start` starts around the tests of the enclosing `describe`: started before them (then `ready`,
 * to provision more), stopped after them, the server's log printed when a test fails. The handle returned
 * reads the started scenario, in the tests and hooks.
 */
function useStarted<S extends SecuredServer>(
  start: () => Promise<S>,
  ready?: (scenario: S) => void | Promise<void>,
): S {
  let scenario: S | undefined;
  beforeAll(async () => {
    scenario = await start();
    await ready?.(scenario);
  }, 60_000);
  afterAll(async () => {
    await scenario?.stop();
  });
  beforeEach((ctx) => {
    ctx.onTestFailed(() => console.error(scenario?.server.log().slice(-4000)));
  });
  return startedHandle(() => scenario, 'the secured scenario');
}

/** A secured server (`startSecuredServer`) around the tests of the enclosing `describe` (see `useStarted`). */
export function useSecuredServer(
  prefix: string,
  participants: readonly string[],
  options: SecuredServerOptions = {},
  ready?: (scenario: SecuredServer) => void | Promise<void>,
): SecuredServer {
  return useStarted(() => startSecuredServer(prefix, participants, options), ready);
}

/** A secured scenario (`startSecuredScenario`) around the tests of the enclosing `describe` (see `useStarted`). */
export function useSecuredScenario(
  prefix: string,
  participants: readonly string[],
  clientId: string,
  ready?: (scenario: SecuredScenario) => void | Promise<void>,
): SecuredScenario {
  return useStarted(() => startSecuredScenario(prefix, participants, clientId), ready);
}
