import {
  LOG_LEVEL_SETTING,
  PATH_SETTING,
  PORT_SETTING,
  SETTINGS_DIALECT,
  type SettingsSchema,
} from '@passerelle/settings';

/** The portal process's settings, all from environment variables. */
export const PORTAL_SETTINGS_SCHEMA: SettingsSchema = {
  $schema: SETTINGS_DIALECT,
  $id: 'https://passerelle.invalid/settings/portal.json',
  title: 'portal',
  description: "The settings of the employers' portal process.",
  type: 'object',
  properties: {
    home: {
      ...PATH_SETTING,
      description: 'Holds `server.json` (from `pnpm start`) and `keys/`.',
      default: '.passerelle',
      'x-env': 'PASSERELLE_HOME',
    },
    natsUrl: {
      description: 'NATS server URL.',
      type: 'string',
      pattern: '^(nats|tls|wss?)://\\S+$',
      'x-env': 'PASSERELLE_NATS_URL',
      'x-expects': 'a nats://, tls:// or ws(s):// URL',
      'x-default': 'from `server.json`',
    },
    participant: {
      description:
        'Participant id; private keys in `keys/<id>/private.json`, storage keyring in `keys/<id>/storage.json`, trust anchor in `keys/anchor.public.json`.',
      type: 'string',
      pattern: '^portal-[a-z0-9][a-z0-9-]{0,30}$',
      default: 'portal-employers',
      'x-env': 'PORTAL_PARTICIPANT',
      'x-expects': 'a portal participant id (portal-…)',
    },
    doorSecretFile: {
      ...PATH_SETTING,
      description:
        "The integrators' door's secret: base64url of at least 32 random bytes (`openssl rand 32 | basenc --base64url`), kept outside NATS: clients' and tokens' hashes, sealed records and cursors derive from it.",
      'x-env': 'PORTAL_DOOR_SECRET_FILE',
      'x-default': '`<home>/keys/<id>/door.secret`',
    },
    publicUrl: {
      description: 'Where integrators reach the portal: links, the token URL, the OpenAPI server.',
      type: 'string',
      pattern: '^https?://\\S+$',
      'x-env': 'PORTAL_PUBLIC_URL',
      'x-expects': 'an http(s) URL',
      'x-default': '`http://<host>:<port>`',
    },
    adminClientFile: {
      ...PATH_SETTING,
      description:
        "If set, the credentials of the door's first admin client, `portal-admin`, written there (0600) when the file does not hold working ones.",
      'x-env': 'PORTAL_ADMIN_CLIENT_FILE',
      'x-default': 'not set',
    },
    directoryState: {
      ...PATH_SETTING,
      description:
        'The directory entries this portal has accepted (0600): after a restart an older one put back in the bucket is refused (`ERR_DIRECTORY_ROLLBACK`, logged).',
      'x-env': 'PASSERELLE_DIRECTORY_STATE',
      'x-default': '`<home>/directory-state.<participant>.json`',
    },
    legacyState: {
      description:
        'Read records an earlier release sealed under the signing key (LEGACY, logged; `false` once `passerelle storage reseal` has sealed them again).',
      type: 'boolean',
      default: true,
      'x-env': 'PASSERELLE_LEGACY_STATE',
    },
    dossierKeys: {
      description: "Seal payloads under each dossier's own key, so that `passerelle dossier erase` works.",
      type: 'boolean',
      default: false,
      'x-env': 'PASSERELLE_DOSSIER_KEYS',
    },
    host: {
      description: 'Where it listens (put TLS in front of it beyond loopback).',
      type: 'string',
      minLength: 1,
      default: '127.0.0.1',
      'x-env': 'PORTAL_HOST',
    },
    port: { ...PORT_SETTING, description: 'The port it listens on.', default: 8080, 'x-env': 'PORTAL_PORT' },
    metricsPort: {
      ...PORT_SETTING,
      description:
        "The exchange runtime's Prometheus `/metrics` and the probes `/healthz`, `/readyz`, on loopback and apart from the integrators' API.",
      'x-env': 'PASSERELLE_METRICS_PORT',
      'x-default': 'not served',
    },
    logLevel: LOG_LEVEL_SETTING,
  },
  additionalProperties: false,
};
