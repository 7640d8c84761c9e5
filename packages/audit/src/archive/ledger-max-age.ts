import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { StreamNames } from '@passerelle/exchange';
import { LedgerError } from '../ledger-error.js';

/** Options of {@link applyLedgerMaxAge}. */
export interface LedgerMaxAgeOptions {
  nc: NatsConnection;
  /** The last entry the archive holds (0: none). */
  archivedUpTo: number;
  /** The age past which LEDGER may drop archived entries. */
  maxAgeMs: number;
  /**
   * Time the limit leaves the oldest entry not archived yet, beyond its present age: at least until the next
   * call (the auditor passes twice its archive interval), so that a late or failing archive run never lets
   * the server drop it.
   */
  marginMs: number;
  now?: () => Date;
}

/** What {@link applyLedgerMaxAge} set. */
export interface LedgerMaxAge {
  /** LEDGER's `max_age` now, in ms. */
  maxAgeMs: number;
  /** The first entry not archived, which the limit keeps (absent when everything is archived). */
  keptFrom?: number;
}

/**
 * Gives LEDGER an age limit that archived segments cover: `maxAgeMs` once everything is archived, otherwise
 * the age of the oldest entry not archived (by the server's own storage time, the one `max_age` counts
 * from) plus `marginMs`, so that the server never drops what the archive does not hold. Never below
 * LEDGER's duplicate window, which the server requires. Refuses (`ERR_LEDGER_GAP`) when an entry after the
 * archive is gone already: trimming must not go on past a loss.
 *
 * @example
 * ```ts
 * await applyLedgerMaxAge({ nc, archivedUpTo: head.claims.lastSeq, maxAgeMs: 30 * DAY, marginMs: 2 * HOUR });
 * ```
 */
export async function applyLedgerMaxAge(options: LedgerMaxAgeOptions): Promise<LedgerMaxAge> {
  const now = (options.now ?? (() => new Date()))().getTime();
  const jsm = await jetstreamManager(options.nc, { timeout: 30_000 });
  const info = await jsm.streams.info(StreamNames.ledger);
  const { first_seq: first, last_seq: last, messages } = info.state;
  let wanted = options.maxAgeMs;
  let keptFrom: number | undefined;
  if (options.archivedUpTo < last) {
    keptFrom = options.archivedUpTo + 1;
    if (messages === 0 || keptFrom < first) {
      throw new LedgerError(
        'ERR_LEDGER_GAP',
        `LEDGER starts at ${first} but the archive ends at ${options.archivedUpTo}: entries were lost unarchived; no age limit is applied.`,
        { details: { seq: keptFrom } },
      );
    }
    const oldest = await jsm.streams.getMessage(StreamNames.ledger, { seq: keptFrom });
    const stored = oldest ? oldest.time.getTime() : now;
    wanted = Math.max(wanted, now - stored + options.marginMs);
  }
  wanted = Math.max(wanted, Math.ceil(info.config.duplicate_window / 1_000_000));
  if (info.config.max_age !== nanos(wanted)) {
    await jsm.streams.update(StreamNames.ledger, { ...info.config, max_age: nanos(wanted) });
  }
  return { maxAgeMs: wanted, ...(keptFrom !== undefined ? { keptFrom } : {}) };
}
