import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { backOfficeSetting, readServiceSettings } from '../src/internal.js';

const base = {
  PASSERELLE_PARTICIPANTS: 'commune-21004',
  PASSERELLE_KEYS_DIR: '/keys',
  PASSERELLE_ANCHOR: '/anchor.json',
};

/** The settings of a JSON file holding `file`. */
async function withFile(file: Record<string, unknown>, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pex-bo-'));
  writeFileSync(join(dir, 'commune.json'), JSON.stringify(file));
  return readServiceSettings('commune', 'commune', {
    ...base,
    ...env,
    PASSERELLE_CONFIG: join(dir, 'commune.json'),
  });
}

describe('back-office setting', () => {
  test('config - no backOffice setting and no PASSERELLE_BACK_OFFICE_PORT: no back office served', async () => {
    expect(backOfficeSetting('commune', await withFile({}))).toBeUndefined();
  });

  test('config - the port alone gives loopback, its URL and the secret beside the keys', async () => {
    expect(backOfficeSetting('commune', await withFile({}, { PASSERELLE_BACK_OFFICE_PORT: '8104' }))).toEqual(
      {
        host: '127.0.0.1',
        port: 8104,
        publicUrl: 'http://127.0.0.1:8104',
        secretFile: '/keys/backoffice-commune.secret',
      },
    );
    const settings = await withFile({
      backOffice: {
        port: 8443,
        host: '0.0.0.0',
        publicUrl: 'https://backoffice.commune.example.be',
        secretFile: '/etc/pex/bo.secret',
        adminClientFile: '/etc/pex/bo-admin.json',
      },
    });
    expect(backOfficeSetting('commune', settings)).toMatchObject({
      host: '0.0.0.0',
      publicUrl: 'https://backoffice.commune.example.be',
      adminClientFile: '/etc/pex/bo-admin.json',
    });
  });

  test('config - a bad port, an unknown key or a wrong type is refused naming the setting', async () => {
    for (const [file, setting] of [
      [{ backOffice: { port: 70_000 } }, 'backOffice.port'],
      [{ backOffice: { port: 8104, hots: 'x' } }, 'backOffice.hots'],
      [{ backOffice: { port: 8104, secretFile: 3 } }, 'backOffice.secretFile'],
      [{ backOffice: 'yes' }, 'backOffice'],
    ] as const) {
      await expect(withFile(file)).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        details: { setting },
      });
    }
    // a backOffice without a port, neither in the file nor in PASSERELLE_BACK_OFFICE_PORT
    const settings = await withFile({ backOffice: { host: '0.0.0.0' } });
    expect(() => backOfficeSetting('commune', settings)).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', details: { setting: 'backOffice.port' } }),
    );
  });
});
