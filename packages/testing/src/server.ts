import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertRecentEnough, findNatsServerBinary, natsServerBinaryVersion } from './binary.js';
import { HarnessError } from './errors.js';

/** How to start one nats-server. */
export interface NatsServerOptions {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** JetStream store folder; a fresh temp folder (removed on stop) when absent. */
  storeDir?: string;
  /** Client port; `-1` (default) lets the server choose a free one. */
  port?: number;
  /** Server name, unique inside a cluster. */
  serverName?: string;
  /** Route this server into a cluster. */
  cluster?: { name: string; port: number; routes: readonly number[] };
  /** Raw nats-server configuration appended to the generated file (accounts, TLS, limits…). */
  extraConfig?: string;
  /** Path of the binary; found with {@link findNatsServerBinary} when absent. */
  binary?: string;
  /**
   * Run `binary` even when it is older than the minimum release (default false: refused with
   * `ERR_NATS_SERVER_TOO_OLD`). Only for measuring an old release beside the pinned one
   * (`pnpm bench exchange --baseline-server`); the exchange itself refuses such a server.
   */
  olderRelease?: boolean;
  /** How long to wait for the server to listen (default 20 s). */
  startTimeoutMs?: number;
  /** Keep the working folder after stop (for post-mortems). */
  keep?: boolean;
  /** Extra environment of the server process: the configuration can reference `$NAME` variables. */
  env?: Readonly<Record<string, string>>;
}

/** A running nats-server child process on loopback. */
export interface NatsServer extends AsyncDisposable {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The monitoring endpoint, `http://127.0.0.1:<port>` (`/jsz`, `/healthz`…); its port is new at each start. */
  readonly monitorUrl: string;
  readonly pid: number;
  readonly version: string;
  readonly serverName: string;
  /** Folder holding the config, ports file and (unless given) the JetStream store. */
  readonly workDir: string;
  readonly storeDir: string;
  /** Everything the server printed so far (last 2 MB). */
  log(): string;
  /** Graceful stop (SIGTERM, then SIGKILL after 5 s); removes the temp folder unless `keep`. */
  stop(): Promise<void>;
  /** Kills the process with a signal and waits for it to exit; keeps the folder, so `restart()` can follow. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the same server again (same port, same store). */
  restart(): Promise<void>;
  /** Whether the process is running. */
  readonly running: boolean;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test runner that exits without calling stop() must not leave servers behind.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

const LOG_LIMIT = 2 * 1024 * 1024;

/**
 * Starts a real nats-server on a random loopback port with JetStream in a temp store.
 *
 * @example
 * ```ts
 * const server = await startNatsServer();
 * try {
 *   const nc = await connect({ servers: server.url });
 *   // …
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  installExitHook();
  const binary = options.binary ?? (await findNatsServerBinary());
  const version = options.olderRelease
    ? await natsServerBinaryVersion(binary)
    : await assertRecentEnough(binary);

  const workDir = await mkdtemp(join(tmpdir(), 'passerelle-nats-'));
  const storeDir = options.storeDir ?? join(workDir, 'jetstream');
  await mkdir(storeDir, { recursive: true });
  const serverName = options.serverName ?? `pex-${randomBytes(4).toString('hex')}`;
  const configFile = join(workDir, 'nats.conf');

  let port = options.port ?? -1;
  let monitorUrl = '';
  let logText = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    await writeFile(configFile, configText(options, { serverName, port, workDir, storeDir }));
    for (const f of await readdir(workDir))
      if (f.endsWith('.ports')) await rm(join(workDir, f), { force: true });
    const proc = spawn(binary, ['-c', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ? { ...process.env, ...options.env } : process.env,
    });
    child = proc;
    live.add(proc);
    // what this launch logged: a restart must not be taken for ready, or for failed, on its last life's lines
    let launchLog = '';
    const append = (chunk: Buffer): void => {
      const text = chunk.toString();
      logText += text;
      if (logText.length > LOG_LIMIT) logText = logText.slice(-LOG_LIMIT);
      if (launchLog.length < LOG_LIMIT) launchLog += text;
    };
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    const drained = new Promise<void>((resolve) => proc.once('close', () => resolve()));
    exited = new Promise((resolve) => {
      proc.once('exit', () => {
        live.delete(proc);
        resolve();
      });
    });
    ({ port, monitorUrl } = await untilReady(proc, options, {
      portsFile: join(workDir, `${binaryBase(binary)}_${proc.pid}.ports`),
      drained,
      launchLog: () => launchLog,
      log: () => logText,
    }));
  };

  try {
    await launch();
  } catch (err) {
    if (!options.keep) await rm(workDir, { recursive: true, force: true });
    throw err;
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
  };

  const server: NatsServer = {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get monitorUrl() {
      return monitorUrl;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    get running() {
      return !!child && child.exitCode === null && child.signalCode === null;
    },
    version,
    serverName,
    workDir,
    storeDir,
    log: () => logText,
    kill,
    async restart() {
      await kill('SIGTERM');
      await launch();
    },
    async stop() {
      if (child && child.exitCode === null && child.signalCode === null) {
        const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
        child.kill('SIGTERM');
        await exited;
        clearTimeout(timer);
      }
      // A caller-given store outlives the server; the temp folder (and a store inside it) does not.
      if (!options.keep) await rm(workDir, { recursive: true, force: true });
    },
    async [Symbol.asyncDispose]() {
      await server.stop();
    },
  };
  return server;
}

/** Where one server lives: what its configuration names besides the caller's options. */
interface ServerPlace {
  serverName: string;
  /** `-1` on the first start; the port it took on a restart, so clients reconnect to the same address. */
  port: number;
  workDir: string;
  storeDir: string;
}

/**
 * The nats-server configuration file: loopback only, ports written to a ports file so the harness learns
 * them, then JetStream, the cluster and the caller's extra configuration.
 */
function configText(options: NatsServerOptions, place: ServerPlace): string {
  const lines = [
    `server_name: ${JSON.stringify(place.serverName)}`,
    `listen: "127.0.0.1:${place.port}"`,
    `ports_file_dir: ${JSON.stringify(place.workDir)}`,
    // monitoring on loopback, on a port of the server's choosing: how a cluster is asked whether it is ready
    `http: "127.0.0.1:-1"`,
  ];
  if (options.jetstream !== false) {
    lines.push(`jetstream { store_dir: ${JSON.stringify(place.storeDir)} }`);
  }
  if (options.cluster) {
    const routes = options.cluster.routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ');
    lines.push(
      `cluster { name: ${JSON.stringify(options.cluster.name)}, listen: "127.0.0.1:${options.cluster.port}", routes: [${routes}] }`,
    );
  }
  if (options.extraConfig) lines.push(options.extraConfig);
  return lines.join('\n') + '\n';
}

/** What {@link untilReady} watches of one launch. */
interface LaunchWatch {
  portsFile: string;
  /** Settles once the process's pipes are closed: its last lines are in the log. */
  drained: Promise<void>;
  /** What this launch printed (not an earlier life's lines). */
  launchLog: () => string;
  /** The server's whole log, for the error's message. */
  log: () => string;
}

/**
 * Waits until a launched server listens, has its monitoring port and says it is ready (and, in a cluster,
 * listens for routes), or fails with the reason: an exit during start-up, a taken port, the deadline.
 */
async function untilReady(
  proc: ChildProcess,
  options: NatsServerOptions,
  watch: LaunchWatch,
): Promise<{ port: number; monitorUrl: string }> {
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      // Its last lines (the reason) may still be in the pipes when the exit is seen.
      await Promise.race([watch.drained, sleep(1_000)]);
      throw new HarnessError(
        /bind: address already in use/.test(watch.launchLog())
          ? 'ERR_NATS_SERVER_PORT_IN_USE'
          : 'ERR_NATS_SERVER_START_FAILED',
        `nats-server exited during start-up (code ${proc.exitCode ?? proc.signalCode}). Its log:\n${watch.log()}`,
      );
    }
    const ports = await readPorts(watch.portsFile);
    const listening = ports?.nats?.[0];
    const monitoring = ports?.monitoring?.[0];
    // A node of a cluster binds its route port after "Server is ready": wait for that too, or a node whose
    // route port was taken would be reported as started just before it exits.
    const ready =
      (options.jetstream === false || /Server is ready/.test(watch.launchLog())) &&
      (!options.cluster || /Listening for route connections/.test(watch.launchLog()));
    if (listening && monitoring && ready) {
      return { port: Number(new URL(listening).port), monitorUrl: monitoring.replace(/\/$/, '') };
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new HarnessError(
        'ERR_NATS_SERVER_START_FAILED',
        `nats-server did not become ready within ${options.startTimeoutMs ?? 20_000} ms. Its log:\n${watch.log()}`,
      );
    }
    await sleep(25);
  }
}

function binaryBase(binary: string): string {
  return binary.split('/').pop() ?? 'nats-server';
}

async function readPorts(file: string): Promise<{ nats?: string[]; monitoring?: string[] } | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { nats?: string[]; monitoring?: string[] };
  } catch {
    return undefined;
  }
}
