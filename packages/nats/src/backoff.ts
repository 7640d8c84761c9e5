/** An exponential backoff: the first delay, the ceiling, and how much random spread each delay gets. */
export interface Backoff {
  /** Delay before the second attempt, in ms. */
  baseMs: number;
  /** No delay is longer than this (before jitter), in ms. */
  maxMs: number;
  /**
   * The random share added to each delay (0.1: up to 10 % more), so that many clients failing together do
   * not retry together.
   */
  jitter: number;
}

/**
 * The project's one backoff policy: the delay after `failures` failed attempts (1 for the first), doubled
 * each time from `baseMs` up to `maxMs`, plus up to `jitter` of itself at random.
 *
 * @example
 * ```ts
 * await sleep(backoffDelay(attempt, { baseMs: 100, maxMs: 5_000, jitter: 1 }));
 * ```
 */
export function backoffDelay(failures: number, backoff: Readonly<Backoff>): number {
  const exponential = backoff.baseMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30);
  const capped = Math.min(exponential, backoff.maxMs);
  return Math.round(capped * (1 + Math.random() * backoff.jitter));
}
