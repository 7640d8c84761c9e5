import { describe, expect, test } from 'vitest';
import { type PasserelleError } from '@passerelle/errors';
import { assertPortalConfig } from '../src/index.js';
import type { PortalConfig } from '../src/index.js';

describe('portal configuration', () => {
  const base = {
    participant: 'portal-wib',
    keys: { participantId: 'portal-wib' },
    storageKeys: { participantId: 'portal-wib' },
    directory: {},
    contracts: {},
    servers: 'nats://127.0.0.1:4222',
    door: { secret: new Uint8Array(32).fill(7), publicUrl: 'https://portal.example.be' },
  } as unknown as PortalConfig;

  test('config - a valid configuration passes', () => {
    expect(() => assertPortalConfig(base)).not.toThrow();
  });

  test('config - each bad setting is ERR_CONFIG_INVALID naming the setting', () => {
    const cases: [Partial<PortalConfig>, string][] = [
      [{ participant: 'region-wallonie' }, 'participant'],
      [{ door: undefined }, 'door'],
      [{ door: { ...base.door, secret: new Uint8Array(16) } }, 'door.secret'],
      [{ door: { ...base.door, publicUrl: 'portal.example.be' } }, 'door.publicUrl'],
      [{ maxDocumentBytes: 60 * 1024 * 1024 }, 'maxDocumentBytes'],
      [{ storageKeys: { participantId: 'portal-other' } as PortalConfig['storageKeys'] }, 'storageKeys'],
    ];
    for (const [change, setting] of cases) {
      try {
        assertPortalConfig({ ...base, ...change });
        expect.fail(`accepted a bad ${setting}`);
      } catch (err) {
        expect((err as PasserelleError).code).toBe('ERR_CONFIG_INVALID');
        expect((err as PasserelleError).details?.['setting']).toBe(setting);
      }
    }
  });
});
