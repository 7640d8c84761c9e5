import type { ParticipantKind } from '@passerelle/directory';
import { isPasserelleError } from '@passerelle/errors';
import type { SettingsSchema } from '@passerelle/settings';
import type { DossierRecord, Policy } from '@passerelle/procedure';
import { createLogger } from '@passerelle/exchange';
import { type ServiceSettings, loadHostedConfig, readServiceSettings } from './config.js';
import type { HostedServiceConfig } from './host.js';
import { startOfficerWebSetting } from './officer-web.js';
import { backOfficeSetting, isBodyService, serveBackOffice } from './back-office/back-office-setting.js';
import { SERVICE_HOST_SETTINGS_SCHEMA } from './settings-schema.js';
import { scheduleDeadlineScans } from './deadline-scans.js';

/**
 * How long a stop may take before the process exits anyway: the handlers' grace period (30 s) and the
 * closing of the stores, with room to spare.
 */
const STOP_DEADLINE_MS = 60_000;

/** What a service's `main.ts` starts. */
export interface RunnableService {
  /** Periodic deadline scan, when the service has deadlines. */
  checkDeadlines?: (at?: Date) => Promise<unknown>;
  close(): Promise<void>;
}

/**
 * The body of every service's `main.ts`: reads the settings (PASSERELLE_CONFIG file and PASSERELLE_* env,
 * validated against `schema`: the service's own, else the host's), starts the service, serves its back
 * office when the `backOffice` setting (or `PASSERELLE_BACK_OFFICE_PORT`) says where (see
 * `backOfficeSetting`), scans deadlines at start and every `scanIntervalMs` (setting, default 60 000; 0
 * disables; `scheduleDeadlineScans`, which `pnpm start` runs too), logs service events, stops cleanly on
 * SIGINT / SIGTERM (exiting anyway, with 1, if the stop has not ended after 60 s). A bad setting prints its code and exits with 1. A hosted exchange that can no longer work
 * (its connection closed for good, e.g. NATS unreachable past its reconnection attempts) stops the service
 * with exit code 1, for its supervisor (systemd `Restart=on-failure`, Kubernetes) to start it again.
 *
 * @example
 * ```ts
 * await runServiceMain('commune', 'commune', (config) => createCommuneService(config), {
 *   schema: COMMUNE_SETTINGS_SCHEMA,
 * });
 * ```
 */
export async function runServiceMain<Extra extends object = Record<string, unknown>>(
  service: string,
  kind: ParticipantKind,
  start: (config: HostedServiceConfig, settings: ServiceSettings<Extra>) => Promise<RunnableService>,
  {
    schema = SERVICE_HOST_SETTINGS_SCHEMA,
    env = process.env,
  }: { schema?: SettingsSchema; env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<void> {
  try {
    const settings = await readServiceSettings<Extra>(service, kind, env, schema);
    const logger = createLogger(service, { level: settings.logLevel });
    const { bucket, legacyState, dossierKeys, metricsPort, scanIntervalMs: scan } = settings;
    const backOffice = backOfficeSetting(service, settings);
    const loaded = await loadHostedConfig(service, settings, logger);
    // until the service has started, a failure is kept, and acted on once it has
    let failed: string | undefined;
    let fail = (reason: string): void => void (failed ??= reason);
    const running = await start(
      {
        ...loaded.config,
        ...(bucket ? { bucket } : {}),
        legacyState,
        dossierKeys,
        ...(metricsPort !== undefined ? { metricsPort } : {}),
        logger,
        onEvent: (e) => logger.info({ event: e }, `${e.kind} ${e.type ?? ''}`.trim()),
        // nothing more can be received or sent: stop with a failure, for the supervisor to start it again
        // (what was not acknowledged is delivered again; the dossiers' outboxes keep what was not sent)
        onFailure: (reason) => fail(reason),
      },
      settings,
    );
    // the case officers' page (packages/officer-web), when the settings have `officerWeb`
    const officerWeb = await startOfficerWebSetting(service, settings, running, loaded.config, logger).catch(
      async (err: unknown) => {
        await running.close();
        await loaded.close();
        throw err;
      },
    );
    // The HTTP doors the process serves beside the exchange: the back office (and what it carries).
    let doors: { close(): Promise<unknown> } | undefined;
    if (backOffice) {
      if (!isBodyService(running)) throw new Error(`${service} has no back office to serve`);
      try {
        doors = await serveBackOffice(running, backOffice, { contracts: loaded.config.contracts, logger });
      } catch (err) {
        await running.close().catch(() => undefined);
        await loaded.close().catch(() => undefined);
        throw err;
      }
      logger.info(
        { url: backOffice.publicUrl, openapi: `${backOffice.publicUrl}/openapi.json` },
        'back office served',
      );
    }
    // the same scans `pnpm start` runs for the services it starts together
    const scans = scheduleDeadlineScans(running, { intervalMs: scan, logger });
    logger.info({ participants: settings.participants }, `${service} started`);
    const { policy } = settings.extra as { policy?: unknown };
    if (policy !== undefined) {
      logger.warn(
        { policy },
        'automatic decisions configured: a policy decides what a case officer otherwise would',
      );
    }
    let stopping: Promise<void> | undefined;
    const stop = (exitCode = 0): Promise<void> =>
      (stopping ??= (async () => {
        const scansStopped = scans?.close();
        process.exitCode = exitCode;
        // a stop that hangs (a handler that does not end, a store that does not answer) still ends
        const deadline = setTimeout(() => process.exit(exitCode || 1), STOP_DEADLINE_MS);
        deadline.unref();
        try {
          await scansStopped;
          await officerWeb?.close();
          await doors?.close();
          await running.close();
          await loaded.close();
          logger.info(`${service} stopped`);
        } catch (err) {
          logger.error({ code: (err as { code?: string }).code }, `${service} did not stop cleanly`);
          exitCode ||= 1;
        }
        // stopped: nothing left to wait for, whatever handle a library keeps open
        process.exit(exitCode);
      })());
    fail = (reason) => {
      if (stopping) return;
      logger.error({ reason }, `${service} stops: it can no longer work`);
      void stop(1);
    };
    if (failed !== undefined) fail(failed);
    loaded.onFailure(fail);
    process.once('SIGINT', () => void stop());
    process.once('SIGTERM', () => void stop());
  } catch (err) {
    if (isPasserelleError(err)) {
      console.error(`${err.code}: ${err.message}`);
    } else {
      console.error(`${service} failed to start: ${(err as Error).message}`);
    }
    process.exitCode = 1;
  }
}

/**
 * The policy the `policy` setting ({@link POLICY_SETTING}, validated by the service's schema) names:
 * absent, no automatic decision (a case officer takes every action a person must take); `"automatic"`,
 * the service's automatic policy. Returns what to spread into the service's settings.
 *
 * @example
 * ```ts
 * createConsularPostService({ ...config, ...policySetting(settings, automaticPostPolicy) });
 * ```
 */
export function policySetting<S extends DossierRecord>(
  settings: ServiceSettings<{ policy?: 'automatic' }>,
  automatic: Policy<S>,
): { policy?: Policy<S> } {
  return settings.extra.policy === 'automatic' ? { policy: automatic } : {};
}
