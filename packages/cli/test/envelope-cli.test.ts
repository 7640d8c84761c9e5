import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { runCliCaptured } from '../src/internal.js';

describe('envelope cli', () => {
  const nats = useNatsServer();
  /** Runs one command, returning its exit code and what it printed. */
  async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const { code, out, err } = await runCliCaptured(argv);
    return { code, stdout: out, stderr: err };
  }

  test('envelope cli - round trip by hand: anchor, keys, publish, export, seal, verify-seal, open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pex-cli-'));
    const p = (f: string) => join(dir, f);
    const server = ['--server', nats.url];
    const offline = ['--directory', p('directory.json'), '--anchor', p('anchor/anchor.public.json')];
    const printed: string[] = [];

    expect((await run('anchor', 'generate', '--out', p('anchor'))).code).toBe(0);
    for (const id of ['portal-demo', 'region-bruxelles']) {
      const r = await run('keys', 'generate', id, '--out', p(`keys/${id}`));
      expect(r.code).toBe(0);
      printed.push(r.stdout);
      expect((await stat(p(`keys/${id}/private.json`))).mode & 0o777).toBe(0o600);
    }
    expect((await stat(p('anchor/anchor.private.json'))).mode & 0o777).toBe(0o600);

    const pub = await run(
      'directory',
      'publish',
      p('keys/portal-demo/public.json'),
      p('keys/region-bruxelles/public.json'),
      '--anchor-key',
      p('anchor/anchor.private.json'),
      ...server,
    );
    expect(pub).toMatchObject({ code: 0 });
    expect(pub.stdout).toMatch(/published portal-demo[\s\S]*published region-bruxelles/);
    const list = await run('directory', 'list', '--anchor', p('anchor/anchor.public.json'), ...server);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/portal-demo {2}portal[\s\S]*region-bruxelles {2}regional-authority/);
    expect(
      (
        await run(
          'directory',
          'export',
          '--anchor',
          p('anchor/anchor.public.json'),
          '--out',
          p('directory.json'),
          ...server,
        )
      ).stdout,
    ).toMatch(/exported 2 entries/);

    await writeFile(p('payload.json'), JSON.stringify({ employer: { vat: 'BE0123456789' }, hours: 38 }));
    const sealed = await run(
      'envelope',
      'seal',
      '--keys',
      p('keys/portal-demo'),
      ...offline,
      '--to',
      'region-bruxelles',
      '--type',
      'dossier-submitted',
      '--dossier',
      'D-2026-000123',
      '--payload',
      p('payload.json'),
      '--out',
      p('envelope.json'),
    );
    expect(sealed.code).toBe(0);
    printed.push(sealed.stdout);

    const verified = await run('envelope', 'verify-seal', p('envelope.json'), ...offline);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^seal ok .* dossier-submitted portal-demo → region-bruxelles/);

    const opened = await run(
      'envelope',
      'open',
      p('envelope.json'),
      '--keys',
      p('keys/region-bruxelles'),
      ...offline,
    );
    expect(opened.code).toBe(0);
    expect(JSON.parse(opened.stdout)).toMatchObject({
      meta: { sender: 'portal-demo', dossierId: 'D-2026-000123' },
      payload: { hours: 38 },
    });

    // the sender cannot read what it sent to the region
    const wrong = await run(
      'envelope',
      'open',
      p('envelope.json'),
      '--keys',
      p('keys/portal-demo'),
      ...offline,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error ERR_DECRYPTION_FAILED: /);

    // a meta edited in transit
    const env = JSON.parse(await readFile(p('envelope.json'), 'utf8'));
    env.meta.dossierId = 'D-2026-000999';
    await writeFile(p('tampered.json'), JSON.stringify(env));
    const tampered = await run('envelope', 'verify-seal', p('tampered.json'), ...offline);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/^error ERR_SEAL_INVALID: /);

    // private keys never printed
    const secrets = ['portal-demo', 'region-bruxelles'].map(
      async (id) =>
        JSON.parse(await readFile(p(`keys/${id}/private.json`), 'utf8')) as {
          signing: { d: string };
          encryption: { d: string }[];
        },
    );
    for (const keys of await Promise.all(secrets)) {
      for (const d of [keys.signing.d, keys.encryption[0]!.d]) {
        expect(
          [...printed, pub.stdout, list.stdout, opened.stdout, wrong.stderr, tampered.stderr].join('\n'),
        ).not.toContain(d);
      }
    }
  });

  test('envelope cli - keys generate refuses a malformed participant id and an existing key folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pex-cli-'));
    expect((await run('keys', 'generate', 'Not An Id', '--out', join(dir, 'x'))).stderr).toMatch(
      /ERR_PARTICIPANT_ID_INVALID/,
    );
    expect((await run('keys', 'generate', 'auditor', '--out', join(dir, 'a'))).code).toBe(0);
    const again = await run('keys', 'generate', 'auditor', '--out', join(dir, 'a'));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/EEXIST/);
  });

  test('envelope cli - keys signing writes the signing key of a key folder alone: private 0600, or its public half', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pex-cli-'));
    expect((await run('keys', 'generate', 'auditor', '--out', join(dir, 'a'))).code).toBe(0);
    const folder = JSON.parse(await readFile(join(dir, 'a', 'private.json'), 'utf8')) as {
      signing: Record<string, string>;
    };
    const priv = await run('keys', 'signing', join(dir, 'a'), '--out', join(dir, 'signing.json'));
    expect(priv.code).toBe(0);
    expect(priv.stdout).not.toContain(folder.signing['d']);
    const written = JSON.parse(await readFile(join(dir, 'signing.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toEqual(folder.signing);
    expect((await stat(join(dir, 'signing.json'))).mode & 0o777).toBe(0o600);
    const pub = await run(
      'keys',
      'signing',
      join(dir, 'a'),
      '--public',
      '--out',
      join(dir, 'signing.pub.json'),
    );
    expect(pub.code).toBe(0);
    const half = JSON.parse(await readFile(join(dir, 'signing.pub.json'), 'utf8')) as Record<string, unknown>;
    expect(half).toMatchObject({ kid: folder.signing['kid'], crv: 'P-256' });
    expect(half).not.toHaveProperty('d');
    // an existing file is never overwritten
    expect((await run('keys', 'signing', join(dir, 'a'), '--out', join(dir, 'signing.json'))).stderr).toMatch(
      /EEXIST/,
    );
  });
});
