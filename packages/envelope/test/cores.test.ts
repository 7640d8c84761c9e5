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

test('usableCores - cgroup v2 in a container (its own cgroup at the root): the quota, rounded down', () => {
  file('proc-self-cgroup', '0::/');
  file('sys/cpu.max', '250000 100000');
  expect(cores(64)).toBe(2);
});

test('usableCores - cgroup v2: no limit ("max"), or a quota above the cores, leaves the cores', () => {
  file('proc-self-cgroup', '0::/');
  file('sys/cpu.max', 'max 100000');
  expect(cores(8)).toBe(8);
  file('sys/cpu.max', '1600000 100000');
  expect(cores(8)).toBe(8);
});

test('usableCores - cgroup v2: the smallest quota from the process cgroup up to the root counts', () => {
  file('proc-self-cgroup', '0::/system.slice/passerelle-commune.service');
  file('sys/system.slice/cpu.max', '400000 100000');
  file('sys/system.slice/passerelle-commune.service/cpu.max', '200000 100000');
  expect(cores(16)).toBe(2);
  file('sys/system.slice/cpu.max', '100000 100000');
  expect(cores(16)).toBe(1);
  // a sibling's quota is not the process's
  file('sys/system.slice/other.service/cpu.max', '100000 100000');
  file('sys/system.slice/cpu.max', 'max 100000');
  expect(cores(16)).toBe(2);
});

test('usableCores - cgroup v2: a path outside the namespace (/../…) is not walked', () => {
  // the root is sys/: a walk of /../sibling without the guard would read sibling/cpu.max, then cpu.max
  file('proc-self-cgroup', '0::/../sibling');
  file('sys/cgroup.controllers', 'cpu');
  file('sibling/cpu.max', '100000 100000');
  file('cpu.max', '100000 100000');
  expect(cores(8)).toBe(8);
});

test('usableCores - hybrid hierarchy: cgroup v2 mounted at unified/ is read too', () => {
  file('proc-self-cgroup', ['4:cpu,cpuacct:/', '0::/user.slice'].join('\n'));
  file('sys/unified/user.slice/cpu.max', '300000 100000');
  expect(cores(8)).toBe(3);
});

test('usableCores - a quota below one core still leaves one', () => {
  file('proc-self-cgroup', '0::/');
  file('sys/cpu.max', '50000 100000');
  expect(cores(4)).toBe(1);
});

test('usableCores - cgroup v1: cpu.cfs_quota_us over cpu.cfs_period_us, -1 for no limit', () => {
  file('proc-self-cgroup', ['12:memory:/docker/abc', '4:cpu,cpuacct:/docker/abc', '0::/'].join('\n'));
  // inside a container the mount shows the container's own cgroup at its root
  file('sys/cpu,cpuacct/cpu.cfs_quota_us', '300000');
  file('sys/cpu,cpuacct/cpu.cfs_period_us', '100000');
  expect(cores(32)).toBe(3);
  file('sys/cpu,cpuacct/cpu.cfs_quota_us', '-1');
  expect(cores(32)).toBe(32);
});

test('usableCores - cgroup v1 on a host: a quota on a slice above the process, under a separate cpu mount', () => {
  file('proc-self-cgroup', ['5:cpuacct:/system.slice/x.service', '3:cpu:/system.slice/x.service'].join('\n'));
  file('sys/cpu/system.slice/cpu.cfs_quota_us', '150000');
  file('sys/cpu/system.slice/cpu.cfs_period_us', '100000');
  file('sys/cpu/system.slice/x.service/cpu.cfs_quota_us', '-1');
  file('sys/cpu/system.slice/x.service/cpu.cfs_period_us', '100000');
  expect(cores(8)).toBe(1);
});

test('usableCores - without readable cgroup files, the cores Node may run on', () => {
  expect(cores(6)).toBe(6);
  file('proc-self-cgroup', '0::/');
  file('sys/cpu.max', 'garbage');
  expect(cores(6)).toBe(6);
  file('sys/cpu.max', 'max');
  expect(cores(6)).toBe(6);
});
