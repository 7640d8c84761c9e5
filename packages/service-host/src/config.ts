import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadContracts } from '@passerelle/contracts';
import {
  type DirectoryClient,
  type ParticipantKind,
  type RejectedEntry,
  createDirectoryClient,
  loadAnchor,
  STORAGE_KEY_FILE,
  loadDirectoryFile,
  loadParticipantKeys,
  loadStorageKeys,
  participantKind,
} from '@passerelle/directory';
import type { KeyResolver } from '@passerelle/envelope';
import { PasserelleError, isPasserelleError } from '@passerelle/errors';
import {
  type LoadedCredentials,
  type Logger,
  connectNats,
  createLogger,
  loadCredentials,
} from '@passerelle/exchange';
import { type Settings, type SettingsSchema, defineSettings, readSettingsFile } from '@passerelle/settings';
import type { HostedServiceConfig } from './host.js';
import { SERVICE_HOST_SETTINGS_SCHEMA, isHostSetting } from './settings-schema.js';

/**
 * The start-up settings of a service process, validated against its settings schema
 * ({@link SERVICE_HOST_SETTINGS_SCHEMA}, or the service's own from {@link serviceSettingsSchema}); the
 * schema documents each one (file key, `PASSERELLE_*` variable, default).
 */
export interface ServiceSettings<Extra extends object = Record<string, unknown>> {
  servers: string[];
  participants: string[];
  keysDir: string;
  anchor: string;
  directoryFile?: string;
  /** Default `<keysDir>/directory-state.<service>.json`. */
  directoryState: string;
  contractsRoot?: string;
  credentialsDir?: string;
  legacyState: boolean;
  dossierKeys: boolean;
  officerWeb?: { port: number; accountsFile: string; host: string; secureCookies: boolean };
  backOffice?: {
    port?: number;
    host: string;
    publicUrl?: string;
    secretFile?: string;
    adminClientFile?: string;
  };
  backOfficePort?: number;
  metricsPort?: number;
  logLevel: string;
  bucket?: string;
  scanIntervalMs: number;
  /** The service's own settings (those its schema adds to the host's), validated. */
  extra: Extra;
}

type HostValues = Omit<ServiceSettings, 'extra' | 'directoryState'> & { directoryState?: string };

const compiled = new Map<string, { schema: SettingsSchema; settings: Settings<HostValues> }>();

/** The compiled settings of a service process: compiled once per service and schema. */
function settingsOf(service: string, schema: SettingsSchema): Settings<HostValues> {
  const known = compiled.get(service);
  if (known?.schema === schema) return known.settings;
  const settings = defineSettings<HostValues>(service, schema);
  compiled.set(service, { schema, settings });
  return settings;
}

/**
 * Reads a service's settings: the JSON file named by `PASSERELLE_CONFIG` (if any), overridden by the
 * `PASSERELLE_*` variables, validated against `schema`. Throws ERR_CONFIG_INVALID naming the first bad
 * setting by JSON pointer (and variable).
 *
 * @example
 * ```ts
 * const settings = await readServiceSettings('commune', 'commune', process.env, COMMUNE_SETTINGS_SCHEMA);
 * ```
 */
export async function readServiceSettings<Extra extends object = Record<string, unknown>>(
  service: string,
  kind: ParticipantKind,
  env: Readonly<Record<string, string | undefined>>,
  schema: SettingsSchema = SERVICE_HOST_SETTINGS_SCHEMA,
): Promise<ServiceSettings<Extra>> {
  const settings = settingsOf(service, schema);
  const path = env['PASSERELLE_CONFIG'];
  const file = path ? await readSettingsFile(service, 'PASSERELLE_CONFIG', path) : {};
  const values = settings.read({ env, file });
  // the kind of an id is a rule of the directory's, beyond what a pattern says well
  values.participants.forEach((id, i) => {
    if (participantKind(id) !== kind) throw settings.invalid(`/participants/${i}`, `must be a ${kind} id`);
  });
  const host: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) (isHostSetting(key) ? host : extra)[key] = value;
  return {
    ...(host as HostValues),
    directoryState: values.directoryState ?? join(values.keysDir, `directory-state.${service}.json`),
    extra: extra as Extra,
  };
}

/**
 * Logs each directory entry the client refuses (error level: an entry older than the accepted one is
 * what a rollback by whoever runs NATS looks like), with its code, participant and versions.
 */
export function logDirectoryRejections(logger: Logger): (rejected: RejectedEntry) => void {
  return ({ key, revision, error }) => {
    const code = isPasserelleError(error) ? error.code : undefined;
    const details = isPasserelleError(error) ? error.details : undefined;
    logger.error(
      {
        code,
        participant: key.slice(0, 64),
        revision,
        ...(code === 'ERR_DIRECTORY_ROLLBACK' ? details : {}),
      },
      code === 'ERR_DIRECTORY_ROLLBACK'
        ? 'directory entry refused: older than the one this host accepted (rollback)'
        : 'directory entry refused',
    );
  };
}

/**
 * Each hosted id's credentials file from `credentialsDir` (a secured server), checked to be that id's;
 * empty without the setting.
 */
async function loadHostedCredentials(
  service: string,
  settings: ServiceSettings<object>,
): Promise<Map<string, LoadedCredentials>> {
  const credentials = new Map<string, LoadedCredentials>();
  if (!settings.credentialsDir) return credentials;
  for (const id of settings.participants) {
    const loaded = await loadCredentials(join(settings.credentialsDir, `${id}.json`));
    if (loaded.participant !== id) {
      throw new PasserelleError(
        'ERR_CONFIG_INVALID',
        `${service} setting credentialsDir holds another participant's file for ${id}`,
        { details: { setting: 'credentialsDir', participant: id } },
      );
    }
    credentials.set(id, loaded);
  }
  return credentials;
}

/**
 * Turns settings into a {@link HostedServiceConfig}: loads each hosted id's keys, the trust anchor, the
 * directory (live bucket followed with the host's state file, or an offline export) and the contracts;
 * directory entries refused are logged with `logger`. `close` ends the directory connection.
 */
export async function loadHostedConfig(
  service: string,
  settings: ServiceSettings<object>,
  logger: Logger = createLogger(service),
): Promise<LoadedHostedConfig> {
  const participants = await Promise.all(
    settings.participants.map(async (id) => {
      try {
        return await loadParticipantKeys(join(settings.keysDir, id));
      } catch (cause) {
        throw new PasserelleError(
          'ERR_CONFIG_INVALID',
          `${service} setting keysDir has no usable keys for ${id}`,
          {
            details: { setting: 'keysDir', participant: id },
            cause,
          },
        );
      }
    }),
  );
  const storageKeys = await Promise.all(
    settings.participants.map(async (id) => {
      try {
        return await loadStorageKeys(join(settings.keysDir, id), id);
      } catch (cause) {
        throw new PasserelleError(
          'ERR_CONFIG_INVALID',
          `${service} setting keysDir has no usable storage keyring for ${id} (${id}/${STORAGE_KEY_FILE}; \`passerelle keys storage <key folder>\` creates one)`,
          { details: { setting: 'keysDir', participant: id }, cause },
        );
      }
    }),
  );
  const anchor = await loadAnchor(settings.anchor).catch((cause: unknown) => {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${service} setting anchor is not a public key file`, {
      details: { setting: 'anchor' },
      cause,
    });
  });
  const contracts = await loadContracts(settings.contractsRoot ? { root: settings.contractsRoot } : {});
  const credentials = await loadHostedCredentials(service, settings);
  const first = credentials.get(settings.participants[0]!);
  const servers = first?.servers ?? settings.servers;
  let directory: KeyResolver;
  let client: DirectoryClient | undefined;
  let nc: NatsConnection | undefined;
  if (settings.directoryFile) {
    directory = await loadDirectoryFile(settings.directoryFile, anchor);
  } else {
    // The directory is read with the first hosted id's credentials (read access is granted to every participant).
    const live = await connectNats({ ...first?.connection, servers, name: `${service}-directory` });
    nc = live;
    client = await createDirectoryClient({
      nc: live,
      anchor,
      stateFile: settings.directoryState,
      onRejected: logDirectoryRejections(logger),
    }).catch(async (cause: unknown) => {
      await live.close();
      if (!isPasserelleError(cause, 'ERR_DIRECTORY_FILE_INVALID')) throw cause;
      throw new PasserelleError(
        'ERR_CONFIG_INVALID',
        `${service} setting directoryState (PASSERELLE_DIRECTORY_STATE) is not a usable directory state file`,
        { details: { setting: 'directoryState' }, cause },
      );
    });
    directory = client;
  }
  // The live directory's connection closing for good (reconnection attempts spent) leaves the service on
  // its cached entries, blind to rotations and revocations: a failure, like its exchanges' own.
  let closing = false;
  let failure: string | undefined;
  const listeners = new Set<(reason: string) => void>();
  void nc?.closed().then(() => {
    if (closing) return;
    failure = 'directory connection closed';
    for (const listener of listeners) listener(failure);
  });
  return {
    config: {
      participants,
      storageKeys,
      directory,
      contracts,
      servers,
      ...(credentials.size > 0
        ? {
            connectionFor: (id: string) => credentials.get(id)?.connection,
            accountsFor: (id: string) => credentials.get(id)?.accounts,
            credentialsExpiryFor: (id: string) => credentials.get(id)?.expiresAt,
            provision: false,
          }
        : {}),
    },
    onFailure: (listener) => {
      listeners.add(listener);
      if (failure !== undefined) listener(failure);
    },
    close: async () => {
      closing = true;
      await client?.close();
      if (nc && !nc.isClosed()) await nc.drain();
    },
  };
}

/** What {@link loadHostedConfig} gives: the host's configuration and what it opened for it. */
export interface LoadedHostedConfig {
  config: HostedServiceConfig;
  /**
   * Calls `listener` (at once if it happened already) when the live directory's connection closes for
   * good without {@link close}: the service would go on with its cached entries, blind to key rotations
   * and revocations. Never called with an offline directory file.
   */
  onFailure(listener: (reason: string) => void): void;
  /** Closes the live directory's connection, if any. */
  close(): Promise<void>;
}
