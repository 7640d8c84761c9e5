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
  const servers = await startNodes(name, size, options);
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    await waitForJetStream(
      servers.map((s) => s.url),
      options.readyTimeoutMs ?? 30_000,
      options.clientOptions,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name,
    servers,
    get urls() {
      return servers.map((s) => s.url);
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** How many times the nodes are started on fresh route ports when one of them was taken meanwhile. */
const PORT_ATTEMPTS = 5;

/**
 * Starts the nodes. A route port is chosen free and then handed to nats-server, so another process can take
 * it in between; a node that fails for that reason (`ERR_NATS_SERVER_PORT_IN_USE`) makes every node start
 * again on fresh ports. Nodes already started are stopped on any failure.
 */
async function startNodes(name: string, size: number, options: NatsClusterOptions): Promise<NatsServer[]> {
  for (let attempt = 1; ; attempt++) {
    const clusterPorts: number[] = [];
    for (let i = 0; i < size; i++) clusterPorts.push(await freeLoopbackPort(clusterPorts));
    const results = await Promise.allSettled(
      clusterPorts.map((port, i) =>
        startNatsServer({
          ...options,
          serverName: `${name}-n${i + 1}`,
          cluster: { name, port, routes: clusterPorts.filter((p) => p !== port) },
        }),
      ),
    );
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length === 0) return started;
    await Promise.all(started.map((s) => s.stop()));
    const portTaken = failures.every(
      (e) => e instanceof HarnessError && e.code === 'ERR_NATS_SERVER_PORT_IN_USE',
    );
    if (!portTaken || attempt === PORT_ATTEMPTS) throw failures[0];
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
