import { PATH_SETTING, SETTINGS_DIALECT, type SettingsSchema } from '@passerelle/settings';

/** The CLI's settings from the environment (its options, `--server` and `--credentials`, win over them). */
export const CLI_SETTINGS_SCHEMA: SettingsSchema = {
  $schema: SETTINGS_DIALECT,
  $id: 'https://passerelle.invalid/settings/cli.json',
  title: 'passerelle CLI',
  description: 'The settings of the `passerelle` command line.',
  type: 'object',
  properties: {
    natsUrl: {
      description:
        'The NATS server to talk to without `--server` or credentials (it names the local exchange, not the one a credentials file is for).',
      type: 'string',
      pattern: '^(nats|tls|wss?)://\\S+$',
      'x-env': 'PASSERELLE_NATS_URL',
      'x-expects': 'a nats://, tls:// or ws(s):// URL',
      'x-default': 'the one `pnpm start` recorded in `<home>/server.json`, else `nats://127.0.0.1:4222`',
    },
    credentials: {
      ...PATH_SETTING,
      description:
        "A credentials file (nkey and mutual TLS) for a secured exchange, without `--credentials` (`pnpm start --secure` writes the operator's as `credentials/operator.json`).",
      'x-env': 'PASSERELLE_CREDENTIALS',
      'x-default': 'none',
    },
    home: {
      ...PATH_SETTING,
      description: "`pnpm start`'s state folder, where `server.json` names the local exchange.",
      default: '.passerelle',
      'x-env': 'PASSERELLE_HOME',
    },
  },
  additionalProperties: false,
};
