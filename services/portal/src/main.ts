/**
 * Runs the portal as a process. Settings (environment):
 * - `PASSERELLE_HOME` (default `.passerelle`): holds `server.json` (from `pnpm start`) and `keys/`;
 * - `PASSERELLE_NATS_URL`: NATS server (default: the one recorded in `server.json`);
 * - `PORTAL_PARTICIPANT` (default `portal-employers`): keys in `keys/<participant>/private.json`, storage
 *   keyring in `keys/<participant>/storage.json`;
 * - `PASSERELLE_LEGACY_STATE` (`true`, the default, or `false`): read records an earlier release sealed under
 *   the signing key (LEGACY, logged) or not;
 * - `PORTAL_DOOR_SECRET_FILE` (default `keys/<participant>/door.secret`): the integrators' door's secret,
 *   base64url of at least 32 random bytes (client and token hashes, sealed records, cursors);
 * - `PORTAL_HOST` (default 127.0.0.1), `PORTAL_PORT` (default 8080);
 * - `PORTAL_PUBLIC_URL` (default `http://<host>:<port>`): the URL integrators reach the portal at (links,
 *   the token URL, the OpenAPI server);
 * - `PORTAL_ADMIN_CLIENT_FILE`: if set, the credentials of the door's first admin client, `portal-admin`
 *   (created, or given a new secret, when the file does not hold working ones), which creates the
 *   integrators' clients over HTTP (`POST /clients`);
 * - `PASSERELLE_METRICS_PORT`: serve the exchange runtime's `/metrics` on this loopback port (default: not served);
 * - `PASSERELLE_DIRECTORY_STATE` (default `<home>/directory-state.<participant>.json`): the directory entries
 *   this host has accepted (mode 0600), so that a restart refuses an older one put back in the bucket;
 * - `PASSERELLE_LOG_LEVEL`.
 * The trust anchor's public key is read from `keys/anchor.public.json`.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadContracts } from '@passerelle/contracts';
import {
  ANCHOR_FILES,
  createDirectoryClient,
  loadAnchor,
  loadParticipantKeys,
  loadStorageKeys,
} from '@passerelle/directory';
import { ensureDoorClient, readDoorSecret } from '@passerelle/door';
import { PasserelleError } from '@passerelle/errors';
import { connectNats, createExchangeMetrics, errorSummary, serveMetrics } from '@passerelle/exchange';
import { logDirectoryRejections, parseMetricsPort } from '@passerelle/service-host';
import { createPortalLogger } from './logger.js';
import { PortalError } from './portal-error.js';
import { createPortalService, portalDoor, portalOperationsProbes } from './service.js';

async function natsUrl(home: string): Promise<string> {
  const fromEnv = process.env['PASSERELLE_NATS_URL'];
  if (fromEnv) return fromEnv;
  try {
    const state = JSON.parse(await readFile(join(home, 'server.json'), 'utf8')) as { url?: string };
    if (state.url) return state.url;
  } catch {
    // no local exchange recorded
  }
  throw new PortalError('ERR_CONFIG_INVALID', 'Set PASSERELLE_NATS_URL, or run pnpm start first.', {
    details: { setting: 'PASSERELLE_NATS_URL' },
  });
}

async function main(): Promise<void> {
  const home = resolve(process.env['PASSERELLE_HOME'] ?? '.passerelle');
  const keysDir = join(home, 'keys');
  const participant = process.env['PORTAL_PARTICIPANT'] ?? 'portal-employers';
  const host = process.env['PORTAL_HOST'] ?? '127.0.0.1';
  const port = Number(process.env['PORTAL_PORT'] ?? '8080');
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PortalError('ERR_CONFIG_INVALID', 'PORTAL_PORT is not a TCP port.', {
      details: { setting: 'PORTAL_PORT' },
    });
  }
  const publicUrl = process.env['PORTAL_PUBLIC_URL'] || `http://${host}:${port}`;
  const secret = await readDoorSecret(
    process.env['PORTAL_DOOR_SECRET_FILE'] ?? join(keysDir, participant, 'door.secret'),
  );
  const metricsPort = parseMetricsPort('portal', process.env['PASSERELLE_METRICS_PORT']);
  const legacyState = process.env['PASSERELLE_LEGACY_STATE'] || 'true';
  if (legacyState !== 'true' && legacyState !== 'false') {
    throw new PortalError('ERR_CONFIG_INVALID', 'PASSERELLE_LEGACY_STATE must be true or false.', {
      details: { setting: 'PASSERELLE_LEGACY_STATE' },
    });
  }
  const dossierKeys = process.env['PASSERELLE_DOSSIER_KEYS'] || 'false';
  if (dossierKeys !== 'true' && dossierKeys !== 'false') {
    throw new PortalError('ERR_CONFIG_INVALID', 'PASSERELLE_DOSSIER_KEYS must be true or false.', {
      details: { setting: 'PASSERELLE_DOSSIER_KEYS' },
    });
  }
  const logger = createPortalLogger();
  const metrics = createExchangeMetrics(participant);
  const nc = await connectNats({ servers: await natsUrl(home), name: participant });
  const directory = await createDirectoryClient({
    nc,
    anchor: await loadAnchor(join(keysDir, ANCHOR_FILES.public)),
    stateFile: process.env['PASSERELLE_DIRECTORY_STATE'] ?? join(home, `directory-state.${participant}.json`),
    onRejected: logDirectoryRejections(logger),
  });
  const app = await createPortalService({
    participant,
    keys: await loadParticipantKeys(join(keysDir, participant)),
    storageKeys: await loadStorageKeys(join(keysDir, participant), participant),
    ...(legacyState === 'false' ? { legacyState: false } : {}),
    ...(dossierKeys === 'true' ? { dossierKeys: true } : {}),
    directory,
    contracts: await loadContracts(),
    nc,
    door: { secret, publicUrl },
    logger,
    metrics,
  });
  const adminFile = process.env['PORTAL_ADMIN_CLIENT_FILE'];
  if (adminFile) {
    await ensureDoorClient(portalDoor(app), adminFile, { id: 'portal-admin', scopes: ['admin'] });
    logger.info({ file: adminFile }, 'admin client credentials ready');
  }
  const address = await app.listen({ host, port });
  logger.info({ address, participant }, 'portal listening');
  const served =
    metricsPort !== undefined
      ? await serveMetrics(metrics.registry, metricsPort, '127.0.0.1', portalOperationsProbes(app))
      : undefined;
  if (served) logger.info({ port: served.port }, 'metrics on /metrics, probes on /healthz and /readyz');
  let stopping = false;
  const stop = async (exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // a stop that hangs (a request or a store that does not answer) still ends
    setTimeout(() => process.exit(exitCode || 1), 60_000).unref();
    try {
      await served?.close();
      await app.close();
      await directory.close();
      if (!nc.isClosed()) await nc.drain();
      process.exit(exitCode);
    } catch (err) {
      logger.error({ err: errorSummary(err) }, 'shutdown failed');
      process.exit(1);
    }
  };
  // NATS unreachable past the reconnection attempts: nothing more can be sent or received; exit for the
  // supervisor to start the portal again (integrators' requests meanwhile get 503 and retry with their key)
  void nc.closed().then(() => {
    if (stopping) return;
    logger.error('the NATS connection closed: the portal stops');
    void stop(1);
  });
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  if (err instanceof PasserelleError) console.error(`error ${err.code}: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
