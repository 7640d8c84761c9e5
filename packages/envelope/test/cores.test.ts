import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { usableCores } from '../src/internal.js';

// A cgroup hierarchy laid out as the kernel mounts it, in a temporary directory.
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pex-cgroup-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(path: string, content: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), `${content}\n`);
}

const cores = (parallelism: number): number =>
  usableCores({ root: join(dir, 'sys'), procSelfCgroup: join(dir, 'proc-self-cgroup'), parallelism });

type Files = Record<string, string>;

/**
 * Each case writes files, then checks the cores usable out of `parallelism`, step by step: a later step
 * changes some files of the same hierarchy.
 */
test.each<{ what: string; parallelism: number; steps: [Files, number][] }>([
  {
    what: 'cgroup v2 in a container (its own cgroup at the root): the quota, rounded down',
    parallelism: 64,
    steps: [[{ 'proc-self-cgroup': '0::/', 'sys/cpu.max': '250000 100000' }, 2]],
  },
  {
    what: 'cgroup v2: no limit ("max"), or a quota above the cores, leaves the cores',
    parallelism: 8,
    steps: [
      [{ 'proc-self-cgroup': '0::/', 'sys/cpu.max': 'max 100000' }, 8],
      [{ 'sys/cpu.max': '1600000 100000' }, 8],
    ],
  },
  {
    what: 'cgroup v2: the smallest quota from the process cgroup up to the root counts',
    parallelism: 16,
    steps: [
      [
        {
          'proc-self-cgroup': '0::/system.slice/passerelle-commune.service',
          'sys/system.slice/cpu.max': '400000 100000',
          'sys/system.slice/passerelle-commune.service/cpu.max': '200000 100000',
        },
        2,
      ],
      [{ 'sys/system.slice/cpu.max': '100000 100000' }, 1],
      // a sibling's quota is not the process's
      [
        {
          'sys/system.slice/other.service/cpu.max': '100000 100000',
          'sys/system.slice/cpu.max': 'max 100000',
        },
        2,
      ],
    ],
  },
  {
    // the root is sys/: a walk of /../sibling without the guard would read sibling/cpu.max, then cpu.max
    what: 'cgroup v2: a path outside the namespace (/../…) is not walked',
    parallelism: 8,
    steps: [
      [
        {
          'proc-self-cgroup': '0::/../sibling',
          'sys/cgroup.controllers': 'cpu',
          'sibling/cpu.max': '100000 100000',
          'cpu.max': '100000 100000',
        },
        8,
      ],
    ],
  },
  {
    what: 'hybrid hierarchy: cgroup v2 mounted at unified/ is read too',
    parallelism: 8,
    steps: [
      [
        {
          'proc-self-cgroup': ['4:cpu,cpuacct:/', '0::/user.slice'].join('\n'),
          'sys/unified/user.slice/cpu.max': '300000 100000',
        },
        3,
      ],
    ],
  },
  {
    what: 'a quota below one core still leaves one',
    parallelism: 4,
    steps: [[{ 'proc-self-cgroup': '0::/', 'sys/cpu.max': '50000 100000' }, 1]],
  },
  {
    // inside a container the mount shows the container's own cgroup at its root
    what: 'cgroup v1: cpu.cfs_quota_us over cpu.cfs_period_us, -1 for no limit',
    parallelism: 32,
    steps: [
      [
        {
          'proc-self-cgroup': ['12:memory:/docker/abc', '4:cpu,cpuacct:/docker/abc', '0::/'].join('\n'),
          'sys/cpu,cpuacct/cpu.cfs_quota_us': '300000',
          'sys/cpu,cpuacct/cpu.cfs_period_us': '100000',
        },
        3,
      ],
      [{ 'sys/cpu,cpuacct/cpu.cfs_quota_us': '-1' }, 32],
    ],
  },
  {
    what: 'cgroup v1 on a host: a quota on a slice above the process, under a separate cpu mount',
    parallelism: 8,
    steps: [
      [
        {
          'proc-self-cgroup': ['5:cpuacct:/system.slice/x.service', '3:cpu:/system.slice/x.service'].join(
            '\n',
          ),
          'sys/cpu/system.slice/cpu.cfs_quota_us': '150000',
          'sys/cpu/system.slice/cpu.cfs_period_us': '100000',
          'sys/cpu/system.slice/x.service/cpu.cfs_quota_us': '-1',
          'sys/cpu/system.slice/x.service/cpu.cfs_period_us': '100000',
        },
        1,
      ],
    ],
  },
  {
    what: 'without readable cgroup files, the cores Node may run on',
    parallelism: 6,
    steps: [
      [{}, 6],
      [{ 'proc-self-cgroup': '0::/', 'sys/cpu.max': 'garbage' }, 6],
      [{ 'sys/cpu.max': 'max' }, 6],
    ],
  },
])('usableCores - $what', ({ parallelism, steps }) => {
  for (const [files, expected] of steps) {
    for (const [path, content] of Object.entries(files)) file(path, content);
    expect(cores(parallelism)).toBe(expected);
  }
});
