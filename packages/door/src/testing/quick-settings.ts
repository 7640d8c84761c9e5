import type { DoorOptions } from '../door.js';

/**
 * Door settings for tests that must see webhooks retried and events heartbeat within a test's time:
 * a few quick retries, allowed to loopback over plain HTTP (where a test's receiver listens), and a
 * heartbeat every 300 ms. Never for a deployed door: its URL policy refuses loopback for a reason.
 *
 * @example
 * ```ts
 * const door = await Door.open({ name, nc, secret, publicUrl, service, api, ...QUICK_TEST_DOOR_SETTINGS });
 * ```
 */
export const QUICK_TEST_DOOR_SETTINGS = {
  webhooks: {
    maxAttempts: 3,
    backoff: { baseMs: 50, maxMs: 400 },
    timeoutMs: 2_000,
    urlPolicy: { allowHttp: true, allowLoopback: true },
  },
  heartbeatMs: 300,
} as const satisfies Pick<DoorOptions, 'webhooks' | 'heartbeatMs'>;
