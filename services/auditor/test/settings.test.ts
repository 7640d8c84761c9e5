import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, generateParticipantKeys } from '@passerelle/envelope';
import { describe, expect, test, vi } from 'vitest';
import { loadAuditorKey, readAuditorSettings } from '../src/index.js';
import { makeCertificate } from './fixtures.js';

const BASE = {
  PASSERELLE_AUDITOR_KEY: '/keys/auditor.json',
  PASSERELLE_ANCHOR: '/keys/anchor.public.json',
  PASSERELLE_AUDITOR_TOKEN: 'a-viewer-token-of-some-length',
};

describe('auditor settings', () => {
  test('settings - defaults apply and numbers are read', async () => {
    const s = await readAuditorSettings({
      ...BASE,
      PASSERELLE_CHECKPOINT_EVERY: '50',
      PASSERELLE_VIEWER_PORT: '0',
    });
    expect(s).toEqual({
      servers: ['nats://127.0.0.1:4222'],
      keyFile: '/keys/auditor.json',
      anchor: '/keys/anchor.public.json',
      token: BASE.PASSERELLE_AUDITOR_TOKEN,
      directoryState: '/keys/directory-state.auditor.json',
      viewerHost: '127.0.0.1',
      viewerPort: 0,
      checkpointEvery: 50,
      checkpointSeconds: 60,
      timestampSeconds: 10,
      archiveSeconds: 3600,
      archiveSegmentEntries: 100_000,
      archiveTrim: 'retention',
      logLevel: 'info',
    });
  });

  test.each([
    [{ PASSERELLE_AUDITOR_KEY: undefined }, 'PASSERELLE_AUDITOR_KEY', '/keyFile', 'is required'],
    [{ PASSERELLE_ANCHOR: '' }, 'PASSERELLE_ANCHOR', '/anchor', 'is required'],
    [
      { PASSERELLE_AUDITOR_TOKEN: undefined },
      'PASSERELLE_AUDITOR_TOKEN',
      '/token',
      'or /tokenFile (PASSERELLE_AUDITOR_TOKEN_FILE) is required',
    ],
    [{ PASSERELLE_AUDITOR_TOKEN: 'short' }, 'PASSERELLE_AUDITOR_TOKEN', '/token', 'must be a token of 16'],
    [
      { PASSERELLE_AUDITOR_TOKEN: undefined, PASSERELLE_AUDITOR_TOKEN_FILE: '/nonexistent/token' },
      'PASSERELLE_AUDITOR_TOKEN_FILE',
      '/tokenFile',
      '(/nonexistent/token) cannot be read',
    ],
    [
      { PASSERELLE_CHECKPOINT_EVERY: '0' },
      'PASSERELLE_CHECKPOINT_EVERY',
      '/checkpointEvery',
      'must be an integer from 1 to 1000000',
    ],
    [
      { PASSERELLE_CHECKPOINT_SECONDS: 'soon' },
      'PASSERELLE_CHECKPOINT_SECONDS',
      '/checkpointSeconds',
      'must be an integer from 0 to 86400',
    ],
    [
      { PASSERELLE_VIEWER_PORT: '70000' },
      'PASSERELLE_VIEWER_PORT',
      '/viewerPort',
      'must be an integer from 0 to 65535',
    ],
    [
      { PASSERELLE_NATS_URL: 'localhost 4222' },
      'PASSERELLE_NATS_URL',
      '/servers/0',
      'must be one or more nats://',
    ],
    [
      { PASSERELLE_ARCHIVE_TRIM: 'never' },
      'PASSERELLE_ARCHIVE_TRIM',
      '/archiveTrim',
      'must be one of "retention", "purge"',
    ],
    [{ PASSERELLE_TSA_URL: 'ftp://tsa' }, 'PASSERELLE_TSA_URL', '/tsaUrl', 'must be an http(s) URL'],
    [
      { PASSERELLE_TSA_URL: 'https://tsa' },
      'PASSERELLE_TSA_TRUST',
      '/tsaTrust',
      'is required with /tsaUrl (PASSERELLE_TSA_URL)',
    ],
    [
      { PASSERELLE_LEDGER_MAX_AGE_DAYS: '400' },
      'PASSERELLE_ARCHIVE_DIR',
      '/archiveDir',
      'is required with /ledgerMaxAgeDays (PASSERELLE_LEDGER_MAX_AGE_DAYS)',
    ],
    [
      { PASSERELLE_LEDGER_MAX_AGE_DAYS: '0', PASSERELLE_ARCHIVE_DIR: '/var/lib/ledger-archive' },
      'PASSERELLE_LEDGER_MAX_AGE_DAYS',
      '/ledgerMaxAgeDays',
      'must be an integer from 1 to 36500',
    ],
    [{ PASSERELLE_LOG_LEVEL: 'chatty' }, 'PASSERELLE_LOG_LEVEL', '/logLevel', 'must be one of "fatal"'],
  ] as const)(
    'settings - a bad setting is named by pointer and variable: %j',
    async (override, setting, pointer, words) => {
      const err = await readAuditorSettings({ ...BASE, ...override }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID', details: { setting, pointer } });
      expect(String((err as Error).message)).toContain(`auditor setting ${pointer} (${setting}) ${words}`);
      expect(String((err as Error).message)).not.toContain(BASE.PASSERELLE_AUDITOR_TOKEN);
    },
  );

  test('settings - the token may come from the first line of a file, of the same form', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pex-auditor-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'a-token-read-from-its-file\nsecond line\n');
    const env = { ...BASE, PASSERELLE_AUDITOR_TOKEN: undefined, PASSERELLE_AUDITOR_TOKEN_FILE: file };
    expect((await readAuditorSettings(env)).token).toBe('a-token-read-from-its-file');
    writeFileSync(file, 'too short\n');
    await expect(readAuditorSettings(env)).rejects.toMatchObject({
      message:
        'auditor setting /tokenFile (PASSERELLE_AUDITOR_TOKEN_FILE) must hold a token of 16 to 512 printable characters without spaces',
      details: { pointer: '/tokenFile', setting: 'PASSERELLE_AUDITOR_TOKEN_FILE' },
    });
  });

  test('settings - the key file must be a private signing JWK readable by its owner only, without encryption keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pex-auditor-key-'));
    const key = await generateKey('sig', { kid: 'auditor-sig-1' });
    const good = join(dir, 'signing.json');
    writeFileSync(good, JSON.stringify(key), { mode: 0o600 });
    expect(await loadAuditorKey(good)).toMatchObject({ kid: 'auditor-sig-1' });
    chmodSync(good, 0o644);
    await expect(loadAuditorKey(good)).rejects.toThrow(/readable by others/);
    const participantFile = join(dir, 'participant.json');
    writeFileSync(participantFile, JSON.stringify(await generateParticipantKeys('auditor')), { mode: 0o600 });
    await expect(loadAuditorKey(participantFile)).rejects.toThrow(/encryption keys/);
    const { d: _d, ...pub } = key;
    const publicOnly = join(dir, 'public.json');
    writeFileSync(publicOnly, JSON.stringify(pub), { mode: 0o600 });
    await expect(loadAuditorKey(publicOnly)).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
  });

  test('settings - the viewer certificate and key: both or neither, PEM, the key private and the certificate’s own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pex-auditor-tls-'));
    const one = makeCertificate(dir, 'one');
    const other = makeCertificate(dir, 'other');
    const tls = { PASSERELLE_VIEWER_TLS_CERT: one.certFile, PASSERELLE_VIEWER_TLS_KEY: one.keyFile };
    const s = await readAuditorSettings({ ...BASE, ...tls });
    expect(s.viewerTls?.cert).toBe(one.cert);
    expect(s.viewerTls?.key).toContain('PRIVATE KEY');
    expect((await readAuditorSettings(BASE)).viewerTls).toBeUndefined();
    const notPem = join(dir, 'not-pem.txt');
    writeFileSync(notPem, 'not a certificate', { mode: 0o600 });
    const cases: [Record<string, string | undefined>, string, RegExp][] = [
      [{ PASSERELLE_VIEWER_TLS_KEY: undefined }, 'PASSERELLE_VIEWER_TLS_KEY', /is required with/],
      [{ PASSERELLE_VIEWER_TLS_CERT: '' }, 'PASSERELLE_VIEWER_TLS_CERT', /is required with/],
      [
        { PASSERELLE_VIEWER_TLS_CERT: undefined, PASSERELLE_VIEWER_TLS_KEY: one.keyFile },
        'PASSERELLE_VIEWER_TLS_CERT',
        /is required with/,
      ],
      [{ PASSERELLE_VIEWER_TLS_KEY: '' }, 'PASSERELLE_VIEWER_TLS_KEY', /is required with/],
      [
        { PASSERELLE_VIEWER_TLS_CERT: join(dir, 'missing.pem') },
        'PASSERELLE_VIEWER_TLS_CERT',
        /cannot be read/,
      ],
      [{ PASSERELLE_VIEWER_TLS_CERT: notPem }, 'PASSERELLE_VIEWER_TLS_CERT', /not a PEM certificate/],
      [{ PASSERELLE_VIEWER_TLS_KEY: notPem }, 'PASSERELLE_VIEWER_TLS_KEY', /not a PEM private key/],
      [{ PASSERELLE_VIEWER_TLS_KEY: other.keyFile }, 'PASSERELLE_VIEWER_TLS_KEY', /is not the key of/],
    ];
    for (const [override, setting, problem] of cases) {
      const env: Record<string, string | undefined> = { ...BASE, ...tls };
      for (const [name, value] of Object.entries(override)) {
        if (value === undefined) delete env[name];
        else env[name] = value;
      }
      const err = await readAuditorSettings(env).catch((e: unknown) => e);
      expect(err, setting).toMatchObject({ code: 'ERR_CONFIG_INVALID', details: { setting } });
      expect(String((err as Error).message)).toMatch(problem);
      expect(String((err as Error).message)).not.toContain('PRIVATE KEY');
    }
    // the certificate is made valid for two days: three days on, it is refused
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3 * 86_400_000);
    try {
      await expect(readAuditorSettings({ ...BASE, ...tls })).rejects.toMatchObject({
        details: { setting: 'PASSERELLE_VIEWER_TLS_CERT' },
        message: expect.stringMatching(/is not valid now/),
      });
    } finally {
      vi.useRealTimers();
    }
    chmodSync(one.keyFile, 0o640);
    await expect(readAuditorSettings({ ...BASE, ...tls })).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      details: { setting: 'PASSERELLE_VIEWER_TLS_KEY' },
      message: expect.stringMatching(/readable by others/),
    });
  });
});
