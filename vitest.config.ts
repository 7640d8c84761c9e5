import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// One vitest project per package and service (named after its package.json), plus the cross-package
// scenarios in test/. Run one with `pnpm test --project @passerelle/envelope`. Each project extends this
// file, so the time-outs below hold everywhere.
const folders = [
  ...['packages', 'services'].flatMap((parent) => readdirSync(parent).map((name) => join(parent, name))),
  'test',
].filter((dir) => existsSync(join(dir, 'package.json')));

export default defineConfig({
  test: {
    // Tests start real nats-servers and do real crypto on two cores shared with other work.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    projects: folders.map((dir) => ({
      extends: true,
      test: {
        name: (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string }).name,
        root: dir,
        include: ['**/*.test.ts'],
        exclude: ['**/node_modules/**', '**/dist/**'],
      },
    })),
  },
});
