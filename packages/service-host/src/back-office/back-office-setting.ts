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
 * Where the back office is served, from the validated `backOffice` and `backOfficePort`
 * (`PASSERELLE_BACK_OFFICE_PORT`) settings; undefined when neither is given (no back office served). A
 * `backOffice` without a port anywhere is `ERR_CONFIG_INVALID`.
 */
export function backOfficeSetting(
  service: string,
  settings: ServiceSettings<object>,
): BackOfficeSetting | undefined {
  const o = settings.backOffice;
  if (o === undefined && settings.backOfficePort === undefined) return undefined;
  const port = settings.backOfficePort ?? o?.port;
  if (port === undefined)
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      `${service} setting backOffice.port (PASSERELLE_BACK_OFFICE_PORT) must be a port number from 0 to 65535`,
      { details: { setting: 'backOffice.port' } },
    );
  const host = o?.host ?? '127.0.0.1';
  return {
    host,
    port,
    publicUrl: o?.publicUrl ?? `http://${host}:${port}`,
    secretFile: o?.secretFile ?? join(settings.keysDir, `backoffice-${service}.secret`),
    ...(o?.adminClientFile ? { adminClientFile: o.adminClientFile } : {}),
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
