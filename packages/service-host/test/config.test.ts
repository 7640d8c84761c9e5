import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { generateStorageKeyring } from '@passerelle/directory';
import { POLICY_SETTING, policySetting, serviceSettingsSchema } from '../src/index.js';
import { assertHostedConfig, readServiceSettings } from '../src/internal.js';

const OFFICE_SCHEMA = serviceSettingsSchema('immigration-office', {
  feeAmountCents: { description: 'The fee.', type: 'integer', minimum: 1 },
  policy: POLICY_SETTING,
});

const base = {
  PASSERELLE_PARTICIPANTS: 'commune-21004,commune-11002',
  PASSERELLE_KEYS_DIR: '/keys',
  PASSERELLE_ANCHOR: '/anchor.json',
};

/** The settings of a commune service from `base` and `env` (a variable set to undefined is removed). */
const readCommune = (
  env: Record<string, string | undefined> = {},
  schema?: Parameters<typeof readServiceSettings>[3],
) => readServiceSettings('commune', 'commune', { ...base, ...env }, schema);

describe('service settings', () => {
  test('config - environment variables give the hosted ids, keys and anchor', async () => {
    const s = await readCommune();
    expect(s).toMatchObject({
      participants: ['commune-21004', 'commune-11002'],
      keysDir: '/keys',
      servers: ['nats://127.0.0.1:4222'],
      directoryState: '/keys/directory-state.commune.json',
    });
    const elsewhere = await readCommune({ PASSERELLE_DIRECTORY_STATE: '/var/lib/pex/directory-state.json' });
    expect(elsewhere.directoryState).toBe('/var/lib/pex/directory-state.json');
  });

  test('config - defaults apply: NATS, legacy records read, deadline scan, log level; no metrics, no bucket name', async () => {
    const s = await readCommune();
    expect(s).toEqual({
      participants: ['commune-21004', 'commune-11002'],
      keysDir: '/keys',
      anchor: '/anchor.json',
      servers: ['nats://127.0.0.1:4222'],
      directoryState: '/keys/directory-state.commune.json',
      legacyState: true,
      dossierKeys: false,
      scanIntervalMs: 60_000,
      logLevel: 'info',
      extra: {},
    });
  });

  test('config - legacyState, the metrics port and the log level come from their variables, parsed; bad ones are refused by pointer', async () => {
    const s = await readCommune({
      PASSERELLE_LEGACY_STATE: 'false',
      PASSERELLE_METRICS_PORT: '9464',
      PASSERELLE_LOG_LEVEL: 'warn',
    });
    expect(s).toMatchObject({ legacyState: false, metricsPort: 9464, logLevel: 'warn' });
    const cases: [Record<string, string>, string, string][] = [
      [{ PASSERELLE_LEGACY_STATE: 'no' }, '/legacyState', 'must be true or false'],
      [{ PASSERELLE_METRICS_PORT: 'http' }, '/metricsPort', 'must be an integer from 0 to 65535'],
      [{ PASSERELLE_METRICS_PORT: '70000' }, '/metricsPort', 'must be an integer from 0 to 65535'],
      [{ PASSERELLE_METRICS_PORT: '-1' }, '/metricsPort', 'must be an integer from 0 to 65535'],
      [{ PASSERELLE_LOG_LEVEL: 'loud' }, '/logLevel', 'must be one of "fatal"'],
      [{ PASSERELLE_NATS_URL: 'http://h:4222' }, '/servers/0', 'must be one or more nats://'],
    ];
    for (const [env, pointer, words] of cases) {
      const [name] = Object.keys(env);
      await expect(readCommune(env)).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        message: expect.stringMatching(new RegExp(`^commune setting ${pointer} \\(${name}\\) ${words}`)),
        details: { pointer, setting: name },
      });
    }
  });

  test('config - a JSON file holds the same settings and the service-specific ones; the environment wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-config-'));
    const file = join(dir, 'oe.json');
    writeFileSync(
      file,
      JSON.stringify({
        participants: ['immigration-office'],
        keysDir: '/k',
        anchor: '/a',
        feeAmountCents: 20000,
        servers: 'nats://h:4222',
      }),
    );
    const s = await readServiceSettings(
      'immigration-office',
      'immigration-office',
      { PASSERELLE_CONFIG: file, PASSERELLE_KEYS_DIR: '/env-keys' },
      OFFICE_SCHEMA,
    );
    expect(s).toMatchObject({
      participants: ['immigration-office'],
      keysDir: '/env-keys',
      servers: ['nats://h:4222'],
      extra: { feeAmountCents: 20000 },
    });
  });

  test('config - a file key the schema does not know, or of the wrong type, is refused by pointer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-config-'));
    const file = join(dir, 'commune.json');
    const refusal = async (values: unknown, schema = serviceSettingsSchema('commune', {})) => {
      writeFileSync(file, JSON.stringify(values));
      return readCommune({ PASSERELLE_CONFIG: file }, schema).then(
        () => undefined,
        (err: unknown) => err,
      );
    };
    await expect(refusal({ bucket: 'svc-commune-21004', registerBucket: 'r' })).resolves.toMatchObject({
      message: 'commune setting /registerBucket is not a setting of commune',
      details: { pointer: '/registerBucket', setting: 'registerBucket' },
    });
    await expect(refusal({ bucket: 42 })).resolves.toMatchObject({
      message: 'commune setting /bucket must be a non-empty string',
      details: { pointer: '/bucket' },
    });
    await expect(refusal({ scanIntervalMs: -5 })).resolves.toMatchObject({
      message: 'commune setting /scanIntervalMs must be an integer of 0 or more',
    });
    await expect(refusal({ legacyState: 'yes' })).resolves.toMatchObject({
      message: 'commune setting /legacyState (PASSERELLE_LEGACY_STATE) must be true or false',
      details: { pointer: '/legacyState', setting: 'legacyState' },
    });
    await expect(refusal([1, 2])).resolves.toMatchObject({ details: { setting: 'PASSERELLE_CONFIG' } });
  });

  test('config - a bad setting is ERR_CONFIG_INVALID naming it', async () => {
    await expect(readCommune({ PASSERELLE_PARTICIPANTS: 'commune-21004,post-lagos' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: 'commune setting /participants/1 (PASSERELLE_PARTICIPANTS) must be a commune id',
      details: { pointer: '/participants/1' },
    });
    await expect(readCommune({ PASSERELLE_KEYS_DIR: undefined })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: 'commune setting /keysDir (PASSERELLE_KEYS_DIR) is required',
      details: { pointer: '/keysDir', setting: 'PASSERELLE_KEYS_DIR' },
    });
    await expect(readCommune({ PASSERELLE_CONFIG: '/does/not/exist.json' })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('PASSERELLE_CONFIG'),
    });
  });

  test('config - the hosted ids must all be of the service kind, each once, with a server', () => {
    const keys = (participantId: string) => ({ participantId }) as never;
    const config = {
      participants: [keys('post-lagos'), keys('post-lagos')],
      storageKeys: [generateStorageKeyring('post-lagos')],
      directory: {} as never,
      contracts: {} as never,
      servers: 'x',
    };
    expect(() => assertHostedConfig('consular-post', 'consular-post', config)).toThrow(
      expect.objectContaining({ message: expect.stringContaining('participants[1]') }),
    );
    expect(() =>
      assertHostedConfig('commune', 'commune', { ...config, participants: [keys('post-lagos')] }),
    ).toThrow(expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }));
    expect(() =>
      assertHostedConfig('consular-post', 'consular-post', {
        ...config,
        participants: [keys('post-lagos')],
        servers: undefined,
      }),
    ).toThrow(expect.objectContaining({ message: expect.stringContaining('servers') }));
    // every hosted id needs its storage keyring
    expect(() =>
      assertHostedConfig('consular-post', 'consular-post', {
        ...config,
        participants: [keys('post-lagos'), keys('post-ankara')],
      }),
    ).toThrow(expect.objectContaining({ message: expect.stringContaining('storageKeys') }));
  });
  test('config - no automatic decision unless the file says "policy": "automatic"; anything else names the setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-config-'));
    const file = join(dir, 'office.json');
    const read = (policy: unknown) => {
      writeFileSync(file, JSON.stringify({ policy }));
      return readServiceSettings<{ policy?: 'automatic' }>(
        'immigration-office',
        'immigration-office',
        {
          PASSERELLE_PARTICIPANTS: 'immigration-office',
          PASSERELLE_KEYS_DIR: '/k',
          PASSERELLE_ANCHOR: '/a',
          PASSERELLE_CONFIG: file,
        },
        OFFICE_SCHEMA,
      );
    };
    const automatic = { 'decide-residence': () => ({}) };
    expect(policySetting(await read(undefined), automatic)).toEqual({});
    expect(policySetting(await read('automatic'), automatic)).toEqual({ policy: automatic });
    for (const bad of ['grant-all', true, { 'decide-residence': true }]) {
      await expect(read(bad)).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        message: 'immigration-office setting /policy must be one of "automatic"',
        details: { pointer: '/policy', setting: 'policy' },
      });
    }
  });
});
