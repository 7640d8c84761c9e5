import {
  LOG_LEVEL_SETTING,
  PATH_SETTING,
  PORT_SETTING,
  SETTINGS_DIALECT,
  type SettingsSchema,
} from '@passerelle/settings';

/** The settings of `pnpm start` (the local launcher), all from environment variables. */
export const LAUNCHER_SETTINGS_SCHEMA: SettingsSchema = {
  $schema: SETTINGS_DIALECT,
  $id: 'https://passerelle.invalid/settings/pnpm-start.json',
  title: 'pnpm start',
  description: 'The settings of the local launcher, `pnpm start`.',
  type: 'object',
  properties: {
    home: {
      ...PATH_SETTING,
      description: 'The state folder: NATS data, keys, `server.json`, tokens and client credentials.',
      default: '.passerelle',
      'x-env': 'PASSERELLE_HOME',
    },
    port: {
      ...PORT_SETTING,
      description:
        "nats-server's client port (0 picks a free one, and free ones for the portal and the viewer).",
      default: 4222,
      'x-env': 'PASSERELLE_PORT',
    },
    portalPort: {
      ...PORT_SETTING,
      description: "The portal's HTTP port.",
      'x-env': 'PASSERELLE_PORTAL_PORT',
      'x-default': '`8080`, or a free one when `port` is 0',
    },
    auditorPort: {
      ...PORT_SETTING,
      description: "The ledger viewer's port.",
      'x-env': 'PASSERELLE_AUDITOR_PORT',
      'x-default': '`8090`, or a free one when `port` is 0',
    },
    checkpointEvery: {
      description: "The auditor's entries per checkpoint.",
      type: 'integer',
      minimum: 1,
      maximum: 1_000_000,
      default: 100,
      'x-env': 'PASSERELLE_CHECKPOINT_EVERY',
    },
    checkpointSeconds: {
      description:
        "The auditor's checkpoint interval while entries wait (0: by count only); short, so the demo's messages are soon under a signed checkpoint.",
      type: 'integer',
      minimum: 0,
      maximum: 86_400,
      default: 10,
      'x-env': 'PASSERELLE_CHECKPOINT_SECONDS',
    },
    logLevel: {
      ...LOG_LEVEL_SETTING,
      description: "The services' log level (the demo prints rejections itself).",
      default: 'error',
    },
  },
  additionalProperties: false,
};
