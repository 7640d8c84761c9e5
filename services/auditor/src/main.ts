/**
 * Runs the auditor as a process. Settings come from the environment, validated against
 * `AUDITOR_SETTINGS_SCHEMA` (src/settings-schema.ts; the table in README.md is generated from it).
 */
import { readFile } from 'node:fs/promises';
import { createTsaClient, folderArchive, parseTsaTrust } from '@passerelle/audit';
import { createDirectoryClient, loadAnchor, loadDirectoryFile } from '@passerelle/directory';
import type { KeyResolver } from '@passerelle/envelope';
import { connectNats, createLogger } from '@passerelle/exchange';
import { runMain, stopProcessOn } from '@passerelle/service-host';
import { createAuditorService } from './service.js';
import { invalidAuditorSetting, loadAuditorKey, readAuditorSettings } from './settings.js';

async function main(): Promise<void> {
  const settings = await readAuditorSettings(process.env);
  const auditorKey = await loadAuditorKey(settings.keyFile);
  const anchor = await loadAnchor(settings.anchor);
  const logger = createLogger('auditor', { level: settings.logLevel });
  const nc = await connectNats({ servers: settings.servers, name: 'auditor' });
  let resolver: KeyResolver;
  let closeDirectory = (): void => undefined;
  if (settings.directoryFile) {
    resolver = await loadDirectoryFile(settings.directoryFile, anchor);
  } else {
    const client = await createDirectoryClient({
      nc,
      anchor,
      stateFile: settings.directoryState,
      // an entry older than the accepted one (ERR_DIRECTORY_ROLLBACK) names the participant and both versions
      onRejected: ({ key, revision, error }) => {
        const { code, details } = error as { code?: string; details?: Record<string, unknown> };
        logger.error(
          {
            code,
            participant: key.slice(0, 64),
            revision,
            ...(code === 'ERR_DIRECTORY_ROLLBACK' ? details : {}),
          },
          'directory entry refused',
        );
      },
    });
    resolver = client;
    closeDirectory = () => void client.close();
  }
  let timestamps: Parameters<typeof createAuditorService>[0]['timestamps'];
  if (settings.tsaUrl && settings.tsaTrust) {
    let pem: string;
    try {
      pem = await readFile(settings.tsaTrust, 'utf8');
    } catch (cause) {
      throw invalidAuditorSetting('/tsaTrust', `(${settings.tsaTrust}) cannot be read`, cause);
    }
    const trust = parseTsaTrust(pem);
    timestamps = {
      tsa: createTsaClient({ url: settings.tsaUrl, trust }),
      trust,
      intervalMs: settings.timestampSeconds * 1000,
    };
  }
  const auditor = await createAuditorService({
    ...(timestamps ? { timestamps } : {}),
    ...(settings.metricsPort !== undefined ? { metricsPort: settings.metricsPort } : {}),
    ...(settings.archiveDir
      ? {
          archive: {
            store: await folderArchive(settings.archiveDir),
            intervalMs: settings.archiveSeconds * 1000,
            segmentEntries: settings.archiveSegmentEntries,
            trim: settings.archiveTrim,
            ...(settings.ledgerMaxAgeDays !== undefined
              ? { ledgerMaxAgeMs: settings.ledgerMaxAgeDays * 86_400_000 }
              : {}),
          },
        }
      : {}),
    nc,
    auditorKey,
    resolver,
    checkpointEvery: settings.checkpointEvery,
    checkpointIntervalMs: settings.checkpointSeconds * 1000,
    viewer: {
      token: settings.token,
      host: settings.viewerHost,
      port: settings.viewerPort,
      ...(settings.viewerTls ? { tls: settings.viewerTls } : {}),
      ...(settings.exportFile ? { exportFile: settings.exportFile } : {}),
    },
    logger,
  });
  logger.info({ url: auditor.viewerUrl }, 'auditor running');
  // NATS unreachable past the reconnection attempts: the ledger can no longer be written
  stopProcessOn({
    service: 'auditor',
    nc,
    logger,
    close: async () => {
      await auditor.close();
      closeDirectory();
    },
  });
}

runMain(main);
