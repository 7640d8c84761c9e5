import {
  LOG_LEVEL_SETTING,
  PATH_SETTING as FILE,
  PORT_SETTING as PORT,
  SETTINGS_DIALECT,
  type SettingsSchema,
} from '@passerelle/settings';

/** The viewer token's form: 16 to 512 printable characters without spaces. */
export const VIEWER_TOKEN_PATTERN = '^[\\x21-\\x7e]{16,512}$';

/** The auditor process's settings, all from `PASSERELLE_*` environment variables. */
export const AUDITOR_SETTINGS_SCHEMA: SettingsSchema = {
  $schema: SETTINGS_DIALECT,
  $id: 'https://passerelle.invalid/settings/auditor.json',
  title: 'auditor',
  description: 'The settings of the auditor process (ledger writer and viewer).',
  type: 'object',
  properties: {
    servers: {
      description: 'NATS server URLs, comma-separated.',
      type: 'array',
      items: { type: 'string', pattern: '^(nats|tls|wss?)://\\S+$' },
      minItems: 1,
      default: ['nats://127.0.0.1:4222'],
      'x-env': 'PASSERELLE_NATS_URL',
      'x-expects': 'one or more nats://, tls:// or ws(s):// URLs, comma-separated',
    },
    keyFile: {
      ...FILE,
      description:
        "The auditor's private **signing** JWK file, mode 0600 (a file holding encryption keys is refused; `passerelle keys signing <key folder> --out <file>` writes it).",
      'x-env': 'PASSERELLE_AUDITOR_KEY',
    },
    anchor: { ...FILE, description: "The trust anchor's public key file.", 'x-env': 'PASSERELLE_ANCHOR' },
    directoryFile: {
      ...FILE,
      description: 'An offline directory export instead of the live `directory` bucket.',
      'x-env': 'PASSERELLE_DIRECTORY_FILE',
      'x-default': 'live bucket',
    },
    directoryState: {
      ...FILE,
      description:
        'The directory entries this host has accepted (written 0600, atomically): a restart refuses an older entry put back in the bucket (`ERR_DIRECTORY_ROLLBACK`, logged).',
      'x-env': 'PASSERELLE_DIRECTORY_STATE',
      'x-default': '`directory-state.auditor.json` beside the key file',
    },
    token: {
      description: 'The viewer token (16–512 printable characters without spaces); or `tokenFile`.',
      type: 'string',
      pattern: VIEWER_TOKEN_PATTERN,
      'x-env': 'PASSERELLE_AUDITOR_TOKEN',
      'x-expects': 'a token of 16 to 512 printable characters without spaces',
    },
    tokenFile: {
      ...FILE,
      description: 'A file whose first line is the viewer token, when `token` is not set.',
      'x-env': 'PASSERELLE_AUDITOR_TOKEN_FILE',
    },
    viewerHost: {
      description: "The viewer's address.",
      type: 'string',
      minLength: 1,
      default: '127.0.0.1',
      'x-env': 'PASSERELLE_VIEWER_HOST',
    },
    viewerPort: {
      ...PORT,
      description: "The viewer's port.",
      default: 8090,
      'x-env': 'PASSERELLE_VIEWER_PORT',
    },
    viewerTlsCert: {
      ...FILE,
      description:
        "The viewer's certificate (chain), PEM, to serve HTTPS, with `viewerTlsKey`: the certificate valid now.",
      'x-env': 'PASSERELLE_VIEWER_TLS_CERT',
      'x-default': 'HTTP',
    },
    viewerTlsKey: {
      ...FILE,
      description:
        "The viewer's private key, PEM, with `viewerTlsCert`: readable by its owner only, and the certificate's own.",
      'x-env': 'PASSERELLE_VIEWER_TLS_KEY',
      'x-default': 'HTTP',
    },
    checkpointEvery: {
      description: 'Entries per checkpoint.',
      type: 'integer',
      minimum: 1,
      maximum: 1_000_000,
      default: 1000,
      'x-env': 'PASSERELLE_CHECKPOINT_EVERY',
    },
    checkpointSeconds: {
      description: 'Checkpoint interval while entries wait (0: by count only).',
      type: 'integer',
      minimum: 0,
      maximum: 86_400,
      default: 60,
      'x-env': 'PASSERELLE_CHECKPOINT_SECONDS',
    },
    exportFile: {
      ...FILE,
      description: 'A ledger export the viewer verifies at `/export`.',
      'x-env': 'PASSERELLE_EXPORT_FILE',
    },
    tsaUrl: {
      description: 'The RFC 3161 time-stamping authority that timestamps checkpoints (with `tsaTrust`).',
      type: 'string',
      pattern: '^https?://\\S+$',
      'x-env': 'PASSERELLE_TSA_URL',
      'x-expects': 'an http(s) URL',
      'x-default': 'no timestamps',
    },
    tsaTrust: {
      ...FILE,
      description: "A PEM file of the roots the TSA's certificate must chain to.",
      'x-env': 'PASSERELLE_TSA_TRUST',
    },
    timestampSeconds: {
      description: 'Batch window of timestamp requests.',
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 10,
      'x-env': 'PASSERELLE_TIMESTAMP_SECONDS',
    },
    metricsPort: {
      ...PORT,
      description: 'Prometheus `/metrics`, `/healthz`, `/readyz` on this loopback port.',
      'x-env': 'PASSERELLE_METRICS_PORT',
      'x-default': 'not served',
    },
    archiveDir: {
      ...FILE,
      description: 'The folder the ledger rolls into.',
      'x-env': 'PASSERELLE_ARCHIVE_DIR',
      'x-default': 'no archive',
    },
    archiveSeconds: {
      description: 'How often the ledger is archived.',
      type: 'integer',
      minimum: 1,
      maximum: 7 * 86_400,
      default: 3600,
      'x-env': 'PASSERELLE_ARCHIVE_SECONDS',
    },
    archiveSegmentEntries: {
      description: 'Entries per archive segment at most.',
      type: 'integer',
      minimum: 1,
      maximum: 100_000_000,
      default: 100_000,
      'x-env': 'PASSERELLE_ARCHIVE_SEGMENT_ENTRIES',
    },
    archiveTrim: {
      description: "`retention` (LEDGER's own limit drops archived entries) or `purge` (after each segment).",
      type: 'string',
      enum: ['retention', 'purge'],
      default: 'retention',
      'x-env': 'PASSERELLE_ARCHIVE_TRIM',
    },
    ledgerMaxAgeDays: {
      description:
        'With an archive, the age limit in days the auditor gives LEDGER, never short of an entry not archived yet.',
      type: 'integer',
      minimum: 1,
      maximum: 36_500,
      'x-env': 'PASSERELLE_LEDGER_MAX_AGE_DAYS',
      'x-default': "LEDGER's limits left as the operator set them",
    },
    logLevel: LOG_LEVEL_SETTING,
  },
  required: ['keyFile', 'anchor'],
  dependentRequired: {
    ledgerMaxAgeDays: ['archiveDir'],
    tsaUrl: ['tsaTrust'],
    viewerTlsCert: ['viewerTlsKey'],
    viewerTlsKey: ['viewerTlsCert'],
  },
  anyOf: [{ required: ['token'] }, { required: ['tokenFile'] }],
  additionalProperties: false,
};
