import type { ParticipantKind } from '@passerelle/directory';
import { PasserelleError, isPasserelleError } from '@passerelle/errors';
import type { DossierRecord, Policy } from '@passerelle/procedure';
import { createLogger } from '@passerelle/exchange';
import { type ServiceSettings, loadHostedConfig, readServiceSettings } from './config.js';
import type { HostedServiceConfig } from './host.js';
import { startOfficerWebSetting } from './officer-web.js';
import { backOfficeSetting, isBodyService, serveBackOffice } from './back-office/back-office-setting.js';

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
 * The body of every service's `main.ts`: reads the settings (PASSERELLE_CONFIG file and PASSERELLE_* env),
 * starts the service, serves its back office when the `backOffice` setting (or `PASSERELLE_BACK_OFFICE_PORT`)
 * says where (see `backOfficeSetting`), scans deadlines every `scanIntervalMs` (setting, default 60 000; 0 disables), logs
 * service events, stops cleanly on SIGINT / SIGTERM (exiting anyway, with 1, if the stop has not ended
 * after 60 s). A bad setting prints its code and exits with 1. A hosted exchange that can no longer work
 * (its connection closed for good, e.g. NATS unreachable past its reconnection attempts) stops the service
 * with exit code 1, for its supervisor (systemd `Restart=on-failure`, Kubernetes) to start it again.
 *
 * @example
 * ```ts
 * await runServiceMain('commune', 'commune', (config) => createCommuneService(config));
 * ```
 */
export async function runServiceMain(
  service: string,
  kind: ParticipantKind,
  start: (config: HostedServiceConfig, settings: ServiceSettings) => Promise<RunnableService>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  const logger = createLogger(service);
  try {
    const settings = await readServiceSettings(service, kind, env);
    const scan = settings.extra.scanIntervalMs ?? 60_000;
    if (typeof scan !== 'number' || !Number.isInteger(scan) || scan < 0) {
      throw new PasserelleError(
        'ERR_CONFIG_INVALID',
        `${service} setting scanIntervalMs must be a non-negative integer`,
        { details: { setting: 'scanIntervalMs' } },
      );
    }
    const bucket = textSetting(service, settings, 'bucket');
    const legacyState = legacyStateSetting(service, settings, env);
    const dossierKeys = dossierKeysSetting(service, settings, env);
    const metricsPort = metricsPortSetting(service, settings, env);
    const backOffice = backOfficeSetting(service, settings, env);
    const loaded = await loadHostedConfig(service, settings, logger);
    // until the service has started, a failure is kept, and acted on once it has
    let failed: string | undefined;
    let fail = (reason: string): void => void (failed ??= reason);
    const running = await start(
      {
        ...loaded.config,
        ...(bucket ? { bucket } : {}),
        ...(legacyState !== undefined ? { legacyState } : {}),
        ...(dossierKeys !== undefined ? { dossierKeys } : {}),
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
    const timer =
      scan > 0 && running.checkDeadlines
        ? setInterval(() => {
            running.checkDeadlines!().catch((err: unknown) =>
              logger.warn({ code: (err as { code?: string }).code }, 'deadline scan failed'),
            );
          }, scan)
        : undefined;
    logger.info({ participants: settings.participants }, `${service} started`);
    if (settings.extra.policy !== undefined) {
      logger.warn(
        { policy: settings.extra.policy },
        'automatic decisions configured: a policy decides what a case officer otherwise would',
      );
    }
    let stopping: Promise<void> | undefined;
    const stop = (exitCode = 0): Promise<void> =>
      (stopping ??= (async () => {
        if (timer) clearInterval(timer);
        process.exitCode = exitCode;
        // a stop that hangs (a handler that does not end, a store that does not answer) still ends
        const deadline = setTimeout(() => process.exit(exitCode || 1), STOP_DEADLINE_MS);
        deadline.unref();
        try {
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
 * A text setting of the service's JSON file (`settings.extra`), or `undefined` when absent; anything but
 * a non-empty string is `ERR_CONFIG_INVALID` naming it.
 *
 * @example
 * ```ts
 * const registerBucket = textSetting('commune', settings, 'registerBucket');
 * ```
 */
export function textSetting(service: string, settings: ServiceSettings, name: string): string | undefined {
  const value = settings.extra[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${service} setting ${name} must be a non-empty string`, {
      details: { setting: name },
    });
  }
  return value;
}

/**
 * Whether records an earlier release sealed under the signing key are still read (LEGACY):
 * `PASSERELLE_LEGACY_STATE` (`true` / `false`), else `legacyState` of the JSON file (a boolean), else
 * undefined (the host's default, true); anything else is `ERR_CONFIG_INVALID`.
 */
export function legacyStateSetting(
  service: string,
  settings: ServiceSettings,
  env: Readonly<Record<string, string | undefined>>,
): boolean | undefined {
  return booleanSetting(service, settings, env, 'legacyState', 'PASSERELLE_LEGACY_STATE');
}

/**
 * Whether payloads and decision documents are sealed under each dossier's own key (`dossierKeys`, so that
 * `passerelle dossier erase` works): `PASSERELLE_DOSSIER_KEYS`, else `dossierKeys` of the JSON file, else
 * undefined (the host's default, false); anything else is `ERR_CONFIG_INVALID`.
 */
export function dossierKeysSetting(
  service: string,
  settings: ServiceSettings,
  env: Readonly<Record<string, string | undefined>>,
): boolean | undefined {
  return booleanSetting(service, settings, env, 'dossierKeys', 'PASSERELLE_DOSSIER_KEYS');
}

function booleanSetting(
  service: string,
  settings: ServiceSettings,
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  envName: string,
): boolean | undefined {
  const raw = env[envName] ?? settings.extra[name];
  if (raw === undefined || raw === '') return undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new PasserelleError(
    'ERR_CONFIG_INVALID',
    `${service} setting ${name} (${envName}) must be true or false`,
    {
      details: { setting: name },
    },
  );
}

/**
 * The loopback port of `/metrics`: `PASSERELLE_METRICS_PORT`, else `metricsPort` of the JSON file, else
 * none (not served); a port that is not one is `ERR_CONFIG_INVALID`.
 */
export function metricsPortSetting(
  service: string,
  settings: ServiceSettings,
  env: Readonly<Record<string, string | undefined>>,
): number | undefined {
  return parseMetricsPort(service, env['PASSERELLE_METRICS_PORT'] ?? settings.extra['metricsPort']);
}

/**
 * A metrics port as a setting gives it (text or number): `undefined` when absent or empty (not served),
 * else a port from 0 to 65535, else `ERR_CONFIG_INVALID`. Shared by every process that serves `/metrics`.
 */
export function parseMetricsPort(service: string, raw: unknown): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const port = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      `${service} setting metricsPort (PASSERELLE_METRICS_PORT) must be a port number from 0 to 65535`,
      { details: { setting: 'metricsPort' } },
    );
  }
  return port;
}

/**
 * The `policy` setting of a service's JSON file: absent, no automatic decision (a case officer takes every
 * action a person must take); `"automatic"`, the service's automatic policy (`automatic`); anything else is
 * `ERR_CONFIG_INVALID`. Returns what to spread into the service's settings.
 *
 * @example
 * ```ts
 * createConsularPostService({ ...config, ...policySetting('consular-post', settings, automaticPostPolicy) });
 * ```
 */
export function policySetting<S extends DossierRecord>(
  service: string,
  settings: ServiceSettings,
  automatic: Policy<S>,
): { policy?: Policy<S> } {
  const value = settings.extra.policy;
  if (value === undefined) return {};
  if (value === 'automatic') return { policy: automatic };
  throw new PasserelleError('ERR_CONFIG_INVALID', `${service} setting policy must be "automatic" or absent`, {
    details: { setting: 'policy' },
  });
}
