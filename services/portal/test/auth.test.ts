import { describe, expect, test } from 'vitest';
import { PasserelleError } from '@passerelle/errors';
import { assertPortalConfig, createAuthenticator, hashToken } from '../src/index.js';
import type { PortalConfig } from '../src/index.js';

const ACME = 'acme-token-0123456789abcdef';
const BETA = 'beta-token-0123456789abcdef';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err: unknown) {
    return err instanceof PasserelleError ? String(err.code) : 'not-a-passerelle-error';
  }
  return undefined;
}

describe('portal authentication', () => {
  const authenticate = createAuthenticator([
    { name: 'acme-hr', tokenSha256: hashToken(ACME) },
    { name: 'beta-payroll', tokenSha256: hashToken(BETA) },
  ]);

  test('auth - each token maps to its integrator', () => {
    expect(authenticate(`Bearer ${ACME}`)).toBe('acme-hr');
    expect(authenticate(`Bearer ${BETA}`)).toBe('beta-payroll');
  });

  test('auth - a missing, malformed or unknown token is ERR_UNAUTHENTICATED', () => {
    expect(codeOf(() => authenticate(undefined))).toBe('ERR_UNAUTHENTICATED');
    expect(codeOf(() => authenticate(ACME))).toBe('ERR_UNAUTHENTICATED');
    expect(codeOf(() => authenticate(`Basic ${ACME}`))).toBe('ERR_UNAUTHENTICATED');
    expect(codeOf(() => authenticate(`Bearer ${ACME}x`))).toBe('ERR_UNAUTHENTICATED');
    expect(codeOf(() => authenticate(`Bearer ${hashToken(ACME)}`))).toBe('ERR_UNAUTHENTICATED');
  });

  test('auth - the configuration holds hashes: sha256 hex of the token', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('portal configuration', () => {
  const base = {
    participant: 'portal-wib',
    keys: { participantId: 'portal-wib' },
    storageKeys: { participantId: 'portal-wib' },
    directory: {},
    contracts: {},
    servers: 'nats://127.0.0.1:4222',
    integrators: [{ name: 'acme-hr', tokenSha256: hashToken(ACME) }],
  } as unknown as PortalConfig;

  test('config - a valid configuration passes', () => {
    expect(codeOf(() => assertPortalConfig(base))).toBeUndefined();
  });

  test('config - each bad setting is ERR_CONFIG_INVALID naming the setting', () => {
    const cases: [Partial<PortalConfig>, string][] = [
      [{ participant: 'region-wallonie' }, 'participant'],
      [{ integrators: [] }, 'integrators'],
      [{ integrators: [{ name: 'Acme HR', tokenSha256: hashToken(ACME) }] }, 'integrators[0].name'],
      [{ integrators: [{ name: 'acme-hr', tokenSha256: ACME }] }, 'integrators[0].tokenSha256'],
      [
        {
          integrators: [
            { name: 'acme-hr', tokenSha256: hashToken(ACME) },
            { name: 'beta', tokenSha256: hashToken(ACME) },
          ],
        },
        'integrators[1].tokenSha256',
      ],
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
