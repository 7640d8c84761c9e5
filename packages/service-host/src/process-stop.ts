import type { NatsConnection } from '@nats-io/transport-node';
import { PasserelleError } from '@passerelle/errors';
import { type Logger, errorSummary } from '@passerelle/exchange';

/** How long a stop may take before the process exits regardless. */
const STOP_DEADLINE_MS = 60_000;

/** What {@link stopProcessOn} stops, and how it reports. */
export interface ProcessStopOptions {
  /** The process's name in the log (`portal`, `auditor`). */
  readonly service: string;
  readonly nc: NatsConnection;
  readonly logger: Logger;
  /** Closes what the process runs, in order; the NATS connection is drained after it. */
  readonly close: () => Promise<void>;
}

/**
 * Stops the process once, whatever asks first: SIGINT or SIGTERM (exit 0), or the NATS connection closed
 * for good after its reconnection attempts (exit 1, for the supervisor to start the process again; what
 * it had not acknowledged is delivered again). A stop that hangs still ends after a minute.
 * Returns the stop, for other reasons to stop.
 */
export function stopProcessOn(options: ProcessStopOptions): (exitCode?: number) => Promise<void> {
  const { service, nc, logger } = options;
  let stopping = false;
  const stop = async (exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // a stop that hangs (a request or a store that does not answer) still ends
    setTimeout(() => process.exit(exitCode || 1), STOP_DEADLINE_MS).unref();
    try {
      await options.close();
      if (!nc.isClosed()) await nc.drain();
    } catch (err) {
      logger.error({ err: errorSummary(err) }, `the ${service} did not stop cleanly`);
      exitCode ||= 1;
    }
    process.exit(exitCode);
  };
  void nc.closed().then(() => {
    if (stopping) return;
    logger.error(`the NATS connection closed: the ${service} stops`);
    void stop(1);
  });
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  return stop;
}

/**
 * Runs a process's `main`: a failure to start is printed (a Passerelle error by its code) and the process
 * exits with 1.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (err instanceof PasserelleError) console.error(`error ${err.code}: ${err.message}`);
    else console.error(err);
    process.exit(1);
  });
}
