import { createHash } from 'node:crypto';
import { verifyCompact } from '@passerelle/envelope';
import { sha256Hex } from '../digest.js';
import type { PublicJwk } from '../keys.js';
import type { LedgerErrorCode } from '../ledger-error.js';
import { parseEntry } from '../parse-entry.js';
import { AUDITOR_ID } from '../signature-spec.js';
import { type AttestedTime, verifyTimestampToken } from '../timestamp-token.js';
import { type LedgerFailure, type VerifyOptions, type VerifyReport, verifyLedger } from '../verify.js';
import {
  ARCHIVE_FORMAT,
  NO_PREVIOUS_SEGMENT,
  type SegmentClaims,
  type SegmentHeader,
  type SegmentTrailer,
  parseSegmentName,
} from './segment.js';
import type { ArchiveStore } from './store.js';

/** One segment as verified. */
export interface SegmentCheck {
  name: string;
  firstSeq: number;
  lastSeq: number;
  /** When the TSA attests it saw the segment's seal; absent when the segment has no token. */
  attested?: { genTime: string; tsa: string; chain: AttestedTime['chain'] };
}

/** Outcome of {@link verifyArchive}: the ledger report over segments and live tail, and the segments. */
export interface ArchiveReport extends VerifyReport {
  segments: SegmentCheck[];
  /** Seq of the first live entry read after the archive (absent without a live tail). */
  liveFrom?: number;
  /** The failing segment, when the failure lies in one. */
  failingSegment?: string;
}

/** Options of {@link verifyArchive}. */
export interface VerifyArchiveOptions extends Omit<VerifyOptions, 'startSeq' | 'expectedLastSeq'> {
  /** The live stream's entries after the archive (from its last seq + 1), to verify as the continuation. */
  live?: (fromSeq: number) => AsyncIterable<string | Uint8Array>;
  /** Every segment must carry a token (default false: a segment without one is reported, not refused). */
  requireTimestamps?: boolean;
}

interface SegmentFailure extends LedgerFailure {
  segment: string;
}

/**
 * Verifies an archive and, given `live`, the live stream after it, as one ledger: every entry as
 * `verifyLedger` does (chain across segments, seals, receipts, checkpoints, timestamp entries) and every
 * segment: its header (format, position, first seq), its link to the segment before (`prevSeal`), the
 * auditor's seal over its range, entry count, body hash and head hash, and its RFC 3161 token (imprint,
 * signature, chain to `tsaTrust`). A missing, reordered or altered segment, a tampered trailer or token is
 * named with its file (`ERR_LEDGER_ARCHIVE_INVALID`, `ERR_LEDGER_TIMESTAMP_INVALID`); an altered entry by its
 * seq. Memory holds one line at a time and a few facts per segment.
 *
 * @example
 * ```ts
 * const report = await verifyArchive(await folderArchive(dir), { resolver, tsaTrust });
 * ```
 */
export async function verifyArchive(
  store: ArchiveStore,
  options: VerifyArchiveOptions,
): Promise<ArchiveReport> {
  const names = await store.list();
  const reading = new ArchiveReading(store, names, options);
  const report = await verifyLedger(reading.lines(), { ...options, startSeq: 1 });
  const { segments, liveFrom } = reading;
  const out: ArchiveReport = { ...report, segments, ...(liveFrom !== undefined ? { liveFrom } : {}) };
  const segmentFailure = reading.failure;
  if (segmentFailure && (!report.failure || segmentFailure.seq <= report.failure.seq)) {
    const { segment, ...f } = segmentFailure;
    out.ok = false;
    out.failure = f;
    out.failingSegment = segment;
  } else if (report.failure) {
    // the segment whose name covers the failing seq (the live tail otherwise)
    const seq = report.failure.seq;
    const holding = names.find((n) => {
      const r = parseSegmentName(n);
      return r !== undefined && seq >= r.firstSeq && seq <= r.lastSeq;
    });
    if (holding) out.failingSegment = holding;
  }
  return out;
}

/** A segment's file as read: where it lies, what its entries hash to, and its last entry and trailer lines. */
interface SegmentRead {
  name: string;
  /** Position in the archive, from 1. */
  segment: number;
  firstSeq: number;
  lastSeq: number;
  entries: number;
  bodySha256: string;
  lastEntry: string | undefined;
  trailer: string | undefined;
}

/**
 * Reads the segments in order as one stream of entry lines for `verifyLedger`, checking each segment's
 * header before its entries and its trailer after them, then the live tail. It stops at the first segment
 * that fails, keeping the failure and the segments checked so far.
 */
class ArchiveReading {
  readonly segments: SegmentCheck[] = [];
  failure: SegmentFailure | undefined;
  liveFrom: number | undefined;
  readonly #store: ArchiveStore;
  readonly #names: readonly string[];
  readonly #options: VerifyArchiveOptions;
  #prevSeal = NO_PREVIOUS_SEGMENT;
  #expectedFirst = 1;

  constructor(store: ArchiveStore, names: readonly string[], options: VerifyArchiveOptions) {
    this.#store = store;
    this.#names = names;
    this.#options = options;
  }

  async *lines(): AsyncGenerator<string> {
    for (const [i, name] of this.#names.entries()) {
      const read = yield* this.#entries(name, i + 1);
      if (!read || !(await this.#sealed(read))) return;
    }
    if (this.#options.live) {
      this.liveFrom = this.#expectedFirst;
      for await (const raw of this.#options.live(this.#expectedFirst)) {
        yield typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
      }
    }
  }

  #fail(name: string, code: LedgerErrorCode, reason: string, seq: number): undefined {
    this.failure = { segment: name, code, reason: `segment ${name}: ${reason}`, seq };
    return undefined;
  }

  // Yields a segment's entries once its name and header place it right after the segment before; the
  // last line is the trailer, so each line is held until the next one shows it was an entry.
  async *#entries(name: string, segment: number): AsyncGenerator<string, SegmentRead | undefined> {
    const range = parseSegmentName(name);
    if (!range || range.firstSeq !== this.#expectedFirst) {
      return this.#fail(
        name,
        'ERR_LEDGER_ARCHIVE_INVALID',
        `starts at ${range?.firstSeq ?? '?'} where entry ${this.#expectedFirst} belongs (a segment is missing or moved)`,
        this.#expectedFirst,
      );
    }
    const body = createHash('sha256');
    let header: SegmentHeader | undefined;
    let held: string | undefined;
    let lastEntry: string | undefined;
    let entries = 0;
    for await (const line of this.#store.lines(name)) {
      if (!header) {
        try {
          header = JSON.parse(line) as SegmentHeader;
        } catch {
          header = undefined;
        }
        if (
          header?.format !== ARCHIVE_FORMAT ||
          header.version !== 1 ||
          header.segment !== segment ||
          header.firstSeq !== range.firstSeq ||
          header.prevSeal !== this.#prevSeal
        ) {
          return this.#fail(
            name,
            'ERR_LEDGER_ARCHIVE_INVALID',
            header?.prevSeal !== undefined && header.prevSeal !== this.#prevSeal
              ? 'does not link to the seal of the segment before it'
              : 'its header is not that of segment ' + String(segment),
            range.firstSeq,
          );
        }
        continue;
      }
      if (held !== undefined) {
        body.update(held).update('\n');
        entries++;
        lastEntry = held;
        yield held;
      }
      held = line;
    }
    return {
      name,
      segment,
      firstSeq: range.firstSeq,
      lastSeq: range.lastSeq,
      entries,
      bodySha256: body.digest('hex'),
      lastEntry,
      trailer: held,
    };
  }

  // The trailer's seal must verify with the auditor's key and cover exactly this file (position, range,
  // count, body and head hash); its token, when present, must attest the seal. False when it fails.
  async #sealed(read: SegmentRead): Promise<boolean> {
    const { name, segment, firstSeq, lastSeq, entries, lastEntry } = read;
    const fail = (code: LedgerErrorCode, reason: string, seq: number): false => {
      this.#fail(name, code, reason, seq);
      return false;
    };
    const lastEntrySeq = firstSeq + entries - 1;
    let trailer: SegmentTrailer;
    try {
      trailer = JSON.parse(read.trailer ?? '') as SegmentTrailer;
      if (typeof trailer.seal !== 'string') throw new Error('no seal');
    } catch {
      return fail('ERR_LEDGER_ARCHIVE_INVALID', 'it does not end on a trailer with a seal', lastEntrySeq);
    }
    let claims: SegmentClaims;
    try {
      const sealedAt = JSON.parse(
        Buffer.from(trailer.seal.split('.')[1] ?? '', 'base64url').toString('utf8'),
      ) as Partial<SegmentClaims>;
      const at = new Date(sealedAt.sealedAt ?? '');
      ({ payload: claims } = (await verifyCompact(trailer.seal, (kid) => this.#auditorKey(at, kid))) as {
        payload: SegmentClaims;
      });
    } catch {
      return fail(
        'ERR_LEDGER_ARCHIVE_INVALID',
        "its seal does not verify with the auditor's key",
        lastEntrySeq,
      );
    }
    let lastHash: string | undefined;
    try {
      lastHash = lastEntry === undefined ? undefined : parseEntry(lastEntry, lastEntrySeq).hash;
    } catch {
      lastHash = undefined; // verifyLedger names the malformed entry
    }
    const problem =
      claims.segment !== segment || claims.firstSeq !== firstSeq || claims.prevSeal !== this.#prevSeal
        ? 'its seal names another segment'
        : claims.lastSeq !== lastSeq || claims.entries !== entries || lastEntrySeq !== claims.lastSeq
          ? `its seal covers ${claims.firstSeq}..${claims.lastSeq} (${claims.entries} entries), the file holds ${entries}`
          : claims.bodySha256 !== read.bodySha256
            ? 'its entries are not those the seal covers (body hash)'
            : lastHash !== undefined && lastHash !== claims.headHash
              ? `its seal's head hash is not the hash of entry ${lastEntrySeq}`
              : undefined;
    if (problem) return fail('ERR_LEDGER_ARCHIVE_INVALID', problem, lastEntrySeq);
    const check: SegmentCheck = { name, firstSeq, lastSeq };
    if (trailer.token !== undefined) {
      try {
        const attested = await verifyTimestampToken(
          Buffer.from(trailer.token, 'base64'),
          trailer.seal,
          this.#options.tsaTrust ? { trust: this.#options.tsaTrust } : {},
        );
        check.attested = {
          genTime: attested.genTime.toISOString(),
          tsa: attested.tsa,
          chain: attested.chain,
        };
      } catch (err) {
        return fail('ERR_LEDGER_TIMESTAMP_INVALID', (err as Error).message.replace(/\.$/, ''), lastEntrySeq);
      }
    } else if (this.#options.requireTimestamps) {
      return fail('ERR_LEDGER_TIMESTAMP_INVALID', 'it carries no timestamp token', lastEntrySeq);
    }
    this.segments.push(check);
    this.#prevSeal = sha256Hex(trailer.seal);
    this.#expectedFirst = lastSeq + 1;
    return true;
  }

  #auditorKey(at: Date, kid: string | undefined): Promise<PublicJwk> {
    return this.#options.auditorKey
      ? Promise.resolve(this.#options.auditorKey)
      : this.#options.resolver.resolve(AUDITOR_ID, 'sig', at, kid);
  }
}
