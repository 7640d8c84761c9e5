import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
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
  /**
   * Environment of one node (`serverName` `<cluster>-n<i>`), over `env`: what each node keeps for itself,
   * such as the folder of its account resolver.
   */
  nodeEnv?: (
    serverName: string,
  ) => Readonly<Record<string, string>> | Promise<Readonly<Record<string, string>>>;
}

/**
 * Starts a JetStream cluster (3 nodes by default) on loopback, each node with its own client port, cluster
 * port and store folder, and waits until it is ready ({@link waitForClusterReady}): a meta leader that every
 * node agrees on, every peer current, and JetStream answering a client.
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
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    await waitForClusterReady(
      servers.map((s) => s.monitorUrl),
      { timeoutMs },
    );
    await waitForJetStream(
      servers.map((s) => s.url),
      timeoutMs,
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
 * Starts the nodes. Their ports are chosen free and then handed to nats-server, so another process can take
 * one in between; a node that fails for that reason (`ERR_NATS_SERVER_PORT_IN_USE`) makes every node start
 * again on fresh ports. Nodes already started are stopped on any failure.
 */
async function startNodes(name: string, size: number, options: NatsClusterOptions): Promise<NatsServer[]> {
  for (let attempt = 1; ; attempt++) {
    // Client ports are chosen too (not left to nats-server): a node restarted after a kill binds them again.
    const ports: number[] = [];
    for (let i = 0; i < 2 * size; i++) ports.push(await freeLoopbackPort(ports));
    const clientPorts = ports.slice(0, size);
    const clusterPorts = ports.slice(size);
    const results = await Promise.allSettled(
      clusterPorts.map(async (port, i) => {
        const serverName = `${name}-n${i + 1}`;
        const { nodeEnv, ...common } = options;
        const env = { ...options.env, ...(await nodeEnv?.(serverName)) };
        return startNatsServer({
          ...common,
          env,
          port: clientPorts[i]!,
          serverName,
          cluster: { name, port, routes: clusterPorts.filter((p) => p !== port) },
        });
      }),
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

/** What one node's monitoring endpoint says of the JetStream meta group (`/jsz`, `meta_cluster`). */
interface MetaCluster {
  leader?: string;
  cluster_size?: number;
  replicas?: { name: string; current: boolean; offline?: boolean }[];
}

/**
 * Waits until a JetStream cluster is ready to place replicated assets, asking each node's monitoring
 * endpoint (`/jsz`): every node names the same meta leader, and on the leader every other peer is known and
 * current. Route ports listening is not enough: until the peers are current, adding an R3 stream fails with
 * "no suitable peers for placement". `size` defaults to the number of URLs.
 */
export async function waitForClusterReady(
  monitorUrls: readonly string[],
  options: { size?: number; timeoutMs?: number } = {},
): Promise<void> {
  const size = options.size ?? monitorUrls.length;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const views = await Promise.all(monitorUrls.map((url) => metaCluster(url)));
    last = clusterNotReady(views, monitorUrls, size) ?? '';
    if (!last) return;
    await sleep(100);
  }
  throw new HarnessError(
    'ERR_NATS_SERVER_START_FAILED',
    `The JetStream cluster was not ready within ${timeoutMs} ms: ${last}.`,
  );
}

async function metaCluster(monitorUrl: string): Promise<MetaCluster | string> {
  try {
    const response = await fetch(`${monitorUrl}/jsz`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return `${monitorUrl}/jsz answered ${response.status}`;
    const body = (await response.json()) as { meta_cluster?: MetaCluster };
    return body.meta_cluster ?? `${monitorUrl} has no JetStream meta group`;
  } catch (err) {
    return `${monitorUrl}/jsz: ${(err as Error).message}`;
  }
}

/** Why the nodes' views do not yet make a ready cluster, or undefined when they do. */
function clusterNotReady(
  views: readonly (MetaCluster | string)[],
  urls: readonly string[],
  size: number,
): string | undefined {
  const leaders = new Set<string>();
  for (const [i, view] of views.entries()) {
    if (typeof view === 'string') return view;
    if (!view.leader) return `${urls[i]} knows no meta leader`;
    if (view.cluster_size !== size) return `${urls[i]} counts ${view.cluster_size} peers, not ${size}`;
    leaders.add(view.leader);
  }
  if (leaders.size !== 1) return `the nodes name different meta leaders (${[...leaders].join(', ')})`;
  const leaderView = views.find(
    (v): v is MetaCluster => typeof v !== 'string' && v.replicas !== undefined && isLeaderView(v),
  );
  if (!leaderView) return 'no node answered as the meta leader';
  const peers = (leaderView.replicas ?? []).filter((r) => r.name !== leaderView.leader);
  if (peers.length < size - 1) return `the leader knows ${peers.length} of ${size - 1} peers`;
  const behind = peers.filter((r) => !r.current || r.offline);
  if (behind.length) return `peers not current: ${behind.map((r) => r.name).join(', ')}`;
  return undefined;
}

/** The leader's own view lists the other peers' replication state; a follower's lists only the leader. */
function isLeaderView(view: MetaCluster): boolean {
  return (view.replicas ?? []).every((r) => r.name !== view.leader);
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

/**
 * A free TCP port on 127.0.0.1, not in `avoid`. Taken below the kernel's ephemeral range (from which it
 * hands out ports to every `listen(0)` and outgoing connection) where that range is known: a node killed
 * and restarted on its ports then finds them free, however many servers other tests start meanwhile.
 */
export async function freeLoopbackPort(avoid: readonly number[] = []): Promise<number> {
  const range = await belowEphemeralRange();
  for (let attempt = 0; ; attempt++) {
    if (range && attempt < 50) {
      // taken (or refused) here: try another; anything else is the machine's problem, said at once
      const port = await listenAndClose(randomInt(range[0], range[1] + 1)).catch((err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') return undefined;
        throw err;
      });
      if (port !== undefined && !avoid.includes(port)) return port;
    } else {
      const port = await listenAndClose(0);
      if (!avoid.includes(port)) return port;
      if (attempt > 1_000) throw new Error(`no free loopback port outside ${avoid.join(', ')}`);
    }
  }
}

/** Binds `port` (0: any) on loopback and releases it; the port bound. */
function listenAndClose(port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const address = srv.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(bound));
    });
  });
}

/** The 12 768 ports below Linux's ephemeral range (20000–32767 by default), or undefined elsewhere. */
async function belowEphemeralRange(): Promise<[number, number] | undefined> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  const low = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isInteger(low) || low < 8_192) return undefined;
  return [Math.max(1_024, low - 12_768), low - 1];
}
