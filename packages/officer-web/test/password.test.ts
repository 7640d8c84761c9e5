import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { OfficerAccounts } from '../src/officer-accounts.js';
import { runOfficersCommand } from '../src/officers-main.js';
import { hashPassword, verifyPassword } from '../src/password.js';

const dir = mkdtempSync(join(tmpdir(), 'pex-officers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('officer accounts - passwords and provisioning', () => {
  test('password - an scrypt hash matches its password only, with a salt of its own', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$N=32768,r=8,p=1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('correct horse battery', undefined)).toBe(false);
    expect(await verifyPassword('correct horse battery', a.replace('N=32768', 'N=32767'))).toBe(false);
  });

  test('accounts - pseudonymous ids only, passwords of 12 characters at least, the file 0600 without them', async () => {
    const accounts = new OfficerAccounts(join(dir, 'a.json'));
    const added = await accounts.add('off-0a1b2c3d', ['region-bruxelles'], 'a long enough secret');
    expect(added.password).not.toContain('a long enough secret');
    expect(statSync(accounts.file).mode & 0o777).toBe(0o600);
    expect(readFileSync(accounts.file, 'utf8')).not.toContain('a long enough secret');
    await expect(
      accounts.add('jan.peeters@example.be', ['region-bruxelles'], 'a long enough secret'),
    ).rejects.toMatchObject({
      code: 'ERR_OFFICER_ACCOUNT_INVALID',
    });
    await expect(accounts.add('off-99887766', ['region-bruxelles'], 'short')).rejects.toMatchObject({
      code: 'ERR_OFFICER_ACCOUNT_INVALID',
    });
    await expect(
      accounts.add('off-0a1b2c3d', ['region-bruxelles'], 'another long secret'),
    ).rejects.toMatchObject({
      code: 'ERR_OFFICER_ACCOUNT_INVALID',
    });
    expect((await accounts.signIn('off-0a1b2c3d', 'a long enough secret'))?.officerId).toBe('off-0a1b2c3d');
    expect(await accounts.signIn('off-0a1b2c3d', 'a long enough secreT')).toBeUndefined();
    expect(await accounts.signIn('off-ffffffff', 'a long enough secret')).toBeUndefined();
    await accounts.disable('off-0a1b2c3d');
    expect(await accounts.signIn('off-0a1b2c3d', 'a long enough secret')).toBeUndefined();
    await accounts.setPassword('off-0a1b2c3d', 'a new long secret');
    expect((await accounts.signIn('off-0a1b2c3d', 'a new long secret'))?.officerId).toBe('off-0a1b2c3d');
    await accounts.remove('off-0a1b2c3d');
    expect(await accounts.list()).toEqual([]);
  });

  test('officers command - add prints a generated password once; list shows ids and bodies only', async () => {
    const file = join(dir, 'b.json');
    const out: string[] = [];
    expect(
      await runOfficersCommand(['add', '--file', file, '--participant', 'commune-21004'], (l) => out.push(l)),
    ).toBe(0);
    const officerId = /officer (off-[0-9a-f]{16}) added/.exec(out[0] ?? '')?.[1];
    const password = /password \(shown once\): (\S+)/.exec(out[1] ?? '')?.[1];
    expect(officerId).toBeDefined();
    expect(password).toHaveLength(24);
    expect((await new OfficerAccounts(file).signIn(officerId!, password!))?.participants).toEqual([
      'commune-21004',
    ]);
    out.length = 0;
    expect(await runOfficersCommand(['list', '--file', file], (l) => out.push(l))).toBe(0);
    expect(out).toEqual([`${officerId}\tcommune-21004`]);
    expect(await runOfficersCommand(['frobnicate', '--file', file], () => undefined)).toBe(2);
  });

  test('accounts - a malformed accounts file is refused with its code, naming the entry', async () => {
    const accounts = new OfficerAccounts(join(dir, 'c.json'));
    await accounts.add('off-0a1b2c3e', ['commune-21004'], 'a long enough secret');
    const text = readFileSync(accounts.file, 'utf8').replace('off-0a1b2c3e', 'Jan Peeters');
    writeFileSync(accounts.file, text);
    await expect(new OfficerAccounts(accounts.file).list()).rejects.toMatchObject({
      code: 'ERR_OFFICER_ACCOUNT_INVALID',
      message: 'officers[0].officerId is not a pseudonymous officer id',
    });
  });
});
