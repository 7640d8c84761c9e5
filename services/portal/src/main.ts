/**
 * Runs the portal as a process. Settings come from the environment, validated against
 * `PORTAL_SETTINGS_SCHEMA` (src/settings-schema.ts; the table in README.md is generated from it). The
 * trust anchor's public key is read from `<home>/keys/anchor.public.json`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadContracts } from '@passerelle/contracts';
import {
  ANCHOR_FILES,
  createDirectoryClient,
  loadAnchor,
  loadParticipantKeys,
  loadStorageKeys,
} from '@passerelle/directory';
import { ensureDoorClient, readDoorSecret } from '@passerelle/door';
import { connectNats, createExchangeMetrics, serveMetrics } from '@passerelle/exchange';
import { logDirectoryRejections, runMain, stopProcessOn } from '@passerelle/service-host';
import { createPortalLogger } from './logger.js';
import { PortalError } from './portal-error.js';
import { createPortalService, portalDoor, portalOperationsProbes } from './service.js';
import { readPortalSettings } from './settings.js';

async function natsUrl(home: string, fromSettings: string | undefined): Promise<string> {
  if (fromSettings) return fromSettings;
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
  const settings = readPortalSettings(process.env);
  const { home, participant, host, port, publicUrl, metricsPort } = settings;
  const keysDir = join(home, 'keys');
  const secret = await readDoorSecret(settings.doorSecretFile);
  const logger = createPortalLogger({ level: settings.logLevel });
  const metrics = createExchangeMetrics(participant);
  const nc = await connectNats({ servers: await natsUrl(home, settings.natsUrl), name: participant });
  const directory = await createDirectoryClient({
    nc,
    anchor: await loadAnchor(join(keysDir, ANCHOR_FILES.public)),
    stateFile: settings.directoryState,
    onRejected: logDirectoryRejections(logger),
  });
  const app = await createPortalService({
    participant,
    keys: await loadParticipantKeys(join(keysDir, participant)),
    storageKeys: await loadStorageKeys(join(keysDir, participant), participant),
    legacyState: settings.legacyState,
    dossierKeys: settings.dossierKeys,
    directory,
    contracts: await loadContracts(),
    nc,
    door: { secret, publicUrl },
    logger,
    metrics,
  });
  const adminFile = settings.adminClientFile;
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
  // NATS unreachable past the reconnection attempts: nothing more can be sent or received (integrators'
  // requests meanwhile get 503 and retry with their key)
  stopProcessOn({
    service: 'portal',
    nc,
    logger,
    close: async () => {
      await served?.close();
      await app.close();
      await directory.close();
    },
  });
}

runMain(main);
