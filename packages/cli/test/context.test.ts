import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { resolveServer } from '../src/context.js';

describe('passerelle server address', () => {
  afterEach(() => vi.unstubAllEnvs());

  test('context - the CLI finds the local exchange in PASSERELLE_HOME, as pnpm start writes it there', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pex-cli-home-'));
    vi.stubEnv('PASSERELLE_NATS_URL', '');
    mkdirSync(join(cwd, '.passerelle'));
    writeFileSync(join(cwd, '.passerelle', 'server.json'), JSON.stringify({ url: 'nats://127.0.0.1:4999' }));
    expect(resolveServer({}, cwd)).toBe('nats://127.0.0.1:4999');

    mkdirSync(join(cwd, 'elsewhere'));
    writeFileSync(join(cwd, 'elsewhere', 'server.json'), JSON.stringify({ url: 'nats://127.0.0.1:5111' }));
    vi.stubEnv('PASSERELLE_HOME', 'elsewhere');
    expect(resolveServer({}, cwd)).toBe('nats://127.0.0.1:5111');
    // --server and PASSERELLE_NATS_URL still come first
    expect(resolveServer({ server: 'nats://10.0.0.1:4222' }, cwd)).toBe('nats://10.0.0.1:4222');
    vi.stubEnv('PASSERELLE_NATS_URL', 'nats://127.0.0.1:6222');
    expect(resolveServer({}, cwd)).toBe('nats://127.0.0.1:6222');
  });

  test('context - a bad CLI setting is refused with its JSON pointer and variable', () => {
    vi.stubEnv('PASSERELLE_NATS_URL', 'localhost:4222');
    expect(() => resolveServer({})).toThrow(
      expect.objectContaining({
        code: 'ERR_CONFIG_INVALID',
        message:
          'passerelle setting /natsUrl (PASSERELLE_NATS_URL) must be a nats://, tls:// or ws(s):// URL',
        details: { pointer: '/natsUrl', setting: 'PASSERELLE_NATS_URL' },
      }),
    );
    // an option given on the command line needs no setting
    expect(resolveServer({ server: 'nats://10.0.0.1:4222' })).toBe('nats://10.0.0.1:4222');
  });
});
