import { PARTICIPANT_ID_PATTERN } from '@passerelle/directory';
import {
  LOG_LEVEL_SETTING,
  SETTINGS_DIALECT,
  type SettingSchema,
  type SettingsSchema,
} from '@passerelle/settings';

/** A NATS URL as every process's `servers` setting takes it. */
export const NATS_URL_SETTING: SettingSchema = {
  description: 'NATS server URL.',
  type: 'string',
  pattern: '^(nats|tls|wss?)://\\S+$',
};

/** The settings every service process shares (file key, `PASSERELLE_*` variable, default). */
const HOST_PROPERTIES = {
  participants: {
    description:
      'The hosted participant ids, all of the service kind (comma-separated in the variable; in the file a list or one id).',
    type: 'array',
    items: { type: 'string', pattern: PARTICIPANT_ID_PATTERN.source },
    minItems: 1,
    'x-env': 'PASSERELLE_PARTICIPANTS',
    'x-expects': 'one or more participant ids',
  },
  keysDir: {
    description:
      'Folder of one key folder per hosted id: `<keysDir>/<id>/private.json` and the storage keyring `<keysDir>/<id>/storage.json`.',
    type: 'string',
    minLength: 1,
    'x-env': 'PASSERELLE_KEYS_DIR',
  },
  anchor: {
    description: "The trust anchor's public key file.",
    type: 'string',
    minLength: 1,
    'x-env': 'PASSERELLE_ANCHOR',
  },
  servers: {
    description: 'NATS server URLs (comma-separated in the variable; in the file a list or one URL).',
    type: 'array',
    items: NATS_URL_SETTING,
    minItems: 1,
    default: ['nats://127.0.0.1:4222'],
    'x-env': 'PASSERELLE_NATS_URL',
    'x-expects': 'one or more nats://, tls:// or ws(s):// URLs',
  },
  directoryFile: {
    description: 'An offline directory export instead of the live `directory` bucket.',
    type: 'string',
    minLength: 1,
    'x-env': 'PASSERELLE_DIRECTORY_FILE',
    'x-default': 'live `directory` bucket',
  },
  directoryState: {
    description:
      'The directory entries this host has accepted (written 0600): after a restart an older entry put back in the bucket is refused (`ERR_DIRECTORY_ROLLBACK`, logged). One file per process.',
    type: 'string',
    minLength: 1,
    'x-env': 'PASSERELLE_DIRECTORY_STATE',
    'x-default': '`<keysDir>/directory-state.<service>.json`',
  },
  contractsRoot: {
    description: 'Folder holding `contracts/` and `schemas/`.',
    type: 'string',
    minLength: 1,
    'x-env': 'PASSERELLE_CONTRACTS_ROOT',
    'x-default': 'the repository',
  },
  credentialsDir: {
    description:
      'Secured server: folder of credentials files, `<dir>/<id>.json` per hosted id (the `loadCredentials` format); streams and buckets are then only opened (`provision: false`).',
    type: 'string',
    minLength: 1,
    'x-env': 'PASSERELLE_CREDENTIALS_DIR',
    'x-default': 'none: the service creates what is missing',
  },
  legacyState: {
    description:
      'Read records an earlier release sealed under the signing key (LEGACY, logged); `false` once `passerelle storage reseal` has sealed them again.',
    type: 'boolean',
    default: true,
    'x-env': 'PASSERELLE_LEGACY_STATE',
  },
  dossierKeys: {
    description:
      "Seal payloads and decision documents under each dossier's own key, so that `passerelle dossier erase` works.",
    type: 'boolean',
    default: false,
    'x-env': 'PASSERELLE_DOSSIER_KEYS',
  },
  officerWeb: {
    description:
      "Serve the case officers' page (packages/officer-web): `{ port, accountsFile, host, secureCookies }`.",
    type: 'object',
    properties: {
      port: { description: 'Listening port.', type: 'integer', minimum: 0, maximum: 65535 },
      accountsFile: { description: 'The officer accounts file.', type: 'string', minLength: 1 },
      host: { description: 'Listening address.', type: 'string', minLength: 1, default: '127.0.0.1' },
      secureCookies: { description: 'Mark the session cookie `Secure`.', type: 'boolean', default: true },
    },
    required: ['port', 'accountsFile'],
    additionalProperties: false,
    'x-default': 'not served',
  },
  backOffice: {
    description:
      "Serve the back office (HTTP API): `{ port, host, publicUrl, secretFile, adminClientFile }`; the door secret defaults to `<keysDir>/backoffice-<service>.secret`, `adminClientFile` receives the first admin client's credentials (0600).",
    type: 'object',
    properties: {
      port: { description: 'Listening port.', type: 'integer', minimum: 0, maximum: 65535 },
      host: { description: 'Listening address.', type: 'string', minLength: 1, default: '127.0.0.1' },
      publicUrl: {
        description: 'The public base URL (default `http://<host>:<port>`).',
        type: 'string',
        minLength: 1,
      },
      secretFile: { description: "The door's secret file.", type: 'string', minLength: 1 },
      adminClientFile: {
        description: "Where the first admin client's credentials are written.",
        type: 'string',
        minLength: 1,
      },
    },
    additionalProperties: false,
    'x-default': 'not served',
  },
  backOfficePort: {
    description:
      'The back office port; wins over `backOffice.port`, and alone serves the back office with its defaults.',
    type: 'integer',
    minimum: 0,
    maximum: 65535,
    'x-env': 'PASSERELLE_BACK_OFFICE_PORT',
    'x-default': '`backOffice.port`',
  },
  metricsPort: {
    description:
      'Serve Prometheus `/metrics` and the probes `/healthz`, `/readyz` on this loopback port (0: a free port, logged).',
    type: 'integer',
    minimum: 0,
    maximum: 65535,
    'x-env': 'PASSERELLE_METRICS_PORT',
    'x-default': 'not served',
  },
  logLevel: LOG_LEVEL_SETTING,
  bucket: {
    description: 'The dossier state bucket.',
    type: 'string',
    minLength: 1,
    'x-default': '`svc-<service>`',
  },
  scanIntervalMs: {
    description: 'How often deadlines are scanned, in milliseconds (0: never).',
    type: 'integer',
    minimum: 0,
    default: 60_000,
  },
} as const satisfies Record<string, SettingSchema>;

/**
 * The settings every service process reads: from the JSON file named by `PASSERELLE_CONFIG`, each
 * overridden by its `PASSERELLE_*` variable. A service adds its own with {@link serviceSettingsSchema}.
 */
export const SERVICE_HOST_SETTINGS_SCHEMA: SettingsSchema = {
  $schema: SETTINGS_DIALECT,
  $id: 'https://passerelle.invalid/settings/service-host.json',
  title: 'service host',
  description: "The settings every administration's service process shares.",
  type: 'object',
  properties: HOST_PROPERTIES,
  required: ['participants', 'keysDir', 'anchor'],
  additionalProperties: false,
};

/** The `policy` setting of a service that has an automatic policy. */
export const POLICY_SETTING: SettingSchema = {
  description:
    "`automatic`: the service's automatic policy takes the actions a case officer otherwise would (logged as a warning at start-up).",
  type: 'string',
  enum: ['automatic'],
  'x-default': 'none: a case officer decides',
};

/**
 * A service process's settings schema: the host's settings and the service's own (file keys, or
 * variables with `x-env`), in one schema that refuses any other key.
 *
 * @example
 * ```ts
 * export const COMMUNE_SETTINGS_SCHEMA = serviceSettingsSchema('commune', {
 *   registerBucket: { description: 'The register bucket.', type: 'string', minLength: 1 },
 * });
 * ```
 */
export function serviceSettingsSchema(
  service: string,
  own: Readonly<Record<string, SettingSchema>>,
): SettingsSchema {
  return {
    ...SERVICE_HOST_SETTINGS_SCHEMA,
    $id: `https://passerelle.invalid/settings/${service}.json`,
    title: service,
    description: `The settings of the ${service} service process.`,
    properties: { ...HOST_PROPERTIES, ...own },
  };
}

/** Whether `key` is one of the host's settings rather than a service's own. */
export function isHostSetting(key: string): boolean {
  return Object.hasOwn(HOST_PROPERTIES, key);
}
