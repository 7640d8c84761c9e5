import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nkeys } from '@nats-io/transport-node';
import { afterAll, describe, expect, test } from 'vitest';
import { loadCredentials } from '../src/index.js';
import { loadClientCredentials } from '../src/internal.js';

describe('credentials files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-creds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const seed = new TextDecoder().decode(nkeys.createUser().getSeed());
  writeFileSync(join(dir, 'a.nk'), seed, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  writeFileSync(join(dir, 'c.pem'), 'CERT');
  writeFileSync(join(dir, 'c.key'), 'KEY', { mode: 0o600 });
  // a `.creds` file as nsc and @nats-io/jwt write it: the user JWT (its content is the server's to check), then the seed
  const creds = `-----BEGIN NATS USER JWT-----\neyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.e30.c2ln\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
  writeFileSync(join(dir, 'a.creds'), creds, { mode: 0o600 });
  const good = {
    participant: 'commune-21004',
    servers: ['tls://127.0.0.1:4222'],
    nkeySeedFile: 'a.nk',
    tls: { caFile: 'ca.pem', certFile: 'c.pem', keyFile: 'c.key' },
  };
  const write = (name: string, body: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, typeof body === 'string' ? body : JSON.stringify(body));
    return file;
  };

  test('credentials - a valid file gives nkey auth, TLS material and the private inbox prefix', async () => {
    const loaded = await loadCredentials(write('good.json', good));
    expect(loaded.participant).toBe('commune-21004');
    expect(loaded.servers).toEqual(['tls://127.0.0.1:4222']);
    expect(loaded.connection.inboxPrefix).toBe('_INBOX_commune-21004');
    expect(loaded.connection.tls).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY' });
    expect(typeof loaded.connection.authenticator).toBe('function');
  });

  test('credentials - a .creds file and the account settings, as a secured server in operator mode gives them', async () => {
    const { nkeySeedFile: _seed, ...rest } = good;
    const accounts = {
      exchangeApiPrefix: '$JS.EX.API',
      objectStoreOwners: { 'pex-documents': ['portal-employers'] },
    };
    const loaded = await loadCredentials(write('creds.json', { ...rest, credsFile: 'a.creds', accounts }));
    expect(typeof loaded.connection.authenticator).toBe('function');
    expect(loaded.connection.inboxPrefix).toBe('_INBOX_commune-21004');
    expect(loaded.accounts).toEqual(accounts);
    const cases: [string, unknown, string][] = [
      ['nocreds.json', rest, 'credsFile'],
      ['credsmissing.json', { ...rest, credsFile: 'absent.creds' }, 'credsFile'],
      // a bare seed is not a .creds file: the server in operator mode would refuse it anyway
      ['credsbare.json', { ...rest, credsFile: 'a.nk' }, 'credsFile'],
      [
        'prefix.json',
        { ...rest, credsFile: 'a.creds', accounts: { ...accounts, exchangeApiPrefix: '$JS.API.>' } },
        'accounts.exchangeApiPrefix',
      ],
      [
        'owners.json',
        { ...rest, credsFile: 'a.creds', accounts: { ...accounts, objectStoreOwners: { x: ['Nobody'] } } },
        'accounts.objectStoreOwners',
      ],
    ];
    for (const [name, body, setting] of cases) {
      const file = write(name, body);
      const err = await loadCredentials(file).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; details?: { setting?: string } },
      );
      expect(err?.code, name).toBe('ERR_CONFIG_INVALID');
      expect(err?.details?.setting, name).toBe(setting);
      expect(err?.message, name).not.toContain(seed);
    }
    writeFileSync(join(dir, 'open.creds'), creds);
    chmodSync(join(dir, 'open.creds'), 0o644);
    await expect(
      loadCredentials(write('opencreds.json', { ...rest, credsFile: 'open.creds' })),
    ).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID', details: { setting: 'credsFile' } });
  });

  test('credentials - each missing or wrong setting fails with ERR_CONFIG_INVALID naming file and setting', async () => {
    const cases: [string, unknown, string][] = [
      ['missing.json', undefined, ''],
      ['notjson.json', '{', ''],
      ['participant.json', { ...good, participant: 'Nobody' }, 'participant'],
      ['servers.json', { ...good, servers: [] }, 'servers'],
      ['seedmissing.json', { ...good, nkeySeedFile: 'absent.nk' }, 'nkeySeedFile'],
      ['seedbad.json', { ...good, nkeySeedFile: 'c.key' }, 'nkeySeedFile'],
      ['tls.json', { ...good, tls: undefined }, 'tls'],
      ['cert.json', { ...good, tls: { ...good.tls, certFile: 'absent.pem' } }, 'tls.certFile'],
    ];
    for (const [name, body, setting] of cases) {
      const file = body === undefined ? join(dir, name) : write(name, body);
      const err = await loadCredentials(file).then(
        () => undefined,
        (e: unknown) => e as { code: string; message: string; details?: { setting?: string } },
      );
      expect(err?.code, name).toBe('ERR_CONFIG_INVALID');
      expect(err?.message, name).toContain(file);
      if (setting) expect(err?.details?.setting, name).toBe(setting);
      expect(err?.message, name).not.toContain(seed);
    }
  });

  test('credentials - a seed file others can read is refused', async () => {
    writeFileSync(join(dir, 'open.nk'), seed);
    chmodSync(join(dir, 'open.nk'), 0o644);
    await expect(
      loadCredentials(write('open.json', { ...good, nkeySeedFile: 'open.nk' })),
    ).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      details: { setting: 'nkeySeedFile' },
    });
  });

  test('credentials - an operator identity file serves the CLI, not a participant service', async () => {
    const { participant: _participant, ...rest } = good;
    const operator = write('operator.json', { ...rest, identity: 'operator' });
    const loaded = await loadClientCredentials(operator);
    expect(loaded.identity).toBe('operator');
    expect(loaded.connection.name).toBe('operator');
    expect(loaded.connection.inboxPrefix).toBeUndefined(); // the operator's permissions allow any inbox
    expect(loaded.connection.tls).toEqual({ ca: 'CA', cert: 'CERT', key: 'KEY' });
    // a participant's file serves the CLI too, with its private inbox prefix
    const participant = await loadClientCredentials(write('good2.json', good));
    expect([participant.identity, participant.connection.inboxPrefix]).toEqual([
      'commune-21004',
      '_INBOX_commune-21004',
    ]);
    // a service needs a participant
    await expect(loadCredentials(operator)).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      details: { setting: 'participant' },
    });
    for (const [name, body] of [
      ['noone.json', rest],
      ['badidentity.json', { ...rest, identity: 'Operator Root' }],
      ['badparticipant.json', { ...good, participant: 'Nobody', identity: 'operator' }],
      ['array.json', [good]],
    ] as const) {
      await expect(loadClientCredentials(write(name, body)), name).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
      });
    }
  });
});
