/**
 * The auditor's part of `pnpm start`: records every envelope and receipt in LEDGER with checkpoints, and
 * serves the read-only viewer on loopback. The viewer token is generated once into `<home>/auditor-token`
 * (0600). Settings: the launcher's (`auditorPort`, `checkpointEvery`, `checkpointSeconds` of
 * LAUNCHER_SETTINGS_SCHEMA).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { KeyResolver, PrivateJwk } from '@passerelle/envelope';
import { connectNats, createLogger } from '@passerelle/exchange';
import { createAuditorService } from '../services/auditor/src/index.js';
import { readLauncherSettings } from './launcher-settings.js';

/** What {@link startAuditor} needs from the launcher. */
export interface StartAuditorOptions {
  /** The launcher's state folder (`.passerelle`). */
  home: string;
  /** NATS URL of the local exchange. */
  servers: string;
  /** The auditor's signing key only: it is never given a decryption key. */
  signingKey: PrivateJwk;
  /** The anchor-verified directory. */
  directory: KeyResolver;
  /** Viewer port when PASSERELLE_AUDITOR_PORT is not set (0: any free port). */
  defaultPort: number;
  logLevel: string;
  /** On a secured server: the auditor's connection settings (its credentials file) and `provision: false`. */
  connection?: Omit<ConnectionOptions, 'servers'>;
  provision?: boolean;
}

/** The running auditor, for the launcher to print and to stop. */
export interface StartedAuditor {
  viewerUrl: string;
  tokenFile: string;
  close(): Promise<void>;
}

async function ensureToken(path: string): Promise<string> {
  if (!existsSync(path)) {
    await writeFile(path, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  }
  await chmod(path, 0o600);
  return (await readFile(path, 'utf8')).trim();
}

/**
 * Starts the auditor on its own NATS connection, with the viewer on 127.0.0.1.
 *
 * @example
 * ```ts
 * const auditor = await startAuditor({ home, servers: server.url, signingKey, directory, defaultPort: 8090, logLevel });
 * console.log(`audit viewer on ${auditor.viewerUrl} (token in ${auditor.tokenFile})`);
 * ```
 */
export async function startAuditor(options: StartAuditorOptions): Promise<StartedAuditor> {
  const settings = readLauncherSettings(process.env);
  const port = settings.auditorPort ?? options.defaultPort;
  const { checkpointEvery, checkpointSeconds } = settings;
  const tokenFile = join(options.home, 'auditor-token');
  const token = await ensureToken(tokenFile);
  const nc: NatsConnection = await connectNats({
    ...options.connection,
    servers: options.servers,
    name: 'auditor',
  });
  try {
    const service = await createAuditorService({
      nc,
      auditorKey: options.signingKey,
      resolver: options.directory,
      checkpointEvery,
      checkpointIntervalMs: checkpointSeconds * 1000,
      viewer: { token, host: '127.0.0.1', port },
      logger: createLogger('auditor', { level: options.logLevel }),
      ...(options.provision === false ? { provision: false } : {}),
    });
    return {
      viewerUrl: service.viewerUrl as string,
      tokenFile,
      async close() {
        await service.close();
        await nc.drain();
      },
    };
  } catch (err) {
    await nc.close();
    throw err;
  }
}
