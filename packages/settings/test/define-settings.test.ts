import { describe, expect, test } from 'vitest';
import { SETTINGS_DIALECT, type SettingsSchema, defineSettings, replaceSettingsTable } from '../src/index.js';
import { renderSettingsTable } from '../src/internal.js';

const SCHEMA: SettingsSchema = {
  $schema: SETTINGS_DIALECT,
  $id: 'https://passerelle.invalid/settings/example.json',
  title: 'example',
  description: 'A process of the tests.',
  type: 'object',
  properties: {
    servers: {
      description: 'NATS URLs.',
      type: 'array',
      items: { type: 'string', pattern: '^nats://\\S+$' },
      minItems: 1,
      default: ['nats://127.0.0.1:4222'],
      'x-env': 'EX_NATS_URL',
      'x-expects': 'one or more nats:// URLs',
    },
    port: {
      description: 'A port.',
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      default: 8090,
      'x-env': 'EX_PORT',
    },
    trim: {
      description: 'Trim.',
      type: 'string',
      enum: ['retention', 'purge'],
      default: 'retention',
      'x-env': 'EX_TRIM',
    },
    secret: {
      description: 'A secret.',
      type: 'string',
      pattern: '^[\\x21-\\x7e]{16,}$',
      'x-env': 'EX_SECRET',
      'x-expects': '16 printable characters or more',
    },
    secretFile: {
      description: 'The secret, in a file.',
      type: 'string',
      minLength: 1,
      'x-env': 'EX_SECRET_FILE',
    },
    tsaUrl: { description: 'A TSA.', type: 'string', minLength: 1, 'x-env': 'EX_TSA_URL' },
    tsaTrust: { description: 'Its roots.', type: 'string', minLength: 1, 'x-env': 'EX_TSA_TRUST' },
    legacy: { description: 'Legacy.', type: 'boolean', default: true, 'x-env': 'EX_LEGACY' },
    limits: {
      description: 'Delays.',
      type: 'object',
      properties: { reviewAfter: { description: 'Review after.', type: 'integer', minimum: 0 } },
      additionalProperties: false,
    },
  },
  dependentRequired: { tsaUrl: ['tsaTrust'] },
  anyOf: [{ required: ['secret'] }, { required: ['secretFile'] }],
  additionalProperties: false,
};

const example = defineSettings<Record<string, unknown>>('example', SCHEMA);
const SECRET = 'abcdefghijklmnopqrstuvwxyz';

/** Sources with the required secret set, beside `env` and an optional settings file. */
const withSecret = (env: Record<string, string>, file?: Record<string, unknown>) => ({
  env: { EX_SECRET: SECRET, ...env },
  ...(file ? { file } : {}),
});

function refusal(sources: Parameters<typeof example.read>[0]): unknown {
  try {
    example.read(sources);
  } catch (err) {
    return err;
  }
  throw new Error('accepted');
}

describe('settings', () => {
  test('settings - defaults apply, the environment is parsed by type and wins over the file', () => {
    expect(example.read({ env: { EX_SECRET: SECRET } })).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      port: 8090,
      trim: 'retention',
      legacy: true,
      secret: SECRET,
    });
    const s = example.read({
      env: {
        EX_SECRET: SECRET,
        EX_NATS_URL: 'nats://a:1, nats://b:2',
        EX_PORT: '0',
        EX_LEGACY: 'false',
        EX_TRIM: '',
      },
      file: { port: 9000, trim: 'purge', servers: 'nats://file:4222', limits: { reviewAfter: 2 } },
    });
    expect(s).toMatchObject({
      servers: ['nats://a:1', 'nats://b:2'],
      port: 0,
      legacy: false,
      trim: 'purge',
      limits: { reviewAfter: 2 },
    });
  });

  test('settings - a bad value is refused with its JSON pointer and variable, in words, never its value', () => {
    const cases: [Parameters<typeof example.read>[0], string, string, string][] = [
      [withSecret({ EX_PORT: '70000' }), '/port', 'EX_PORT', 'must be an integer from 0 to 65535'],
      [withSecret({ EX_PORT: 'eighty' }), '/port', 'EX_PORT', 'must be an integer from 0 to 65535'],
      [withSecret({ EX_TRIM: 'sometimes' }), '/trim', 'EX_TRIM', 'must be one of "retention", "purge"'],
      [
        withSecret({ EX_NATS_URL: 'http://x' }),
        '/servers/0',
        'EX_NATS_URL',
        'must be one or more nats:// URLs',
      ],
      [withSecret({ EX_LEGACY: 'yes' }), '/legacy', 'EX_LEGACY', 'must be true or false'],
      [
        { env: { EX_SECRET: 'short secret' } },
        '/secret',
        'EX_SECRET',
        'must be 16 printable characters or more',
      ],
      [
        withSecret({ EX_TSA_URL: 'http://tsa' }),
        '/tsaTrust',
        'EX_TSA_TRUST',
        'is required with /tsaUrl (EX_TSA_URL)',
      ],
      [{ env: {} }, '/secret', 'EX_SECRET', 'or /secretFile (EX_SECRET_FILE) is required'],
      [
        withSecret({}, { limits: { reviewAfter: -1 } }),
        '/limits/reviewAfter',
        'limits.reviewAfter',
        'must be an integer of 0 or more',
      ],
      [withSecret({}, { prot: 8080 }), '/prot', 'prot', 'is not a setting of example'],
      [withSecret({}, { port: '8080' }), '/port', 'port', 'must be an integer from 0 to 65535'],
    ];
    for (const [sources, pointer, setting, words] of cases) {
      const err = refusal(sources) as { code: string; message: string; details: Record<string, unknown> };
      expect(err.code).toBe('ERR_CONFIG_INVALID');
      expect(err.details).toEqual({ pointer, setting });
      expect(err.message).toContain(`example setting ${pointer}`);
      expect(err.message).toContain(words);
      expect(err.message).not.toContain('short secret');
      expect(err.message).not.toMatch(/must match pattern|must NOT have|must have required/);
    }
  });

  test('settings - the table lists every setting with its variable, default and meaning, between the markers', () => {
    const table = renderSettingsTable(SCHEMA);
    expect(table).toContain('| `port` | `EX_PORT` | `8090` | A port. |');
    expect(table).toContain('| `limits.reviewAfter` |  | — | Review after. |');
    const readme = 'intro\n<!-- settings:begin example -->\nold\n<!-- settings:end example -->\nafter\n';
    expect(replaceSettingsTable(readme, SCHEMA, 'README.md')).toBe(
      `intro\n<!-- settings:begin example -->\n${table}\n<!-- settings:end example -->\nafter\n`,
    );
    expect(() => replaceSettingsTable('no markers', SCHEMA, 'README.md')).toThrow(/markers/);
  });
});
