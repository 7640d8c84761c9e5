/** Shared helpers of the benchmark scripts. */
import { readFileSync } from 'node:fs';

/** Linux reports process CPU time in clock ticks of 1/100 s (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

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
