import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '@passerelle/exchange';
import { PasserelleError } from '@passerelle/errors';

/** Where `pnpm start` records the address of the local exchange. */
export const LOCAL_STATE_DIR = '.passerelle';

/** Options every command that talks to NATS accepts. */
export interface ServerOptions {
  server?: string;
}

/**
 * The server to talk to: `--server`, then `PASSERELLE_NATS_URL`, then the address `pnpm start` wrote to
 * `server.json` in its state folder (`PASSERELLE_HOME`, default `.passerelle`), then the NATS default.
 */
export function resolveServer(opts: ServerOptions, cwd = process.cwd()): string {
  if (opts.server) return opts.server;
  const env = process.env['PASSERELLE_NATS_URL'];
  if (env) return env;
  const home = resolve(cwd, process.env['PASSERELLE_HOME'] ?? LOCAL_STATE_DIR);
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
): Promise<T> {
  const nc = await connectNats({ servers: resolveServer(opts), name: 'passerelle-cli', timeout: 5_000 });
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
