import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option } from 'commander';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { type ConnectionOptions, type NatsConnection, connect } from '@nats-io/transport-node';
import { connectNats } from '@passerelle/exchange';
import { loadClientCredentials } from '@passerelle/exchange/internal';
import { PasserelleError } from '@passerelle/errors';
import { readCliSettings } from './cli-settings.js';

/** Where `pnpm start` records the address of the local exchange. */
export const LOCAL_STATE_DIR = '.passerelle';

/** Options every command that talks to NATS accepts. */
export interface ServerOptions {
  server?: string;
  /** A credentials file (nkey and mutual TLS) for a secured exchange; also `PASSERELLE_CREDENTIALS`. */
  credentials?: string;
}

/** `--server`, for every command that talks to NATS. */
export function serverOption(): Option {
  return new Option(
    '--server <url>',
    "NATS server URL (default: the credentials file's servers, else the local exchange of pnpm start)",
  );
}

/** `--credentials`, beside `--server`: the identity to connect as on a secured exchange. */
export function credentialsOption(): Option {
  return new Option(
    '--credentials <file>',
    "credentials file for a secured exchange (nkey and mutual TLS; pnpm start --secure writes the operator's as credentials/operator.json); default: PASSERELLE_CREDENTIALS",
  );
}

/** A server URL as it may be shown: without a `user:password@` part. */
function withoutUserInfo(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1');
}

/**
 * Connects as the CLI: with the credentials file of `--credentials` (or `PASSERELLE_CREDENTIALS`) to
 * `--server` or else the file's own servers (`PASSERELLE_NATS_URL` and `server.json` name the local
 * exchange, not the one the credentials are for); without credentials, to {@link resolveServer}'s server.
 */
export async function connectCli(
  opts: ServerOptions,
  name: string,
  extra: Partial<ConnectionOptions> = {},
  { anyVersion = false }: { anyVersion?: boolean } = {},
): Promise<NatsConnection> {
  // `status` talks to any server, to say which release it is; every other command refuses an old one
  const open = anyVersion ? connect : connectNats;
  const settings = readCliSettings();
  const file = opts.credentials ?? settings.credentials;
  if (file) {
    const { servers, connection } = await loadClientCredentials(file);
    return open({ ...connection, ...extra, name, servers: opts.server ?? servers, timeout: 5_000 });
  }
  const servers = resolveServer(opts);
  try {
    return await open({ ...extra, name, servers, timeout: 5_000 });
  } catch (err) {
    // a secured exchange refuses a client without its certificate and nkey: say what to do
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && /certificate|tls|authori[sz]ation|authentication/i.test(message)) {
      const home = settings.home;
      throw new PasserelleError(
        'ERR_CONFIG_INVALID',
        `${withoutUserInfo(servers)} refused a client without credentials (${message}): pass --credentials <file> or set PASSERELLE_CREDENTIALS (pnpm start --secure writes the operator's as ${join(home, 'secure', 'credentials', 'operator.json')}).`,
        { cause: err, details: { setting: 'credentials' } },
      );
    }
    throw err;
  }
}

/**
 * The server to talk to: `--server`, then `PASSERELLE_NATS_URL`, then the address `pnpm start` wrote to
 * `server.json` in its state folder (`PASSERELLE_HOME`, default `.passerelle`), then the NATS default.
 */
export function resolveServer(opts: ServerOptions, cwd = process.cwd()): string {
  if (opts.server) return opts.server;
  const settings = readCliSettings();
  if (settings.natsUrl) return settings.natsUrl;
  const home = resolve(cwd, settings.home);
  try {
    const state = JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as {
      url?: string;
    };
    if (state.url) return state.url;
  } catch {
    // no local exchange recorded
  }
  return 'nats://127.0.0.1:4222';
}

/** Runs `fn` with a connection and a JetStream manager, closing the connection afterwards. */
export async function withJetStream<T>(
  opts: ServerOptions,
  fn: (nc: NatsConnection, jsm: JetStreamManager) => Promise<T>,
  { anyVersion = false }: { anyVersion?: boolean } = {},
): Promise<T> {
  const nc = await connectCli(opts, 'passerelle-cli', {}, { anyVersion });
  try {
    return await fn(nc, await jetstreamManager(nc, { timeout: 15_000 }));
  } finally {
    await nc.close();
  }
}

/**
 * A whole number of 1 or more given on the command line (`what` names it in the error), or
 * `ERR_CONFIG_INVALID`: a count or sequence that does not parse must not quietly become "nothing".
 */
export function positiveInteger(value: string, what: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 1) {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${what} must be a whole number of 1 or more.`, {
      details: { setting: what },
    });
  }
  return n;
}
