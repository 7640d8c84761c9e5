import { type KV, KvWatchInclude } from '@nats-io/kv';
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

const text = (value: Uint8Array): string => Buffer.from(value).toString('utf8');

/**
 * The client's cache and its judgement of entries, as one object: the watch, the initial load and the
 * readers all share the accepted entries, the revisions judged and the waiters on a revision.
 */
class CachedDirectory implements DirectoryClient {
  readonly #anchor: PublicJwk;
  readonly #stateFile: string | undefined;
  readonly #onRejected: ((rejected: RejectedEntry) => void) | undefined;
  readonly #cache: Map<string, Accepted>;
  /** The highest bucket revision judged per participant, so that a revision seen twice is judged once. */
  readonly #judged = new Map<string, number>();
  readonly #rejected: RejectedEntry[] = [];
  readonly #waiters: { revision: number; resolve: () => void }[] = [];
  #revision = 0;
  #loading = true;
  #saving: Promise<void> = Promise.resolve();
  #watcher: { stop(): void } | undefined;
  #following: Promise<void> = Promise.resolve();

  constructor(options: DirectoryClientOptions, accepted: Iterable<[string, Accepted]>) {
    this.#anchor = options.anchor;
    this.#stateFile = options.stateFile;
    this.#onRejected = options.onRejected;
    this.#cache = new Map(accepted);
  }

  #persist(): Promise<void> {
    const stateFile = this.#stateFile;
    if (!stateFile) return Promise.resolve();
    const next = this.#saving.then(() =>
      saveDirectoryState(stateFile, [...this.#cache.values()], this.#anchor),
    );
    this.#saving = next.catch(() => undefined);
    return next;
  }

  #reject(key: string, rev: number, error: Error): void {
    const r = { key, revision: rev, error };
    this.#rejected.push(r);
    if (this.#rejected.length > 100) this.#rejected.shift();
    this.#onRejected?.(r);
  }

  #seen(rev: number): void {
    this.#revision = Math.max(this.#revision, rev);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const w = this.#waiters[i] as { revision: number; resolve: () => void };
      if (w.revision <= this.#revision) {
        this.#waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Accepts `candidate` unless it is not newer than the accepted entry; throws the reason otherwise. */
  async #consider(key: string, candidate: Accepted): Promise<void> {
    const current = this.#cache.get(key);
    if (current?.signed === candidate.signed) return;
    if (current && compareEntries(candidate.entry, current.entry) <= 0)
      throw rollback(key, candidate.entry, current.entry);
    this.#cache.set(key, candidate);
    if (this.#loading) return; // written once the whole bucket is read
    try {
      await this.#persist();
    } catch (err) {
      // an entry this host could not remember across a restart is not used
      if (current) this.#cache.set(key, current);
      else this.#cache.delete(key);
      throw err;
    }
  }

  async #apply(key: string, rev: number, operation: string, signed: string): Promise<void> {
    try {
      // deletions are not signed: whoever runs NATS could otherwise erase a participant; a participant is
      // retired by a signed entry whose keys expire
      if (operation !== 'PUT' || (this.#judged.get(key) ?? 0) >= rev) return;
      this.#judged.set(key, rev);
      await this.#consider(key, { entry: await verifyEntry(signed, this.#anchor, key), signed });
    } catch (err) {
      this.#reject(key, rev, err as Error);
    } finally {
      this.#seen(rev);
    }
  }

  /** Follows the bucket's updates; started before {@link load}, so no update falls between the two. */
  async follow(kv: KV): Promise<void> {
    const watcher = await kv.watch({ include: KvWatchInclude.UpdatesOnly });
    this.#watcher = watcher;
    this.#following = (async () => {
      for await (const e of watcher) await this.#apply(e.key, e.revision, e.operation, text(e.value));
    })().catch((err: unknown) => {
      // the connection went away: keep serving the cache rather than crash on an unhandled rejection
      this.#reject('*', this.#revision, err instanceof Error ? err : new Error(String(err)));
    });
  }

  /**
   * Reads every stored revision (the bucket keeps 10 per participant): the newest the anchor signed is
   * accepted, so that an older entry put back as the current value does not hide it, then the current
   * value is judged. What this start accepted is the floor of the next one: a state file that cannot be
   * written stops it.
   */
  async load(kv: KV): Promise<void> {
    const history = new Map<string, StoredRevision[]>();
    let top = 0;
    for await (const e of await kv.history()) {
      top = Math.max(top, e.revision);
      if (e.operation !== 'PUT') continue;
      const revisions = history.get(e.key) ?? [];
      revisions.push({ revision: e.revision, signed: text(e.value) });
      history.set(e.key, revisions);
    }
    for (const [key, revisions] of history) await this.#loadParticipant(key, revisions);
    this.#seen(top);
    this.#loading = false;
    try {
      await this.#persist();
    } catch (err) {
      this.#watcher?.stop();
      await this.#following;
      throw err;
    }
  }

  /** Judges one participant's stored revisions: the newest signed one, then the current value. */
  async #loadParticipant(key: string, revisions: StoredRevision[]): Promise<void> {
    const newest = await newestEntry(key, revisions, this.#anchor);
    const current = this.#cache.get(key);
    // the watch may have accepted a later revision meanwhile: an older history entry is then no news
    const overtaken =
      current !== undefined &&
      newest !== undefined &&
      (this.#judged.get(key) ?? 0) >= newest.revision &&
      compareEntries(newest.entry, current.entry) <= 0;
    if (newest && !overtaken) {
      try {
        await this.#consider(key, newest);
      } catch (err) {
        this.#reject(key, newest.revision, err as Error);
      }
    }
    const latest = revisions[revisions.length - 1] as StoredRevision;
    if (latest.revision === newest?.revision)
      this.#judged.set(key, Math.max(this.#judged.get(key) ?? 0, latest.revision));
    else await this.#apply(key, latest.revision, 'PUT', latest.signed);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- a Promise-returning contract; throws become rejections
  async resolve(participantId: string, use: KeyUse, at: Date, kid?: string): Promise<PublicJwk> {
    const cached = this.#cache.get(participantId);
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
  }

  get(id: string): ParticipantEntry | undefined {
    return this.#cache.get(id)?.entry;
  }

  signedEntries(): SignedEntry[] {
    return [...this.#cache.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, c]) => c.signed);
  }

  list(): ParticipantEntry[] {
    return [...this.#cache.values()].map((c) => c.entry).sort((a, b) => a.id.localeCompare(b.id));
  }

  rejected(): RejectedEntry[] {
    return [...this.#rejected];
  }

  waitForRevision(rev: number, timeoutMs = 5_000): Promise<void> {
    if (this.#revision >= rev) return Promise.resolve();
    return new Promise((resolve, rejectWait) => {
      const timer = setTimeout(
        () => rejectWait(new Error(`directory revision ${rev} not seen within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#waiters.push({ revision: rev, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async close(): Promise<void> {
    this.#watcher?.stop();
    await this.#following;
    await this.#saving;
  }
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
  const kv = await openDirectoryBucket(options.nc, options.bucket);
  const { anchor, stateFile } = options;
  const directory = new CachedDirectory(
    options,
    stateFile ? await loadDirectoryState(stateFile, anchor) : [],
  );
  // watch first, then load, so no update falls between the two; revisions order the duplicates
  await directory.follow(kv);
  await directory.load(kv);
  return directory;
}
