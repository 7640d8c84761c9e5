import type { Logger } from '@passerelle/exchange';
import { Gauge, type Registry } from 'prom-client';

/** How long before its NATS credentials expire a service says so. */
export const CREDENTIALS_WARNING_DAYS = 30;

/** How often a running service looks at the expiry again (a service may run for months). */
const CHECK_EVERY_MS = 24 * 3_600_000;

/**
 * Reports when a hosted id's NATS credentials (its user JWT) expire: the gauge
 * `pex_credentials_not_after_timestamp_seconds` in its exchange's registry (the alert rule
 * `PasserelleCredentialsExpiringSoon` fires 30 days before), and a warning in the log at start and once
 * a day while fewer than {@link CREDENTIALS_WARNING_DAYS} days remain. Returns a function that stops it.
 */
export function watchCredentialExpiry(options: {
  registry: Registry;
  logger: Logger;
  participant: string;
  expiresAt: Date;
  now?: () => Date;
}): () => void {
  const { registry, logger, participant, expiresAt } = options;
  const now = options.now ?? (() => new Date());
  const gauge =
    (registry.getSingleMetric('pex_credentials_not_after_timestamp_seconds') as Gauge | undefined) ??
    new Gauge({
      name: 'pex_credentials_not_after_timestamp_seconds',
      help: 'When the NATS credentials (user JWT) of the hosted id expire, as a Unix time',
      registers: [registry],
    });
  gauge.set(expiresAt.getTime() / 1000);
  const check = (): void => {
    const left = expiresAt.getTime() - now().getTime();
    if (left <= 0) {
      logger.error(
        { participant, expiresAt: expiresAt.toISOString() },
        'NATS credentials expired: the servers refuse them; ask the operator for new ones (passerelle participants rotate)',
      );
    } else if (left <= CREDENTIALS_WARNING_DAYS * 86_400_000) {
      logger.warn(
        { participant, expiresAt: expiresAt.toISOString(), daysLeft: Math.floor(left / 86_400_000) },
        'NATS credentials expire within 30 days: rotate them (passerelle participants request --rotate, then participants rotate)',
      );
    }
  };
  check();
  const timer = setInterval(check, CHECK_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
