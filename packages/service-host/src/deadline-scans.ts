import type { Logger } from '@passerelle/exchange';

/** The default time between two deadline scans (the `scanIntervalMs` setting). */
export const DEFAULT_SCAN_INTERVAL_MS = 60_000;

/** A service whose deadlines are scanned: its `checkDeadlines` takes the steps due at a date. */
export interface DeadlineScanned {
  checkDeadlines?: (at?: Date) => Promise<unknown>;
}

/** Running deadline scans: `close` stops them and waits for the scan under way. */
export interface DeadlineScans {
  /** Scans now (after the scan under way, if any); what the timer runs. */
  scan(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Scans `service`'s deadlines at once, then every `intervalMs` (0: never), one scan at a time, as of
 * `now()` (default: the service's own clock): the same
 * scans for a service run alone (`runServiceMain`) and for the services `pnpm start` runs together. A
 * failed scan is logged by its code and tried again at the next one; each step taken is idempotent (a
 * dossier keeps the overruns it reported), so a scan repeated after a restart reports nothing twice.
 * Returns undefined when the service has no deadlines or the interval is 0.
 *
 * @example
 * ```ts
 * const scans = scheduleDeadlineScans(service, { intervalMs: 60_000, logger });
 * await scans?.close();
 * ```
 */
export function scheduleDeadlineScans(
  service: DeadlineScanned,
  options: { intervalMs: number; logger: Pick<Logger, 'warn'>; now?: () => Date },
): DeadlineScans | undefined {
  const check = service.checkDeadlines?.bind(service);
  if (!check || options.intervalMs <= 0) return undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const scan = (): Promise<void> =>
    (running = running.then(async () => {
      if (closed) return;
      try {
        // without a clock of its own, the service's (its host's `now`) dates the scan
        await (options.now ? check(options.now()) : check());
      } catch (err) {
        options.logger.warn({ code: (err as { code?: string }).code }, 'deadline scan failed');
      }
    }));
  void scan();
  const timer = setInterval(() => void scan(), options.intervalMs);
  timer.unref();
  return {
    scan,
    close: async () => {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
