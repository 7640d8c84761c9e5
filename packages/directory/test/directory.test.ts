import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ParticipantKeys,
  generateKey,
  generateParticipantKeys,
  newMessageId,
  openEnvelope,
  sealEnvelope,
  signCompact,
  toPublicJwk,
  verifySeal,
} from '@passerelle/envelope';
import { EnvelopeError } from '@passerelle/envelope/internal';
import { isPasserelleError } from '@passerelle/errors';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  exportDirectory,
  loadDirectoryFile,
  loadParticipantKeys,
  makeEntry,
  verifyEntry,
  writeAnchor,
  writeDirectoryFile,
  writeParticipantKeys,
} from '../src/index.js';
import { openDirectoryBucket, publishEntry, signEntry } from '../src/internal.js';
import { useAnchoredDirectory } from './fixtures.js';

const meta = (over: Record<string, unknown> = {}) => ({
  id: newMessageId(),
  type: 'dossier-submitted',
  schemaVersion: 1,
  sender: 'portal-demo',
  recipient: 'region-bruxelles',
  dossierId: 'D-2026-000777',
  issuedAt: new Date().toISOString(),
  correlationId: 'corr-1',
  causationId: null,
  ...over,
});

describe('directory', () => {
  const suite = useAnchoredDirectory('directory');
  let portal: ParticipantKeys;
  let region: ParticipantKeys;
  const entryOf = (k: ParticipantKeys, name: string, at = new Date()) =>
    makeEntry(k.participantId, name, [toPublicJwk(k.signing)], k.encryption.map(toPublicJwk), at);

  beforeAll(async () => {
    [portal, region] = await Promise.all([
      generateParticipantKeys('portal-demo'),
      generateParticipantKeys('region-bruxelles'),
    ]);
  });

  test('directory - the client loads anchor-signed entries and resolves keys for envelopes', async () => {
    const b = suite.bucket();
    await publishEntry(suite.nc, await signEntry(entryOf(portal, 'Employers portal'), suite.anchorKey), b);
    await publishEntry(
      suite.nc,
      await signEntry(entryOf(region, 'Brussels Economy and Employment'), suite.anchorKey),
      b,
    );
    const directory = await suite.client(b);
    expect(directory.list().map((e) => e.id)).toEqual(['portal-demo', 'region-bruxelles']);
    expect(directory.get('region-bruxelles')?.kind).toBe('regional-authority');
    const recipientKey = await directory.resolve('region-bruxelles', 'enc', new Date());
    const env = await sealEnvelope({ meta: meta(), payload: { x: 1 }, sender: portal, recipientKey });
    expect(
      (await openEnvelope(JSON.stringify(env), { recipient: region, resolver: directory })).payload,
    ).toEqual({ x: 1 });
    await expect(directory.resolve('commune-21004', 'sig', new Date())).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_SENDER',
    });
    await directory.close();
  });

  test('directory - unsigned, foreign-signed, misfiled and rolled-back entries are refused; updates arrive by watch', async () => {
    const b = suite.bucket();
    const rejected: string[] = [];
    const directory = await suite.client(b, {
      onRejected: (r) => rejected.push(`${r.key}:${(r.error as { code?: string }).code}`),
    });
    const kv = await openDirectoryBucket(suite.nc, b);
    const impostor = await generateKey('sig', { kid: suite.anchor.kid }); // same kid, other key
    const entry = entryOf(portal, 'Employers portal', new Date('2026-01-01T00:00:00Z'));
    await kv.put('portal-demo', JSON.stringify(entry));
    await kv.put('portal-demo', await signEntry(entry, impostor));
    await kv.put('portal-demo', await signCompact(entry, suite.anchorKey, { typ: 'pex-receipt+jws' }));
    const misfiled = await kv.put('region-bruxelles', await signEntry(entry, suite.anchorKey));
    await directory.waitForRevision(misfiled);
    expect(directory.get('portal-demo')).toBeUndefined();
    expect(directory.get('region-bruxelles')).toBeUndefined();
    expect(rejected).toEqual([
      'portal-demo:ERR_DIRECTORY_ENTRY_INVALID',
      'portal-demo:ERR_DIRECTORY_ENTRY_INVALID',
      'portal-demo:ERR_DIRECTORY_ENTRY_INVALID',
      'region-bruxelles:ERR_DIRECTORY_ENTRY_INVALID',
    ]);
    const good = await publishEntry(kv, await signEntry(entry, suite.anchorKey));
    await directory.waitForRevision(good);
    expect(directory.get('portal-demo')?.name).toBe('Employers portal');
    // an older, validly signed entry replayed by whoever runs NATS does not replace the newer one
    const older = await publishEntry(
      kv,
      await signEntry({ ...entry, name: 'Old name', updatedAt: '2025-01-01T00:00:00Z' }, suite.anchorKey),
    );
    await directory.waitForRevision(older);
    expect(directory.get('portal-demo')?.name).toBe('Employers portal');
    // an unsigned deletion does not erase a participant
    const del = (await kv.delete('portal-demo'), (await kv.status()).values);
    await directory.waitForRevision(del);
    expect(directory.get('portal-demo')).toBeDefined();
    expect(rejected).toHaveLength(5);
    await directory.close();
  });

  test('directory - an entry whose signature is respelled (unused base64url bits set) is refused', async () => {
    const signed = await signEntry(entryOf(portal, 'Employers portal'), suite.anchorKey);
    await expect(verifyEntry(signed, suite.anchor, 'portal-demo')).resolves.toMatchObject({
      id: 'portal-demo',
    });
    // the last character of an ES256 signature (86 characters) has four unused bits: the same signature
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelled = signed.slice(0, -1) + alphabet[alphabet.indexOf(signed.slice(-1)) | 1];
    await expect(verifyEntry(respelled, suite.anchor, 'portal-demo')).rejects.toMatchObject({
      code: 'ERR_DIRECTORY_ENTRY_INVALID',
    });
  });

  test('directory - rotation: an old-key message issued before notAfter still opens; the old key is refused after it', async () => {
    const b = suite.bucket();
    const t0 = Date.now();
    const rotation = new Date(t0 - 60_000).toISOString();
    const oldSig = { ...portal.signing, notAfter: rotation };
    const newSig = await generateKey('sig', {
      kidPrefix: 'portal-demo',
      notBefore: new Date(t0 - 3_600_000).toISOString(),
    });
    const directory = await suite.client(b);
    await publishEntry(suite.nc, await signEntry(entryOf(region, 'Brussels'), suite.anchorKey), b);
    // before the rotation: only the old key
    const before = new Date(t0 - 120_000);
    let rev = await publishEntry(
      suite.nc,
      await signEntry(
        makeEntry('portal-demo', 'Portal', [portal.signing], portal.encryption, before),
        suite.anchorKey,
      ),
      b,
    );
    await directory.waitForRevision(rev);
    const recipientKey = await directory.resolve('region-bruxelles', 'enc', new Date());
    const oldMessage = await sealEnvelope({
      meta: meta({ issuedAt: before.toISOString() }),
      payload: 'old',
      sender: portal,
      recipientKey,
    });
    // the rotation: old key closed at `rotation`, new key valid
    rev = await publishEntry(
      suite.nc,
      await signEntry(
        makeEntry('portal-demo', 'Portal', [oldSig, newSig], portal.encryption),
        suite.anchorKey,
      ),
      b,
    );
    await directory.waitForRevision(rev);
    const opened = await openEnvelope(JSON.stringify(oldMessage), {
      recipient: region,
      resolver: directory,
      freshnessMs: Infinity,
    });
    expect(opened.payload).toBe('old');
    const late = await sealEnvelope({ meta: meta(), payload: 'late', sender: portal, recipientKey });
    const err = await openEnvelope(JSON.stringify(late), { recipient: region, resolver: directory }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EnvelopeError);
    expect((err as EnvelopeError).code).toBe('ERR_KEY_NOT_VALID_AT');
    const rotated = { ...portal, signing: newSig };
    const fresh = await sealEnvelope({ meta: meta(), payload: 'new', sender: rotated, recipientKey });
    expect(
      (await openEnvelope(JSON.stringify(fresh), { recipient: region, resolver: directory })).payload,
    ).toBe('new');
    await directory.close();
  });

  test('directory - export to a file and load it offline; a tampered file is refused', async () => {
    const b = suite.bucket();
    await publishEntry(suite.nc, await signEntry(entryOf(portal, 'Portal'), suite.anchorKey), b);
    await publishEntry(suite.nc, await signEntry(entryOf(region, 'Brussels'), suite.anchorKey), b);
    const directory = await suite.client(b);
    const dir = await mkdtemp(join(tmpdir(), 'pex-dir-'));
    const file = join(dir, 'directory.json');
    await writeDirectoryFile(file, exportDirectory(directory.signedEntries(), suite.anchor));
    await directory.close();
    const offline = await loadDirectoryFile(file, suite.anchor);
    expect(offline.list().map((e) => e.id)).toEqual(['portal-demo', 'region-bruxelles']);
    const env = await sealEnvelope({
      meta: meta(),
      payload: 1,
      sender: portal,
      recipientKey: await offline.resolve('region-bruxelles', 'enc', new Date()),
    });
    await expect(verifySeal(JSON.stringify(env), { resolver: offline })).resolves.toMatchObject({
      kid: portal.signing.kid,
    });
    const data = JSON.parse(await readFile(file, 'utf8'));
    const forged = await signEntry(
      { ...entryOf(region, 'Brussels'), encryption: [toPublicJwk(portal.encryption[0]!)] },
      await generateKey('sig'),
    );
    data.entries[1] = forged;
    await writeFile(file, JSON.stringify(data));
    await expect(loadDirectoryFile(file, suite.anchor)).rejects.toMatchObject({
      code: 'ERR_DIRECTORY_FILE_INVALID',
    });
    await expect(loadDirectoryFile(join(dir, 'missing.json'), suite.anchor)).rejects.toMatchObject({
      code: 'ERR_DIRECTORY_FILE_INVALID',
    });
  });

  test('directory - key files are written 0600, refused when readable by others, and signEntry refuses private keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pex-keys-'));
    const { privatePath, publicPath } = await writeParticipantKeys(join(dir, 'portal-demo'), portal);
    expect((await stat(privatePath)).mode & 0o777).toBe(0o600);
    expect(await readFile(publicPath, 'utf8')).not.toContain(portal.signing.d);
    expect(await loadParticipantKeys(join(dir, 'portal-demo'))).toEqual(portal);
    await expect(writeParticipantKeys(join(dir, 'portal-demo'), portal)).rejects.toThrow(/EEXIST/);
    await chmod(privatePath, 0o644);
    const err = await loadParticipantKeys(join(dir, 'portal-demo')).catch((e: unknown) => e);
    expect(isPasserelleError(err, 'ERR_KEY_FILE_INVALID')).toBe(true);
    expect(String((err as Error).message)).not.toContain(portal.signing.d);
    const anchorFiles = await writeAnchor(join(dir, 'anchor'));
    expect((await stat(anchorFiles.privatePath)).mode & 0o777).toBe(0o600);
    const withPrivate = { ...entryOf(portal, 'Portal'), signing: [portal.signing] };
    await expect(signEntry(withPrivate, suite.anchorKey)).rejects.toMatchObject({
      code: 'ERR_DIRECTORY_ENTRY_INVALID',
    });
  });
});
