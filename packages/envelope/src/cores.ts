import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Where {@link usableCores} reads the process's cgroups, and its core count (tests give fixtures). */
export interface UsableCoresOptions {
  /** Mount point of the cgroup file systems (default `/sys/fs/cgroup`). */
  root?: string;
  /** The process's cgroup memberships (default `/proc/self/cgroup`). */
  procSelfCgroup?: string;
  /** Cores the process may run on (default `os.availableParallelism()`). */
  parallelism?: number;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Whole cores a quota of `quota` µs per `period` µs allows (at least one), or undefined for no limit. */
function coresOf(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.max(1, Math.floor(quota / period));
}

/**
 * The cgroup directories from the process's own up to the root of what `mount` shows. None for a path
 * outside it (`/../…`: a cgroup namespace whose root lies below the process's cgroup). The mount's own
 * root is taken to be the hierarchy's (not read from /proc/self/mountinfo): in a cgroup v1 container
 * without a cgroup namespace whose process sits below the container's cgroup, its own quota is missed and
 * the container's (or none) counts, and where the host's path also exists inside the mount (nested container
 * engines) a cgroup of that name is read instead. Rare layouts; the other counts stand.
 */
function ancestors(mount: string, path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return [];
  const dirs: string[] = [];
  for (let n = parts.length; n >= 0; n--) dirs.push([mount, ...parts.slice(0, n)].join('/'));
  return dirs;
}

/** The smallest CPU quota on the way from the process's cgroup to the root, in whole cores. */
function quotaCores(root: string, procSelfCgroup: string): number | undefined {
  const memberships = read(procSelfCgroup);
  if (memberships === undefined) return undefined;
  let cores: number | undefined;
  const limit = (c: number | undefined): void => {
    if (c !== undefined) cores = Math.min(cores ?? c, c);
  };
  for (const line of memberships.split('\n')) {
    const membership = parseMembership(line);
    if (!membership) continue;
    const { id, controllers, path } = membership;
    if (id === '0' && controllers === '') {
      // cgroup v2 ("max 100000": no limit), mounted at the root or, on a hybrid system, at unified/
      for (const mount of [root, `${root}/unified`]) {
        for (const dir of ancestors(mount, path)) {
          const [quota, period] = (read(`${dir}/cpu.max`) ?? '').split(' ');
          if (quota !== undefined && period !== undefined) limit(coresOf(Number(quota), Number(period)));
        }
      }
    } else if (controllers.split(',').includes('cpu')) {
      // cgroup v1: cpu.cfs_quota_us is -1 without a limit
      for (const mount of [`${root}/cpu`, `${root}/cpu,cpuacct`, `${root}/cpuacct,cpu`]) {
        for (const dir of ancestors(mount, path)) {
          limit(coresOf(Number(read(`${dir}/cpu.cfs_quota_us`)), Number(read(`${dir}/cpu.cfs_period_us`))));
        }
      }
    }
  }
  return cores;
}

/** A /proc/self/cgroup line, "<id>:<controllers>:<path>" (the path may itself hold colons). */
function parseMembership(line: string): { id: string; controllers: string; path: string } | undefined {
  const first = line.indexOf(':');
  const second = line.indexOf(':', first + 1);
  if (first < 0 || second < 0) return undefined;
  return {
    id: line.slice(0, first),
    controllers: line.slice(first + 1, second),
    path: line.slice(second + 1),
  };
}

/**
 * Cores this process can keep busy: those Node may run it on (`os.availableParallelism()`: the affinity
 * mask), fewer when a cgroup CPU quota allows less (a container's `--cpus`, a Kubernetes CPU limit, a
 * systemd `CPUQuota`; cgroup v1 or v2, on the process's cgroup or any above it that the cgroup mount shows:
 * a container sees its own and those below), rounded down and at least one, as Rust's
 * `available_parallelism` does. Node 20's `availableParallelism()` does not read the quota (later Node
 * versions read it through libuv; the smaller of the two counts).
 *
 * @example
 * ```ts
 * usableCores(); // 2 in a container limited to 2.5 CPUs on a 64-core host
 * ```
 */
export function usableCores(paths: UsableCoresOptions = {}): number {
  const parallelism = paths.parallelism ?? availableParallelism();
  const quota = quotaCores(paths.root ?? '/sys/fs/cgroup', paths.procSelfCgroup ?? '/proc/self/cgroup');
  return quota === undefined ? parallelism : Math.min(parallelism, quota);
}
