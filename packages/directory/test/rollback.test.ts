import { chmod, mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ParticipantKeys,
  type PrivateJwk,
  generateKey,
  generateParticipantKeys,
  toPublicJwk,
} from '@passerelle/envelope';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  type DirectoryClient,
  type RejectedEntry,
  createDirectoryClient,
  exportDirectory,
  makeEntry,
  publishNextEntry,
  writeDirectoryFile,
} from '../src/index.js';
import { openDirectoryBucket, publishEntry, signEntry } from '../src/internal.js';
import { useAnchoredDirectory } from './fixtures.js';

const PORTAL = 'portal-demo';

/**
 * Whoever runs the NATS servers can store any bytes in the directory bucket, including an entry the anchor
 * signed before a rotation. These tests put such an entry back with a raw `kv.put` and check that no host
 * that has seen the newer entry goes back to the older key.
 */
describe('directory rollback', () => {
  const suite = useAnchoredDirectory('directory-rollback');
  let portal: ParticipantKeys;
  let newSigning: PrivateJwk;
  const stateDir = () => mkdtemp(join(tmpdir(), 'pex-dir-state-'));

  beforeAll(async () => {
    portal = await generateParticipantKeys(PORTAL);
    newSigning = await generateKey('sig', { kidPrefix: PORTAL });
  });

  /**
   * The portal's entry before its signing key was rotated (version 1, the old key only) and after it
   * (version 2, the new key only: the old one is revoked), signed by the anchor, both published.
   */
  async function rotated(b: string): Promise<{ before: string; after: string; revision: number }> {
    const t = Date.now();
    const before = await signEntry(
      makeEntry(PORTAL, 'Portal', [portal.signing], portal.encryption, new Date(t - 60_000), 1),
      suite.anchorKey,
    );
    const after = await signEntry(
      makeEntry(PORTAL, 'Portal', [newSigning], portal.encryption, new Date(t), 2),
      suite.anchorKey,
    );
    await publishEntry(suite.nc, before, b);
    const revision = await publishEntry(suite.nc, after, b);
    return { before, after, revision };
  }

  /** A client of bucket `b` keeping its state in `stateFile`, and the entries it has rejected so far. */
  async function reportingClient(
    b: string,
    stateFile: string,
  ): Promise<{ client: DirectoryClient; reported: RejectedEntry[] }> {
    const reported: RejectedEntry[] = [];
    const client = await suite.client(b, { stateFile, onRejected: (r) => reported.push(r) });
    return { client, reported };
  }

  const signingKid = (d: DirectoryClient): Promise<string> =>
    d.resolve(PORTAL, 'sig', new Date()).then((k) => k.kid);
  const codes = (rejected: RejectedEntry[]): (string | undefined)[] =>
    rejected.map((r) => (r.error as { code?: string }).code);

  test('directory rollback - a client restarted on its state file refuses the older entry put back into the KV, and keeps the new key', async () => {
    const b = suite.bucket();
    const stateFile = join(await stateDir(), 'directory-state.json');
    const first = await suite.client(b, { stateFile });
    const { before, revision } = await rotated(b);
    await first.waitForRevision(revision);
    expect(await signingKid(first)).toBe(newSigning.kid);
    await first.close();
    expect((await stat(stateFile)).mode & 0o777).toBe(0o600);

    // whoever runs NATS puts the entry from before the rotation back, and waits for a restart
    const kv = await openDirectoryBucket(suite.nc, b);
    await kv.put(PORTAL, before);

    const { client: restarted, reported } = await reportingClient(b, stateFile);
    expect(codes(reported)).toContain('ERR_DIRECTORY_ROLLBACK');
    const rollback = reported.find((r) => codes([r])[0] === 'ERR_DIRECTORY_ROLLBACK')!;
    expect(rollback.key).toBe(PORTAL);
    expect(rollback.error.message).toContain(PORTAL);
    expect(rollback.error.message).toMatch(/version 1\b.*version 2\b/);
    expect((rollback.error as { details?: unknown }).details).toMatchObject({
      participantId: PORTAL,
      offeredVersion: 1,
      acceptedVersion: 2,
    });
    expect(restarted.get(PORTAL)?.version).toBe(2);
    expect(await signingKid(restarted)).toBe(newSigning.kid);
    // the revoked key stays refused
    await expect(restarted.resolve(PORTAL, 'sig', new Date(), portal.signing.kid)).rejects.toMatchObject({
      code: 'ERR_KEY_NOT_FOUND',
    });
    await restarted.close();
  });

  test('directory rollback - a watching client refuses the older entry live and keeps the new key', async () => {
    const b = suite.bucket();
    const stateFile = join(await stateDir(), 'directory-state.json');
    const { client: watching, reported } = await reportingClient(b, stateFile);
    const { before, revision } = await rotated(b);
    await watching.waitForRevision(revision);
    expect(reported).toEqual([]);
    const kv = await openDirectoryBucket(suite.nc, b);
    const rolledBack = await kv.put(PORTAL, before);
    await watching.waitForRevision(rolledBack);
    expect(codes(reported)).toEqual(['ERR_DIRECTORY_ROLLBACK']);
    expect(reported[0]).toMatchObject({ key: PORTAL, revision: rolledBack });
    expect(await signingKid(watching)).toBe(newSigning.kid);
    await watching.close();
    // what the watching client accepted is what the state file holds
    const persisted = JSON.parse(await readFile(stateFile, 'utf8')) as { entries: string[] };
    expect(persisted.entries).toHaveLength(1);
  });

  test('directory rollback - a fresh host trusts the newest entry it sees; a state file seeded from an export closes the first start too', async () => {
    const b = suite.bucket();
    const { before, after } = await rotated(b);
    const kv = await openDirectoryBucket(suite.nc, b);
    await kv.put(PORTAL, before);

    // no state: the newest entry in the bucket's history wins, the current value is refused as older
    const fresh = await suite.client(b);
    expect(await signingKid(fresh)).toBe(newSigning.kid);
    expect(codes(fresh.rejected())).toEqual(['ERR_DIRECTORY_ROLLBACK']);
    await fresh.close();

    // whoever runs NATS also erases the history: a first start without state can only trust what it sees
    await kv.purge(PORTAL);
    await kv.put(PORTAL, before);
    const blind = await suite.client(b);
    expect(await signingKid(blind)).toBe(portal.signing.kid);
    await blind.close();

    // the operator seeds the host's state file from an offline export made on a trusted host
    const stateFile = join(await stateDir(), 'directory-state.json');
    await writeDirectoryFile(stateFile, exportDirectory([after], suite.anchor));
    const seeded = await suite.client(b, { stateFile });
    expect(codes(seeded.rejected())).toEqual(['ERR_DIRECTORY_ROLLBACK']);
    expect(await signingKid(seeded)).toBe(newSigning.kid);
    await seeded.close();
  });

  test('directory rollback - a state file signed for another anchor, or writable by others, is refused at start', async () => {
    const b = suite.bucket();
    const { after } = await rotated(b);
    const dir = await stateDir();
    const foreign = join(dir, 'foreign.json');
    const other = toPublicJwk(await generateKey('sig', { kidPrefix: 'anchor' }));
    await writeDirectoryFile(foreign, exportDirectory([after], other));
    await expect(
      createDirectoryClient({ nc: suite.nc, anchor: other, bucket: b, stateFile: foreign }),
    ).rejects.toMatchObject({ code: 'ERR_DIRECTORY_FILE_INVALID' });
    const open = join(dir, 'open.json');
    await writeDirectoryFile(open, exportDirectory([after], suite.anchor));
    await chmod(open, 0o666);
    await expect(suite.client(b, { stateFile: open })).rejects.toMatchObject({
      code: 'ERR_DIRECTORY_FILE_INVALID',
    });
  });

  test('directory rollback - the anchor tooling gives each entry one more than the highest version in the bucket', async () => {
    const b = suite.bucket();
    const entry = () => makeEntry(PORTAL, 'Portal', [portal.signing], portal.encryption);
    const one = await publishNextEntry(suite.nc, entry(), suite.anchorKey, { bucket: b });
    const two = await publishNextEntry(suite.nc, entry(), suite.anchorKey, { bucket: b });
    expect([one.version, two.version]).toEqual([1, 2]);
    // an older entry put back does not make the tooling reuse a version a host may have accepted
    const kv = await openDirectoryBucket(suite.nc, b);
    const history: string[] = [];
    for await (const e of await kv.history({ key: PORTAL })) history.push(e.string());
    await kv.put(PORTAL, history[0]!);
    const three = await publishNextEntry(suite.nc, entry(), suite.anchorKey, { bucket: b });
    expect(three.version).toBe(3);
    const client = await suite.client(b);
    expect(client.get(PORTAL)?.version).toBe(3);
    await client.close();
  });
});
