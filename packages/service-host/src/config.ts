import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadContracts } from '@passerelle/contracts';
import {
  type DirectoryClient,
  type ParticipantKind,
  type RejectedEntry,
  type StorageKeyring,
  createDirectoryClient,
  loadAnchor,
  STORAGE_KEY_FILE,
  loadDirectoryFile,
  loadParticipantKeys,
  loadStorageKeys,
  participantKind,
} from '@passerelle/directory';
import type { KeyResolver, ParticipantKeys } from '@passerelle/envelope';
import { PasserelleError, isPasserelleError } from '@passerelle/errors';
import {
  type LoadedCredentials,
  type Logger,
  connectNats,
  createLogger,
  loadCredentials,
} from '@passerelle/exchange';
import type { HostedServiceConfig } from './host.js';

/** The start-up settings of a service, from a JSON file and the environment. */
export interface ServiceSettings {
  /** NATS URL(s). Env `PASSERELLE_NATS_URL`; file `servers`. */
  servers: string[];
  /** Hosted participant ids. Env `PASSERELLE_PARTICIPANTS` (comma-separated); file `participants`. */
  participants: string[];
  /** Folder holding one key folder per participant (`<keysDir>/<id>/private.json`). Env `PASSERELLE_KEYS_DIR`. */
  keysDir: string;
  /** Trust anchor public key file. Env `PASSERELLE_ANCHOR`; file `anchor`. */
  anchor: string;
  /** Offline directory export instead of the live directory bucket. Env `PASSERELLE_DIRECTORY_FILE`. */
  directoryFile?: string;
  /**
   * The host's directory state file (the entries it has accepted, mode 0600), so that a restart refuses an
   * entry older than one accepted before. Env `PASSERELLE_DIRECTORY_STATE`; file `directoryState`; default
   * `<keysDir>/directory-state.<service>.json`. One file per process.
   */
  directoryState: string;
  /** Repository root holding `contracts/` and `schemas/`. Env `PASSERELLE_CONTRACTS_ROOT`. */
  contractsRoot?: string;
  /**
   * Secured server: folder of credentials files, one `<id>.json` per hosted id (`loadCredentials` format).
   * Env `PASSERELLE_CREDENTIALS_DIR`; file `credentialsDir`.
   */
  credentialsDir?: string;
  /** Every other key of the JSON file (service-specific settings). */
  extra: Record<string, unknown>;
}

function bad(service: string, setting: string, problem: string): PasserelleError {
  return new PasserelleError('ERR_CONFIG_INVALID', `${service} setting ${setting} ${problem}`, {
    details: { setting },
  });
}

/**
 * Reads a service's settings: the JSON file named by `PASSERELLE_CONFIG` (if any), overridden by the
 * `PASSERELLE_*` variables. Throws ERR_CONFIG_INVALID naming the first bad setting.
 *
 * @example
 * ```ts
 * const settings = await readServiceSettings('commune', 'commune', process.env);
 * ```
 */
export async function readServiceSettings(
  service: string,
  kind: ParticipantKind,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ServiceSettings> {
  let file: Record<string, unknown> = {};
  if (env.PASSERELLE_CONFIG) {
    try {
      file = JSON.parse(await readFile(env.PASSERELLE_CONFIG, 'utf8')) as Record<string, unknown>;
    } catch {
      throw bad(service, 'PASSERELLE_CONFIG', `(${env.PASSERELLE_CONFIG}) cannot be read as a JSON object`);
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw bad(service, 'PASSERELLE_CONFIG', 'must hold a JSON object');
    }
  }
  const list = (envName: string, key: string): string[] | undefined => {
    const fromEnv = env[envName];
    if (fromEnv !== undefined)
      return fromEnv
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    const v = file[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
    throw bad(service, key, 'must be a string or an array of strings');
  };
  const text = (envName: string, key: string): string | undefined => {
    const v = env[envName] ?? file[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw bad(service, key, 'must be a non-empty string');
    return v;
  };
  const servers = list('PASSERELLE_NATS_URL', 'servers') ?? ['nats://127.0.0.1:4222'];
  const participants = list('PASSERELLE_PARTICIPANTS', 'participants');
  if (!participants || participants.length === 0) {
    throw bad(service, 'participants (PASSERELLE_PARTICIPANTS)', 'must name at least one hosted id');
  }
  for (const id of participants) {
    let k: string | undefined;
    try {
      k = participantKind(id);
    } catch {
      k = undefined;
    }
    if (k !== kind)
      throw bad(
        service,
        'participants (PASSERELLE_PARTICIPANTS)',
        `holds ${id.slice(0, 64)}, not a ${kind} id`,
      );
  }
  const keysDir = text('PASSERELLE_KEYS_DIR', 'keysDir');
  if (!keysDir) throw bad(service, 'keysDir (PASSERELLE_KEYS_DIR)', 'is required');
  const anchor = text('PASSERELLE_ANCHOR', 'anchor');
  if (!anchor) throw bad(service, 'anchor (PASSERELLE_ANCHOR)', 'is required');
  const directoryFile = text('PASSERELLE_DIRECTORY_FILE', 'directoryFile');
  const directoryState =
    text('PASSERELLE_DIRECTORY_STATE', 'directoryState') ?? join(keysDir, `directory-state.${service}.json`);
  const contractsRoot = text('PASSERELLE_CONTRACTS_ROOT', 'contractsRoot');
  const credentialsDir = text('PASSERELLE_CREDENTIALS_DIR', 'credentialsDir');
  const known = new Set([
    'servers',
    'participants',
    'keysDir',
    'anchor',
    'directoryFile',
    'directoryState',
    'contractsRoot',
    'credentialsDir',
  ]);
  const extra = Object.fromEntries(Object.entries(file).filter(([k]) => !known.has(k)));
  return {
    servers,
    participants,
    keysDir,
    anchor,
    ...(directoryFile ? { directoryFile } : {}),
    directoryState,
    ...(contractsRoot ? { contractsRoot } : {}),
    ...(credentialsDir ? { credentialsDir } : {}),
    extra,
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

// Each hosted id's message keys and storage keyring, from the keys folder: a missing or unusable one names
// the setting and the id.
async function loadHostedKeys(
  service: string,
  settings: ServiceSettings,
): Promise<{ participants: ParticipantKeys[]; storageKeys: StorageKeyring[] }> {
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
  return { participants, storageKeys };
}

// Each hosted id's NATS credentials file, on a secured server; a file of another participant is refused.
async function loadHostedCredentials(
  service: string,
  settings: ServiceSettings,
): Promise<Map<string, LoadedCredentials>> {
  const credentials = new Map<string, LoadedCredentials>();
  if (settings.credentialsDir) {
    for (const id of settings.participants) {
      const loaded = await loadCredentials(join(settings.credentialsDir, `${id}.json`));
      if (loaded.participant !== id) {
        throw new PasserelleError(
          'ERR_CONFIG_INVALID',
          `${service} setting credentialsDir holds another participant's file for ${id}`,
          {
            details: { setting: 'credentialsDir', participant: id },
          },
        );
      }
      credentials.set(id, loaded);
    }
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
  settings: ServiceSettings,
  logger: Logger = createLogger(service),
): Promise<LoadedHostedConfig> {
  const { participants, storageKeys } = await loadHostedKeys(service, settings);
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
