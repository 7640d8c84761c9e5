import { KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type KeyResolver, type KeyUse, type PublicJwk, selectKey } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import { openDirectoryBucket } from './bucket.js';
import { DirectoryError } from './directory-error.js';
import { loadDirectoryState, saveDirectoryState } from './directory-state.js';
import {
  type ParticipantEntry,
  type SignedEntry,
  compareEntries,
  entryKeys,
  entryVersion,
  verifyEntry,
} from './entry.js';
import { type StoredRevision, newestEntry } from './newest-entry.js';

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
  /**
   * The host's directory state file: the entries it has accepted, written (mode 0600, atomically) each time
   * it accepts one and read at start, so that a restarted host refuses an entry older than one it accepted
   * before (`ERR_DIRECTORY_ROLLBACK`). A missing file is a first start: the newest entry the bucket's history
   * holds is trusted. A directory export from a trusted host seeds it. Without this option the floor lasts as
   * long as the process. One file per process.
   */
  stateFile?: string;
  /**
   * Called for every entry that is not signed by the anchor, malformed, or older than the accepted one
   * (`ERR_DIRECTORY_ROLLBACK`, naming the participant and both versions).
   */
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

interface Accepted {
  entry: ParticipantEntry;
  signed: SignedEntry;
}

/** The refusal of an entry older than the one accepted for the participant. */
function rollback(id: string, offered: ParticipantEntry, accepted: ParticipantEntry): DirectoryError {
  const [o, a] = [entryVersion(offered), entryVersion(accepted)];
  const what =
    o === a
      ? `version ${o} of ${offered.updatedAt} is not newer than version ${a} of ${accepted.updatedAt}`
      : `version ${o} is older than version ${a}`;
  return new DirectoryError(
    'ERR_DIRECTORY_ROLLBACK',
    `Directory entry ${id}: ${what}, which this host has accepted (rollback); refused.`,
    { details: { participantId: id, offeredVersion: o, acceptedVersion: a } },
  );
}

/**
 * Loads the directory bucket, keeps the newest entry the trust anchor signed for each participant, and
 * follows updates. An entry older (by version, then `updatedAt`) than the one accepted — in this process,
 * or before a restart with `stateFile` — is refused with `ERR_DIRECTORY_ROLLBACK` and reported. Implements
 * {@link KeyResolver} from its cache, so resolving a key costs no round trip.
 *
 * @example
 * ```ts
 * const directory = await createDirectoryClient({ nc, anchor, stateFile: '/var/lib/pex/directory-state.json' });
 * const opened = await openEnvelope(data, { recipient: myKeys, resolver: directory });
 * ```
 */
export async function createDirectoryClient(options: DirectoryClientOptions): Promise<DirectoryClient> {
  const { anchor, stateFile } = options;
  const kv = await openDirectoryBucket(options.nc, options.bucket);
  const cache = new Map<string, Accepted>(stateFile ? await loadDirectoryState(stateFile, anchor) : []);
  /** The highest bucket revision judged per participant, so that a revision seen twice is judged once. */
  const judged = new Map<string, number>();
  const rejected: RejectedEntry[] = [];
  let revision = 0;
  let loading = true;
  const waiters: { revision: number; resolve: () => void }[] = [];

  let saving: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    if (!stateFile) return Promise.resolve();
    const next = saving.then(() => saveDirectoryState(stateFile, [...cache.values()], anchor));
    saving = next.catch(() => undefined);
    return next;
  };

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
  /** Accepts `candidate` unless it is not newer than the accepted entry; throws the reason otherwise. */
  const consider = async (key: string, candidate: Accepted): Promise<void> => {
    const current = cache.get(key);
    if (current?.signed === candidate.signed) return;
    if (current && compareEntries(candidate.entry, current.entry) <= 0)
      throw rollback(key, candidate.entry, current.entry);
    cache.set(key, candidate);
    if (loading) return; // written once the whole bucket is read
    try {
      await persist();
    } catch (err) {
      // an entry this host could not remember across a restart is not used
      if (current) cache.set(key, current);
      else cache.delete(key);
      throw err;
    }
  };
  const apply = async (key: string, rev: number, operation: string, signed: string): Promise<void> => {
    try {
      // deletions are not signed: whoever runs NATS could otherwise erase a participant; a participant is
      // retired by a signed entry whose keys expire
      if (operation !== 'PUT' || (judged.get(key) ?? 0) >= rev) return;
      judged.set(key, rev);
      await consider(key, { entry: await verifyEntry(signed, anchor, key), signed });
    } catch (err) {
      reject(key, rev, err as Error);
    } finally {
      seen(rev);
    }
  };
  const text = (value: Uint8Array): string => Buffer.from(value).toString('utf8');

  // watch first, then load, so no update falls between the two; revisions order the duplicates
  const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
  const following = (async () => {
    for await (const e of watcher) await apply(e.key, e.revision, e.operation, text(e.value));
  })().catch((err: unknown) => {
    // the connection went away: keep serving the cache rather than crash on an unhandled rejection
    reject('*', revision, err instanceof Error ? err : new Error(String(err)));
  });
  // Every stored revision (the bucket keeps 10 per participant): the newest the anchor signed is accepted,
  // so that an older entry put back as the current value does not hide it, then the current value is judged.
  const history = new Map<string, StoredRevision[]>();
  let top = 0;
  for await (const e of await kv.history()) {
    top = Math.max(top, e.revision);
    if (e.operation !== 'PUT') continue;
    const revisions = history.get(e.key) ?? [];
    revisions.push({ revision: e.revision, signed: text(e.value) });
    history.set(e.key, revisions);
  }
  for (const [key, revisions] of history) {
    const newest = await newestEntry(key, revisions, anchor);
    const current = cache.get(key);
    // the watch may have accepted a later revision meanwhile: an older history entry is then no news
    const overtaken =
      current !== undefined &&
      newest !== undefined &&
      (judged.get(key) ?? 0) >= newest.revision &&
      compareEntries(newest.entry, current.entry) <= 0;
    if (newest && !overtaken) {
      try {
        await consider(key, newest);
      } catch (err) {
        reject(key, newest.revision, err as Error);
      }
    }
    const latest = revisions[revisions.length - 1] as StoredRevision;
    if (latest.revision === newest?.revision)
      judged.set(key, Math.max(judged.get(key) ?? 0, latest.revision));
    else await apply(key, latest.revision, 'PUT', latest.signed);
  }
  seen(top);
  loading = false;
  try {
    // what this start accepted is the floor of the next one; a state file that cannot be written stops it
    await persist();
  } catch (err) {
    watcher.stop();
    await following;
    throw err;
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
      await saving;
    },
  };
}
