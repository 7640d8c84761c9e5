import { join } from 'node:path';
import { ensureDoorClient, readDoorSecret } from '@passerelle/door';
import { PasserelleError } from '@passerelle/errors';
import type { DossierRecord } from '@passerelle/procedure';
import type { FastifyInstance } from 'fastify';
import type { BodyService } from '../body-service.js';
import type { ServiceSettings } from '../config.js';
import { type BackOfficeOptions, backOfficeDoor, createBackOffice } from './back-office.js';

/** Where a service process serves its back office, from its `backOffice` setting. */
export interface BackOfficeSetting {
  /** Listening address (default `127.0.0.1`). */
  host: string;
  port: number;
  /** The public base URL (default `http://<host>:<port>`). */
  publicUrl: string;
  /** The door's secret: base64url of at least 32 random bytes, mode 0600 (default `<keysDir>/backoffice-<service>.secret`). */
  secretFile: string;
  /** If set, the credentials of the door's first admin client, `<service>-admin`, written there (0600). */
  adminClientFile?: string;
}

/**
 * The `backOffice` setting of a service's JSON file (`{ "port": 8101, "host", "publicUrl", "secretFile",
 * "adminClientFile" }`), or `PASSERELLE_BACK_OFFICE_PORT`; undefined when neither is given (no back office
 * served). A bad value is `ERR_CONFIG_INVALID` naming it.
 */
export function backOfficeSetting(
  service: string,
  settings: ServiceSettings,
  env: Readonly<Record<string, string | undefined>>,
): BackOfficeSetting | undefined {
  const raw = settings.extra['backOffice'];
  const envPort = env['PASSERELLE_BACK_OFFICE_PORT'];
  if (raw === undefined && (envPort === undefined || envPort === '')) return undefined;
  const bad = (key: string, problem: string): PasserelleError =>
    new PasserelleError('ERR_CONFIG_INVALID', `${service} setting backOffice.${key} ${problem}`, {
      details: { setting: `backOffice.${key}` },
    });
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw)))
    throw bad('', 'must be an object');
  const o = (raw ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['host', 'port', 'publicUrl', 'secretFile', 'adminClientFile'].includes(key))
      throw bad(key, 'is not a setting');
  }
  const portValue = envPort !== undefined && envPort !== '' ? Number(envPort) : o['port'];
  if (typeof portValue !== 'number' || !Number.isInteger(portValue) || portValue < 0 || portValue > 65_535)
    throw bad('port', '(PASSERELLE_BACK_OFFICE_PORT) must be a port number from 0 to 65535');
  const text = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw bad(key, 'must be a non-empty string');
    return v;
  };
  const host = text('host') ?? '127.0.0.1';
  const publicUrl = text('publicUrl') ?? `http://${host}:${portValue}`;
  const adminClientFile = text('adminClientFile');
  return {
    host,
    port: portValue,
    publicUrl,
    secretFile: text('secretFile') ?? join(settings.keysDir, `backoffice-${service}.secret`),
    ...(adminClientFile ? { adminClientFile } : {}),
  };
}

/**
 * Serves a service process's back office as its setting says: the door's secret read from its file, the
 * app listening, and (with `adminClientFile`) the first admin client's credentials made or kept there.
 * Returns the listening app; closing it stops the back office.
 */
export async function serveBackOffice(
  body: BodyService<DossierRecord>,
  setting: BackOfficeSetting,
  options: Pick<BackOfficeOptions, 'contracts' | 'logger' | 'plugins'>,
): Promise<FastifyInstance> {
  const app = await createBackOffice(body, {
    ...options,
    secret: await readDoorSecret(setting.secretFile),
    publicUrl: setting.publicUrl,
  });
  try {
    if (setting.adminClientFile) {
      await ensureDoorClient(backOfficeDoor(app), setting.adminClientFile, {
        id: `${body.service}-admin`,
        scopes: ['admin'],
      });
    }
    await app.listen({ host: setting.host, port: setting.port });
    return app;
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
}

/** Whether a started service is a body service (it has a back office to serve). */
export function isBodyService(value: unknown): value is BodyService<DossierRecord> {
  const v = value as Partial<BodyService<DossierRecord>> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.actions === 'function' &&
    typeof v.onStep === 'function' &&
    typeof v.connection === 'function'
  );
}
