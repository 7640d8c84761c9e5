import type { DossierChange, DossierStore } from './dossier-store.js';
import { type DossierRecord, type DossierState, isClosed } from './dossier-status.js';

/**
 * What the list of an integrator's dossiers shows of each: status fields only, the same the integrator
 * reads of it one by one (no history, no rulings' details).
 */
export interface DossierSummary {
  dossierId: string;
  category: string;
  procedure: 'first' | 'renewal';
  state: DossierState;
  closed: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The filters of the list: any of these states or categories, open or closed, updated since a time. */
export interface DossierFilter {
  state?: readonly string[];
  category?: readonly string[];
  closed?: boolean;
  updatedSince?: Date;
}

/** Where a page ends in the list's order (newest first): the last item's creation time and id. */
export type DossierPosition = [createdAt: string, dossierId: string];

interface Entry {
  revision: number;
  /** Absent once the dossier was removed (its revision kept, so that an older write does not bring it back). */
  owner?: string;
  summary?: DossierSummary;
}

function summaryOf(record: DossierRecord): DossierSummary {
  return {
    dossierId: record.dossierId,
    category: record.category,
    procedure: record.context.procedure ?? 'first',
    state: record.state,
    closed: isClosed(record),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** Whether `a` comes before `b` in the list: newest first, then by id, so that the order is total. */
function before(a: DossierPosition, b: DossierPosition): boolean {
  return a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
}

const positionOf = (s: DossierSummary): DossierPosition => [s.createdAt, s.dossierId];

/**
 * The portal's dossiers in memory, for listing and for deciding who reads a dossier's events: each one's
 * owner and status fields, kept from a watch of the dossier bucket (every instance sees every write) and
 * from this instance's own writes at once (an integrator lists the dossier it has just filed). A change
 * older than the one held is ignored, whichever way it came.
 */
export class DossierIndex {
  private readonly entries = new Map<string, Entry>();
  private readonly stopping = new AbortController();
  private done: Promise<void> = Promise.resolve();

  private constructor() {}

  /**
   * Loads every dossier, then follows the changes until {@link stop}.
   *
   * @example
   * ```ts
   * const index = await DossierIndex.open(dossiers);
   * index.list('acme-hr', { state: ['missing-items'] }, undefined, 20);
   * ```
   */
  static async open(
    store: DossierStore,
    /** Told when the watch ends before {@link stop}: the list then misses other instances' writes. */
    onFailure: (err: unknown) => void = () => undefined,
    /**
     * Follows the erasures of dossiers (`DossierKeys.watchErasures`) when records are sealed under dossier
     * keys: an erased dossier leaves the list at once, though its record is not written again.
     */
    erasures?: (
      onErased: (dossierId: string) => void,
      signal: AbortSignal,
    ) => Promise<{ done: Promise<void> }>,
  ): Promise<DossierIndex> {
    const index = new DossierIndex();
    // set up before the records are read, so that no erasure falls between the two
    const erasing = await erasures?.((dossierId) => index.erased(dossierId), index.stopping.signal);
    erasing?.done.catch((err: unknown) => {
      if (!index.stopping.signal.aborted) onFailure(err);
    });
    const unlisten = store.onWrite((change) => index.apply(change));
    const { ready, done } = await store.watch((change) => index.apply(change), index.stopping.signal);
    index.done = done
      .then(() => {
        if (!index.stopping.signal.aborted) onFailure(new Error('the dossier watch ended'));
      })
      .catch((err: unknown) => {
        if (!index.stopping.signal.aborted) onFailure(err);
      })
      .finally(unlisten);
    await ready;
    return index;
  }

  private apply(change: DossierChange): void {
    const held = this.entries.get(change.dossierId);
    if (held && held.revision >= change.revision) return;
    const record = change.record;
    // an erased dossier keeps its owner (who alone is told it was erased) and leaves the list
    const owner = record?.integrator ?? change.erased?.integrator;
    this.entries.set(
      change.dossierId,
      record
        ? { revision: change.revision, owner: record.integrator, summary: summaryOf(record) }
        : { revision: change.revision, ...(owner ? { owner } : {}) },
    );
  }

  /** A dossier erased: it keeps its owner (who alone is told it was erased) and leaves the list. */
  private erased(dossierId: string): void {
    const held = this.entries.get(dossierId);
    if (!held) return;
    this.entries.set(dossierId, { revision: held.revision, ...(held.owner ? { owner: held.owner } : {}) });
  }

  /** The integrator that filed a dossier, if this index knows it. */
  ownerOf(dossierId: string): string | undefined {
    return this.entries.get(dossierId)?.owner;
  }

  /**
   * Up to `limit` of an integrator's dossiers matching `filter`, newest first, after `after`; `more` tells
   * whether others follow.
   */
  list(
    integrator: string,
    filter: DossierFilter,
    after: DossierPosition | undefined,
    limit: number,
  ): { items: DossierSummary[]; more: boolean } {
    const since = filter.updatedSince?.getTime();
    const matching: DossierSummary[] = [];
    for (const entry of this.entries.values()) {
      const s = entry.summary;
      if (!s || entry.owner !== integrator) continue;
      if (after && !before(after, positionOf(s))) continue;
      if (filter.state && !filter.state.includes(s.state)) continue;
      if (filter.category && !filter.category.includes(s.category)) continue;
      if (filter.closed !== undefined && s.closed !== filter.closed) continue;
      if (since !== undefined && Date.parse(s.updatedAt) < since) continue;
      matching.push(s);
    }
    matching.sort((a, b) => (before(positionOf(a), positionOf(b)) ? -1 : 1));
    return { items: matching.slice(0, limit), more: matching.length > limit };
  }

  /** Stops following the changes. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.done;
  }
}
