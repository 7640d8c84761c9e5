import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { type ConnectionOptions, connect } from '@nats-io/transport-node';
import { HarnessError } from './errors.js';
import { type NatsServer, type NatsServerOptions, startNatsServer } from './server.js';

/** A JetStream cluster of nats-servers on loopback. */
export interface NatsCluster extends AsyncDisposable {
  readonly name: string;
  readonly servers: readonly NatsServer[];
  /** Every node's client URL, for a client's `servers` option. */
  readonly urls: string[];
  /** Stops every node and removes their folders. */
  stop(): Promise<void>;
}

/** Options of {@link startNatsCluster}. */
export interface NatsClusterOptions extends Pick<
  NatsServerOptions,
  'binary' | 'extraConfig' | 'startTimeoutMs' | 'env'
> {
  /** Number of nodes (default 3). */
  size?: number;
  /** How long to wait for a JetStream meta leader (default 30 s). */
  readyTimeoutMs?: number;
  /** Credentials and TLS for the readiness check, on a secured cluster. */
  clientOptions?: Omit<ConnectionOptions, 'servers'>;
}

/**
 * Starts a JetStream cluster (3 nodes by default) on loopback, each node with its own client port, cluster
 * port and store folder, and waits until JetStream has elected a meta leader.
 *
 * @example
 * ```ts
 * const cluster = await startNatsCluster();
 * const nc = await connect({ servers: cluster.urls });
 * ```
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const name = `pex-cluster-${randomBytes(3).toString('hex')}`;
  const clusterPorts: number[] = [];
  for (let i = 0; i < size; i++) clusterPorts.push(await freeLoopbackPort(clusterPorts));

  const servers: NatsServer[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    const started = await Promise.all(
      clusterPorts.map((port, i) =>
        startNatsServer({
          ...options,
          serverName: `${name}-n${i + 1}`,
          cluster: { name, port, routes: clusterPorts.filter((p) => p !== port) },
        }),
      ),
    );
    servers.push(...started);
    const urls = servers.map((s) => s.url);
    await waitForJetStream(urls, options.readyTimeoutMs ?? 30_000, options.clientOptions);
    const cluster: NatsCluster = {
      name,
      servers,
      get urls() {
        return servers.map((s) => s.url);
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Waits until JetStream answers account info on the given servers (a meta leader exists). */
export async function waitForJetStream(
  servers: string | string[],
  timeoutMs = 30_000,
  clientOptions: Omit<ConnectionOptions, 'servers'> = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    const nc = await connect({ ...clientOptions, servers, timeout: 2_000 }).catch((e: unknown) => {
      lastError = e;
      return undefined;
    });
    if (nc) {
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2_000 });
        await jsm.getAccountInfo();
        return;
      } catch (e) {
        lastError = e;
      } finally {
        await nc.close();
      }
    }
    await sleep(200);
  }
  throw new HarnessError(
    'ERR_NATS_SERVER_START_FAILED',
    `JetStream did not become ready within ${timeoutMs} ms: ${String(lastError)}`,
    { cause: lastError },
  );
}

/** A free TCP port on 127.0.0.1, not in `avoid`. */
export async function freeLoopbackPort(avoid: readonly number[] = []): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const address = srv.address();
        const p = typeof address === 'object' && address ? address.port : 0;
        srv.close(() => resolve(p));
      });
    });
    if (!avoid.includes(port)) return port;
  }
}
