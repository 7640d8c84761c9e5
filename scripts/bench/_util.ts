/** Shared helpers of the benchmark scripts. */
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import {
  AckPolicy,
  type Consumer,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/** Linux reports process CPU time in clock ticks of 1/100 s (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type Values<O extends OptionsConfig> = ReturnType<typeof parseArgs<{ options: O }>>['values'];

/**
 * A benchmark's command line: `numbers` gives each numeric option its default, `others` the rest (as for
 * `parseArgs`). A numeric option that is not a positive number stops the run (exit code 2): a typo must not
 * be measured as NaN.
 */
export function benchArgs<
  const N extends Record<string, number>,
  const O extends OptionsConfig = Record<never, never>,
>(numbers: N, others?: O): { [K in keyof N]: number } & Omit<Values<O>, keyof N> {
  const options: OptionsConfig = { ...others };
  for (const [name, value] of Object.entries(numbers)) {
    options[name] = { type: 'string', default: String(value) };
  }
  const { values } = parseArgs({ options });
  const parsed: Record<string, unknown> = { ...values };
  for (const name of Object.keys(numbers)) {
    const n = Number(values[name]);
    if (!Number.isFinite(n) || n <= 0) {
      console.error(`error ERR_CONFIG_INVALID: --${name} must be a positive number.`);
      process.exit(2);
    }
    parsed[name] = n;
  }
  return parsed as { [K in keyof N]: number } & Omit<Values<O>, keyof N>;
}

/** Percentile (0–100) of a list of numbers, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** A one-line description of the machine, for the BENCHMARKS.md header. */
export async function machineLine(): Promise<string> {
  const os = await import('node:os');
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); NaN elsewhere. */
export function processCpuMs(pid: number): number {
  try {
    // fields after the command name: state is field 3; utime and stime are fields 14 and 15
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

/** Machine-wide CPU tick counters from /proc/stat (Linux): all ticks, and those stolen by the hypervisor. */
function cpuTicks(): { total: number; steal: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user
    return { total: fields.slice(0, 8).reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 };
  } catch {
    return { total: Number.NaN, steal: Number.NaN };
  }
}

/**
 * Starts measuring the share of CPU time the hypervisor took from this virtual machine ("steal"); the
 * returned function gives it in percent. Figures taken while it is high measure the host's other tenants.
 */
export function stealMeter(): () => number {
  const start = cpuTicks();
  return () => {
    const end = cpuTicks();
    return (100 * (end.steal - start.steal)) / (end.total - start.total);
  };
}

/**
 * Runs `task` for 0 … count − 1 with `width` of them in flight; `between`, when given, is awaited after each
 * task before the next one starts (to let the event loop turn as it would between socket reads).
 */
export async function runConcurrent(
  count: number,
  width: number,
  task: (i: number) => Promise<void>,
  between?: () => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        await task(next++);
        if (between) await between();
      }
    }),
  );
}

/**
 * The raw JetStream baseline's stream: a plain stream on `subjects` and its durable pull consumer `raw`, with
 * explicit acks and 1 024 pending at most.
 */
export async function rawStream(
  nc: NatsConnection,
  name: string,
  subjects: string[],
): Promise<{ js: JetStreamClient; consumer: Consumer }> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects });
  await jsm.consumers.add(name, {
    durable_name: 'raw',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 1_024,
  });
  const js = jetstream(nc);
  return { js, consumer: await js.consumers.get(name, 'raw') };
}
