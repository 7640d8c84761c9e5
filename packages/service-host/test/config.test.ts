import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { generateStorageKeyring } from '@passerelle/directory';
import {
  assertHostedConfig,
  legacyStateSetting,
  metricsPortSetting,
  policySetting,
  readServiceSettings,
  textSetting,
} from '../src/index.js';

const base = {
  PASSERELLE_PARTICIPANTS: 'commune-21004,commune-11002',
  PASSERELLE_KEYS_DIR: '/keys',
  PASSERELLE_ANCHOR: '/anchor.json',
};

describe('service settings', () => {
  test('config - environment variables give the hosted ids, keys and anchor', async () => {
    const s = await readServiceSettings('commune', 'commune', base);
    expect(s).toMatchObject({
      participants: ['commune-21004', 'commune-11002'],
      keysDir: '/keys',
      servers: ['nats://127.0.0.1:4222'],
      directoryState: '/keys/directory-state.commune.json',
    });
    const elsewhere = await readServiceSettings('commune', 'commune', {
      ...base,
      PASSERELLE_DIRECTORY_STATE: '/var/lib/pex/directory-state.json',
    });
    expect(elsewhere.directoryState).toBe('/var/lib/pex/directory-state.json');
  });

  test('config - legacyState is true, false or absent; anything else is refused naming it', async () => {
    const s = await readServiceSettings('commune', 'commune', base);
    expect(legacyStateSetting('commune', s, {})).toBeUndefined();
    expect(legacyStateSetting('commune', s, { PASSERELLE_LEGACY_STATE: 'false' })).toBe(false);
    expect(legacyStateSetting('commune', { ...s, extra: { legacyState: true } }, {})).toBe(true);
    expect(() => legacyStateSetting('commune', s, { PASSERELLE_LEGACY_STATE: 'no' })).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message: expect.stringContaining('legacyState'),
      }),
    );
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
    const s = await readServiceSettings('immigration-office', 'immigration-office', {
      PASSERELLE_CONFIG: file,
      PASSERELLE_KEYS_DIR: '/env-keys',
    });
    expect(s).toMatchObject({
      participants: ['immigration-office'],
      keysDir: '/env-keys',
      servers: ['nats://h:4222'],
      extra: { feeAmountCents: 20000 },
    });
  });

  test('config - a text setting of the file (a bucket name) is read, and one that is not text is refused naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-config-'));
    const file = join(dir, 'commune.json');
    writeFileSync(file, JSON.stringify({ bucket: 'svc-commune-21004', registerBucket: 42 }));
    const s = await readServiceSettings('commune', 'commune', { ...base, PASSERELLE_CONFIG: file });
    expect(textSetting('commune', s, 'bucket')).toBe('svc-commune-21004');
    expect(textSetting('commune', s, 'absent')).toBeUndefined();
    expect(() => textSetting('commune', s, 'registerBucket')).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message: expect.stringContaining('registerBucket'),
      }),
    );
  });

  test('config - the metrics port comes from PASSERELLE_METRICS_PORT or the file; none means not served', async () => {
    const s = await readServiceSettings('commune', 'commune', base);
    expect(metricsPortSetting('commune', s, {})).toBeUndefined();
    expect(metricsPortSetting('commune', s, { PASSERELLE_METRICS_PORT: '9464' })).toBe(9464);
    expect(metricsPortSetting('commune', { ...s, extra: { metricsPort: 0 } }, {})).toBe(0);
    for (const bad of ['http', '70000', '-1']) {
      expect(() => metricsPortSetting('commune', s, { PASSERELLE_METRICS_PORT: bad })).toThrow(
        expect.objectContaining({
          code: 'ERR_CONFIG_INVALID',
          message: expect.stringContaining('metricsPort'),
        }),
      );
    }
  });

  test('config - a bad setting is ERR_CONFIG_INVALID naming it', async () => {
    await expect(
      readServiceSettings('commune', 'commune', {
        ...base,
        PASSERELLE_PARTICIPANTS: 'commune-21004,post-lagos',
      }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('participants'),
    });
    await expect(
      readServiceSettings('commune', 'commune', { ...base, PASSERELLE_KEYS_DIR: undefined }),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('keysDir'),
    });
    await expect(
      readServiceSettings('commune', 'commune', { ...base, PASSERELLE_CONFIG: '/does/not/exist.json' }),
    ).rejects.toMatchObject({
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
    const s = await readServiceSettings('commune', 'commune', base);
    const automatic = { 'issue-permit': () => ({}) };
    expect(policySetting('commune', s, automatic)).toEqual({});
    expect(policySetting('commune', { ...s, extra: { policy: 'automatic' } }, automatic)).toEqual({
      policy: automatic,
    });
    for (const bad of ['grant-all', true, { 'issue-permit': true }]) {
      expect(() => policySetting('commune', { ...s, extra: { policy: bad } }, automatic)).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID', details: { setting: 'policy' } }),
      );
    }
  });
});
