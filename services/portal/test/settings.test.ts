import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readPortalSettings } from '../src/index.js';

describe('portal settings', () => {
  test('settings - defaults apply, and the ones computed from other settings follow them', () => {
    const home = resolve('.passerelle');
    expect(readPortalSettings({})).toEqual({
      home,
      participant: 'portal-employers',
      doorSecretFile: join(home, 'keys', 'portal-employers', 'door.secret'),
      publicUrl: 'http://127.0.0.1:8080',
      directoryState: join(home, 'directory-state.portal-employers.json'),
      legacyState: true,
      dossierKeys: false,
      host: '127.0.0.1',
      port: 8080,
      logLevel: 'info',
    });
    expect(
      readPortalSettings({
        PASSERELLE_HOME: '/srv/pex',
        PORTAL_PARTICIPANT: 'portal-schools',
        PORTAL_HOST: '0.0.0.0',
        PORTAL_PORT: '0',
        PASSERELLE_LEGACY_STATE: 'false',
        PASSERELLE_METRICS_PORT: '9464',
        PASSERELLE_NATS_URL: 'tls://nats.example:4222',
      }),
    ).toMatchObject({
      home: '/srv/pex',
      doorSecretFile: '/srv/pex/keys/portal-schools/door.secret',
      publicUrl: 'http://0.0.0.0:0',
      legacyState: false,
      port: 0,
      metricsPort: 9464,
      natsUrl: 'tls://nats.example:4222',
    });
  });

  test.each([
    ['PORTAL_PORT', 'http', '/port', 'must be an integer from 0 to 65535'],
    ['PORTAL_PORT', '65536', '/port', 'must be an integer from 0 to 65535'],
    ['PASSERELLE_LEGACY_STATE', 'maybe', '/legacyState', 'must be true or false'],
    ['PASSERELLE_METRICS_PORT', '-1', '/metricsPort', 'must be an integer from 0 to 65535'],
    ['PORTAL_PARTICIPANT', 'commune-21004', '/participant', 'must be a portal participant id'],
    ['PORTAL_PUBLIC_URL', 'portal.example', '/publicUrl', 'must be an http(s) URL'],
    ['PASSERELLE_NATS_URL', 'localhost:4222', '/natsUrl', 'must be a nats://'],
    ['PASSERELLE_LOG_LEVEL', 'verbose', '/logLevel', 'must be one of "fatal"'],
  ])('settings - %s=%s is refused by pointer and variable', (variable, value, pointer, words) => {
    expect(() => readPortalSettings({ [variable]: value })).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message: expect.stringContaining(`portal setting ${pointer} (${variable}) ${words}`),
        details: { pointer, setting: variable },
      }),
    );
  });
});
