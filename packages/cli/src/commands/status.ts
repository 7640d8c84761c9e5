import type { Command } from 'commander';
import { MIN_SERVER_VERSION, StreamNames } from '@passerelle/exchange';
import { versionAtLeast } from '@passerelle/exchange/internal';
import { type ServerOptions, credentialsOption, serverOption, withJetStream } from '../context.js';
import { printJson } from '../print-json.js';

/** One stream's line in `passerelle status`. */
export interface StreamStatus {
  name: string;
  messages: number;
  bytes: number;
  subjects: string[];
  replicas: number;
}

/** What `passerelle status` reports. */
export interface ExchangeStatus {
  server: string;
  version: string;
  /** Whether the server is at least {@link MIN_SERVER_VERSION}. */
  supported: boolean;
  streams: StreamStatus[];
  missing: string[];
}

/** Reads the server version and the Passerelle streams with their message counts. */
export async function readStatus(opts: ServerOptions): Promise<ExchangeStatus> {
  return withJetStream(
    opts,
    async (nc, jsm) => {
      const streams: StreamStatus[] = [];
      for await (const info of jsm.streams.list()) {
        streams.push({
          name: info.config.name,
          messages: info.state.messages,
          bytes: info.state.bytes,
          subjects: info.config.subjects ?? [],
          replicas: info.config.num_replicas,
        });
      }
      streams.sort((a, b) => a.name.localeCompare(b.name));
      const names = new Set(streams.map((s) => s.name));
      const version = nc.info?.version ?? 'unknown';
      return {
        server: nc.getServer(),
        version,
        supported: versionAtLeast(version, MIN_SERVER_VERSION),
        streams,
        missing: Object.values(StreamNames).filter((n) => !names.has(n)),
      };
    },
    { anyVersion: true },
  );
}

/** The warning `passerelle status` prints for a server older than the minimum, or undefined. */
export function versionWarning(status: Pick<ExchangeStatus, 'version' | 'supported'>): string | undefined {
  if (status.supported) return undefined;
  return (
    `warning: nats-server ${status.version} is older than ${MIN_SERVER_VERSION}, the oldest release Passerelle ` +
    'supports (security fixes and features it relies on): the exchange refuses to run on it. Upgrade the server ' +
    '(bash scripts/setup.sh builds the pinned release).'
  );
}

/** Registers `passerelle status`. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('print the server version, the streams and their message counts')
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option('--json', 'print JSON')
    .action(async (opts: ServerOptions & { json?: boolean }) => {
      const status = await readStatus(opts);
      if (opts.json) return printJson(status);
      console.log(`server   ${status.server}`);
      console.log(`version  nats-server ${status.version}`);
      const warning = versionWarning(status);
      if (warning) console.error(warning);
      console.log('streams');
      const width = Math.max(...status.streams.map((s) => s.name.length), 6);
      for (const s of status.streams) {
        console.log(
          `  ${s.name.padEnd(width)}  ${String(s.messages).padStart(8)} msgs  ${formatBytes(s.bytes).padStart(9)}  R${s.replicas}  ${s.subjects.join(' ')}`,
        );
      }
      if (status.missing.length) {
        console.log(`missing  ${status.missing.join(', ')} (run pnpm start to provision them)`);
        process.exitCode = 1;
      }
    });
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
