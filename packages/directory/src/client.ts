import { type KV, Kvm, KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type KeyResolver, type KeyUse, type PublicJwk, selectKey } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import { type ParticipantEntry, type SignedEntry, entryKeys, verifyEntry } from './entry.js';

/** Default name of the directory's KV bucket. */
export const DIRECTORY_BUCKET = 'directory';

/** A KV entry the client refused, with the reason (for alerts). */
export interface RejectedEntry {
  key: string;
  revision: number;
  error: Error;
}

/** Options of {@link createDirectoryClient}. */
export interface DirectoryClientOptions {
  nc: NatsConnection;
  /** The trust anchor's public key, distributed out of band. */
  anchor: PublicJwk;
  bucket?: string;
  /** Called for every entry that is not signed by the anchor, malformed, or older than the cached one. */
  onRejected?: (rejected: RejectedEntry) => void;
}

/** A cached, self-updating view of the directory that resolves keys for envelopes. */
export interface DirectoryClient extends KeyResolver {
  get(id: string): ParticipantEntry | undefined;
  /** The signed form of every cached entry, for {@link exportDirectory}. */
  signedEntries(): SignedEntry[];
  list(): ParticipantEntry[];
  /** Entries refused so far (most recent last, at most 100). */
  rejected(): RejectedEntry[];
  /** Resolves once the cache holds revision `revision` of the bucket or newer (after a publish). */
  waitForRevision(revision: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the directory bucket, creating it when absent. An existing bucket is opened as it is: on a secured
 * server a participant's account holds a read-only mirror of the operator's bucket, which it may not change.
 */
export async function openDirectoryBucket(nc: NatsConnection, bucket = DIRECTORY_BUCKET): Promise<KV> {
  const kvm = new Kvm(nc);
  const existing = await kvm.open(bucket);
  const found = await existing.status().then(
    () => true,
    () => false,
  );
  return found ? existing : kvm.create(bucket, { history: 10 });
}

/**
 * Publishes a signed entry under its participant id. The signature is checked against nothing here:
 * clients check it; pass entries made by {@link signEntry}. Returns the KV revision.
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
  const kv = 'put' in target && 'watch' in target ? target : await openDirectoryBucket(target, bucket);
  const payload = JSON.parse(Buffer.from(signed.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    id?: unknown;
  };
  if (typeof payload.id !== 'string') {
    throw new PasserelleError('ERR_DIRECTORY_ENTRY_INVALID', 'The signed entry has no participant id.');
  }
  return kv.put(payload.id, signed);
}

/**
 * Loads every entry of the directory bucket, keeps those signed by the trust anchor, and follows
 * updates. Implements {@link KeyResolver} from its cache, so resolving a key costs no round trip.
 *
 * @example
 * ```ts
 * const directory = await createDirectoryClient({ nc, anchor });
 * const opened = await openEnvelope(data, { recipient: myKeys, resolver: directory });
 * ```
 */
export async function createDirectoryClient(options: DirectoryClientOptions): Promise<DirectoryClient> {
  const kv = await openDirectoryBucket(options.nc, options.bucket);
  const cache = new Map<string, { entry: ParticipantEntry; revision: number; signed: SignedEntry }>();
  const rejected: RejectedEntry[] = [];
  let revision = 0;
  const waiters: { revision: number; resolve: () => void }[] = [];

  const reject = (key: string, rev: number, error: Error): void => {
    const r = { key, revision: rev, error };
    rejected.push(r);
    if (rejected.length > 100) rejected.shift();
    options.onRejected?.(r);
  };
  const seen = (rev: number): void => {
    revision = Math.max(revision, rev);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i] as { revision: number; resolve: () => void };
      if (w.revision <= revision) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  const apply = async (key: string, rev: number, operation: string, value: Uint8Array): Promise<void> => {
    try {
      // deletions are not signed: whoever runs NATS could otherwise erase a participant; a participant is
      // retired by a signed entry whose keys expire
      if (operation !== 'PUT') return;
      const current = cache.get(key);
      if (current && current.revision >= rev) return;
      const signed = Buffer.from(value).toString('utf8');
      const entry = await verifyEntry(signed, options.anchor, key);
      if (current && Date.parse(entry.updatedAt) < Date.parse(current.entry.updatedAt)) {
        reject(
          key,
          rev,
          new PasserelleError(
            'ERR_DIRECTORY_ENTRY_INVALID',
            `Directory entry ${key}: older than the cached one (rollback).`,
          ),
        );
        return;
      }
      cache.set(key, { entry, revision: rev, signed });
    } catch (err) {
      reject(key, rev, err as Error);
    } finally {
      seen(rev);
    }
  };

  // watch first, then load, so no update falls between the two; revisions order the duplicates
  const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
  const following = (async () => {
    for await (const e of watcher) await apply(e.key, e.revision, e.operation, e.value);
  })().catch((err: unknown) => {
    // the connection went away: keep serving the cache rather than crash on an unhandled rejection
    reject('*', revision, err instanceof Error ? err : new Error(String(err)));
  });
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  for (const k of keys) {
    const e = await kv.get(k);
    if (e) await apply(e.key, e.revision, e.operation, e.value);
  }

  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- a Promise-returning contract; throws become rejections
    async resolve(participantId: string, use: KeyUse, at: Date, kid?: string): Promise<PublicJwk> {
      const cached = cache.get(participantId);
      if (!cached) {
        throw new PasserelleError(
          'ERR_UNKNOWN_SENDER',
          `${participantId.slice(0, 64)} is not in the directory.`,
          {
            details: { participantId: participantId.slice(0, 64) },
          },
        );
      }
      return selectKey(entryKeys(cached.entry), use, at, kid);
    },
    get: (id) => cache.get(id)?.entry,
    signedEntries: () => [...cache.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, c]) => c.signed),
    list: () => [...cache.values()].map((c) => c.entry).sort((a, b) => a.id.localeCompare(b.id)),
    rejected: () => [...rejected],
    waitForRevision(rev: number, timeoutMs = 5_000): Promise<void> {
      if (revision >= rev) return Promise.resolve();
      return new Promise((resolve, rejectWait) => {
        const timer = setTimeout(
          () => rejectWait(new Error(`directory revision ${rev} not seen within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({ revision: rev, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    async close(): Promise<void> {
      watcher.stop();
      await following;
    },
  };
}
