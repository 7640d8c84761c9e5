import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { loadStorageKeys } from '@passerelle/directory';
import { StateCipher } from '@passerelle/service-host';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { runCliCaptured as capture } from '../src/internal.js';

describe('rotation cli', () => {
  const nats = useNatsServer();

  test('rotation cli - directory publish signs each entry under the next version; list shows it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pex-cli-rot-'));
    const p = (f: string) => join(dir, f);
    const server = ['--server', nats.url, '--bucket', 'directory-cli-rotation'];
    expect((await capture(['anchor', 'generate', '--out', p('anchor')])).code).toBe(0);
    expect((await capture(['keys', 'generate', 'commune-21004', '--out', p('commune')])).code).toBe(0);
    const publish = () =>
      capture([
        'directory',
        'publish',
        p('commune/public.json'),
        '--anchor-key',
        p('anchor/anchor.private.json'),
        ...server,
      ]);
    expect((await publish()).out).toMatch(/published commune-21004 version 1 /);
    // a signing-key rotation: new key pairs, then the entry again
    expect(
      (await capture(['keys', 'generate', 'commune-21004', '--out', p('commune'), '--force'])).code,
    ).toBe(0);
    expect((await publish()).out).toMatch(/published commune-21004 version 2 /);
    const list = await capture(['directory', 'list', '--anchor', p('anchor/anchor.public.json'), ...server]);
    expect(list.out).toContain('commune-21004  commune  commune-21004  version 2');
  });

  test('rotation cli - keys storage keeps the keyring through a signing-key rotation, rotates it, and storage reseal moves the records', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pex-cli-storage-'));
    const keys = join(dir, 'commune-21004');
    const made = await capture(['keys', 'generate', 'commune-21004', '--out', keys]);
    expect(made.out).toContain('storage.json');
    expect((await stat(join(keys, 'storage.json'))).mode & 0o777).toBe(0o600);
    const first = await loadStorageKeys(keys, 'commune-21004');

    // `keys generate --force` replaces the signing and encryption keys, never the storage keys
    await capture(['keys', 'generate', 'commune-21004', '--out', keys, '--force']);
    expect(await loadStorageKeys(keys, 'commune-21004')).toEqual(first);

    // a record sealed under the first storage key, in a bucket shared with another commune
    const nc = await connect({ servers: nats.url });
    try {
      const kv = await new Kvm(nc).create('svc-commune-cli', { history: 1 });
      const key = 'commune-21004.D-CLI-0001';
      await kv.put(key, StateCipher.fromKeyring(first, 'dossiers').seal({ n: 1 }, key));
      await kv.put('commune-62063.D-CLI-0002', 'another commune: left alone');

      const rotated = await capture(['keys', 'storage', keys, '--rotate']);
      expect(rotated.code).toBe(0);
      const ring = await loadStorageKeys(keys, 'commune-21004');
      expect(ring.current).not.toBe(first.current);
      expect(rotated.out).toContain(`current  ${ring.current}`);
      expect(rotated.out).not.toContain(ring.keys[0]!.k);

      const reseal = await capture([
        'storage',
        'reseal',
        '--bucket',
        'svc-commune-cli',
        '--store',
        'dossiers',
        '--keys',
        keys,
        '--server',
        nats.url,
      ]);
      expect(reseal).toMatchObject({ code: 0 });
      expect(reseal.out).toContain(
        'commune-21004: 1 sealed again under the current key, 0 already current, 0 unreadable',
      );
      expect((await kv.get(key))!.string()).toMatch(new RegExp(`^s2\\.${ring.current}\\.`));
      expect((await kv.get('commune-62063.D-CLI-0002'))!.string()).toBe('another commune: left alone');

      // the old key retired: the record still reads, under the new one
      expect((await capture(['keys', 'storage', keys, '--retire', first.current])).code).toBe(0);
      const retired = await loadStorageKeys(keys, 'commune-21004');
      expect(retired.keys.map((k) => k.kid)).toEqual([ring.current]);
      const sealed = (await kv.get(key))!.string();
      expect(StateCipher.fromKeyring(retired, 'dossiers').open(sealed, key)).toEqual({ n: 1 });
      expect(JSON.parse(await readFile(join(keys, 'storage.json'), 'utf8'))).toMatchObject({
        participantId: 'commune-21004',
      });
      const current = await capture(['keys', 'storage', keys, '--retire', ring.current]);
      expect(current.code).not.toBe(0);
      expect(current.err).toContain('current key');
    } finally {
      await nc.close();
    }
  });
});
