import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type PrivateJwk, toPublicJwk } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import { DIRECTORY_BUCKET, openDirectoryBucket } from './bucket.js';
import { type ParticipantEntry, type SignedEntry, entryVersion, signEntry } from './entry.js';
import { type StoredRevision, newestEntry } from './newest-entry.js';

async function bucketOf(target: NatsConnection | KV, bucket: string): Promise<KV> {
  return 'put' in target && 'watch' in target ? target : openDirectoryBucket(target, bucket);
}

/**
 * Puts a signed entry under its participant id as it is. The signature is checked against nothing here:
 * clients check it. The anchor's tooling publishes with {@link publishNextEntry}, which also versions the
 * entry. Returns the KV revision.
 *
 * @example
 * ```ts
 * await publishEntry(nc, await signEntry(entry, anchorKey));
 * ```
 */
export async function publishEntry(
  target: NatsConnection | KV,
  signed: SignedEntry,
  bucket = DIRECTORY_BUCKET,
): Promise<number> {
  const kv = await bucketOf(target, bucket);
  const payload = JSON.parse(Buffer.from(signed.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    id?: unknown;
  };
  if (typeof payload.id !== 'string') {
    throw new PasserelleError('ERR_DIRECTORY_ENTRY_INVALID', 'The signed entry has no participant id.');
  }
  return kv.put(payload.id, signed);
}

/** What {@link publishNextEntry} published. */
export interface PublishedEntry {
  id: string;
  /** The version the entry was signed with. */
  version: number;
  /** The KV revision it was stored at. */
  revision: number;
  signed: SignedEntry;
}

/**
 * Signs `entry` with the trust anchor's key under the next version — one more than the highest version
 * the anchor signed among the participant's stored revisions, so an older entry put back as the current
 * value does not make a version be used twice — and stores it with compare-and-set on the participant's
 * last revision (another publisher in between: read again and retry).
 *
 * @example
 * ```ts
 * const { version } = await publishNextEntry(nc, makeEntry(id, name, signing, encryption), anchorKey);
 * ```
 */
export async function publishNextEntry(
  target: NatsConnection | KV,
  entry: ParticipantEntry,
  anchorKey: PrivateJwk,
  options: { bucket?: string } = {},
): Promise<PublishedEntry> {
  const kv = await bucketOf(target, options.bucket ?? DIRECTORY_BUCKET);
  const anchor = toPublicJwk(anchorKey);
  for (let attempt = 1; ; attempt++) {
    const revisions: StoredRevision[] = [];
    let last = 0;
    for await (const e of await kv.history({ key: entry.id })) {
      last = e.revision;
      if (e.operation === 'PUT') revisions.push({ revision: e.revision, signed: e.string() });
    }
    const newest = await newestEntry(entry.id, revisions, anchor);
    const version = (newest ? entryVersion(newest.entry) : 0) + 1;
    const signed = await signEntry({ ...entry, version }, anchorKey);
    try {
      const revision =
        last === 0 ? await kv.create(entry.id, signed) : await kv.update(entry.id, signed, last);
      return { id: entry.id, version, revision, signed };
    } catch (err) {
      // the participant's entry changed between the read and the write
      if (attempt >= 5) throw err;
    }
  }
}
