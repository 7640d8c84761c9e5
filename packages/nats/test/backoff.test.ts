import { describe, expect, test } from 'vitest';
import { backoffDelay } from '../src/index.js';

describe('backoff', () => {
  test('backoff - doubles from the base up to the ceiling, with at most the jitter added', () => {
    const policy = { baseMs: 100, maxMs: 1_000, jitter: 0.5 };
    for (let i = 0; i < 200; i++) {
      const delays = [1, 2, 3, 4, 5, 40].map((n) => backoffDelay(n, policy));
      const floors = [100, 200, 400, 800, 1_000, 1_000];
      delays.forEach((d, k) => {
        expect(d).toBeGreaterThanOrEqual(floors[k]!);
        expect(d).toBeLessThanOrEqual(floors[k]! * 1.5);
      });
    }
  });

  test('backoff - a count below one is the first delay; no jitter gives the exact delay', () => {
    expect(backoffDelay(0, { baseMs: 250, maxMs: 10_000, jitter: 0 })).toBe(250);
    expect(backoffDelay(3, { baseMs: 250, maxMs: 10_000, jitter: 0 })).toBe(1_000);
  });
});
