import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Contracts, loadContracts } from '@passerelle/contracts';
import { createLogger } from '@passerelle/exchange';
import { beforeAll, describe, expect, test } from 'vitest';
import { type ServiceSettings, readServiceSettings } from '../src/config.js';
import type { HostedServiceConfig } from '../src/host.js';
import { startOfficerWebSetting } from '../src/officer-web.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const logger = createLogger('commune', { level: 'silent' });

/** A commune's body service as the page sees it, with nothing owed. */
const desk = {
  service: 'commune',
  participants: ['commune-21004'],
  actions: () => [],
  dossier: () => Promise.resolve(undefined),
  available: () => Promise.resolve([]),
  worklist: () => Promise.resolve([]),
  act: () => Promise.reject(new Error('no action')),
};

describe('service host - the officerWeb setting', () => {
  let contracts: Contracts;
  beforeAll(async () => {
    contracts = await loadContracts({ root });
  });
  /** A commune's settings, validated, from a JSON file with this `officerWeb`. */
  const settings = (officerWeb: unknown): Promise<ServiceSettings> => {
    const dir = mkdtempSync(join(tmpdir(), 'pex-officer-web-'));
    writeFileSync(join(dir, 'commune.json'), JSON.stringify(officerWeb === undefined ? {} : { officerWeb }));
    return readServiceSettings('commune', 'commune', {
      PASSERELLE_PARTICIPANTS: 'commune-21004',
      PASSERELLE_KEYS_DIR: '/keys',
      PASSERELLE_ANCHOR: '/anchor.json',
      PASSERELLE_CONFIG: join(dir, 'commune.json'),
    });
  };
  const config = (): HostedServiceConfig =>
    ({
      contracts,
      servers: ['nats://127.0.0.1:4222'],
      participants: [],
      storageKeys: [],
    }) as unknown as HostedServiceConfig;

  test('officerWeb - absent, no page is served', async () => {
    expect(
      await startOfficerWebSetting('commune', await settings(undefined), desk, config(), logger),
    ).toBeUndefined();
  });

  test('officerWeb - a bad setting is ERR_CONFIG_INVALID naming it', async () => {
    for (const [value, setting] of [
      ['8443', 'officerWeb'],
      [{ port: 8443 }, 'officerWeb.accountsFile'],
      [{ port: 70_000, accountsFile: 'o.json' }, 'officerWeb.port'],
      [{ port: 8443, accountsFile: 'o.json', secure: true }, 'officerWeb.secure'],
      [{ port: 8443, accountsFile: 'o.json', secureCookies: 'yes' }, 'officerWeb.secureCookies'],
    ] as const) {
      await expect(settings(value)).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        details: { setting },
      });
    }
    await expect(
      startOfficerWebSetting(
        'auditor',
        await settings({ port: 0, accountsFile: 'o.json' }),
        { close() {} },
        config(),
        logger,
      ),
    ).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID', details: { setting: 'officerWeb' } });
  });

  test('officerWeb - set, the page is served on its port with its CSP, and stops with the service', async () => {
    const web = await startOfficerWebSetting(
      'commune',
      await settings({ port: 0, accountsFile: '/nonexistent/officers.json' }),
      desk,
      config(),
      logger,
    );
    const res = await fetch(`${web!.url}/sign-in`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await res.text()).toContain('Sign in');
    await web!.close();
    await expect(fetch(`${web!.url}/sign-in`)).rejects.toThrow();
  });
});
