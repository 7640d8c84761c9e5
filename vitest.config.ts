import { defineConfig } from 'vitest/config';

// One vitest project per package and service (named after its package.json), plus the cross-package
// scenarios in test/. Run one with `pnpm test --project @passerelle/envelope`.
export default defineConfig({
  test: {
    projects: ['packages/*', 'services/*', 'test'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests start real nats-servers; two cores do not gain from more parallel files.
    maxWorkers: 2,
  },
});
