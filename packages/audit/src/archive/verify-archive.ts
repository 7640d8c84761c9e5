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
  const segments: SegmentCheck[] = [];
  let failure: SegmentFailure | undefined;
  let liveFrom: number | undefined;

  const auditorKey = async (at: Date, kid: string | undefined): Promise<PublicJwk> =>
    options.auditorKey ?? options.resolver.resolve(AUDITOR_ID, 'sig', at, kid);

  async function* source(): AsyncGenerator<string> {
    let prevSeal = NO_PREVIOUS_SEGMENT;
    let expectedFirst = 1;
    for (const [i, name] of names.entries()) {
      const fail = (code: LedgerErrorCode, reason: string, seq: number): void => {
        failure = { segment: name, code, reason: `segment ${name}: ${reason}`, seq };
      };
      const range = parseSegmentName(name);
      if (!range || range.firstSeq !== expectedFirst) {
        fail(
          'ERR_LEDGER_ARCHIVE_INVALID',
          `starts at ${range?.firstSeq ?? '?'} where entry ${expectedFirst} belongs (a segment is missing or moved)`,
          expectedFirst,
        );
        return;
      }
      const body = createHash('sha256');
      let header: SegmentHeader | undefined;
      let held: string | undefined;
      let lastEntry: string | undefined;
      let entries = 0;
      for await (const line of store.lines(name)) {
        if (!header) {
          try {
            header = JSON.parse(line) as SegmentHeader;
          } catch {
            header = undefined;
          }
          if (
            header?.format !== ARCHIVE_FORMAT ||
            header.version !== 1 ||
            header.segment !== i + 1 ||
            header.firstSeq !== range.firstSeq ||
            header.prevSeal !== prevSeal
          ) {
            fail(
              'ERR_LEDGER_ARCHIVE_INVALID',
              header?.prevSeal !== undefined && header.prevSeal !== prevSeal
                ? 'does not link to the seal of the segment before it'
                : 'its header is not that of segment ' + String(i + 1),
              range.firstSeq,
            );
            return;
          }
          continue;
        }
        // the last line is the trailer: hold each line until the next one shows it was an entry
        if (held !== undefined) {
          body.update(held).update('\n');
          entries++;
          lastEntry = held;
          yield held;
        }
        held = line;
      }
      const lastEntrySeq = range.firstSeq + entries - 1;
      let trailer: SegmentTrailer;
      try {
        trailer = JSON.parse(held ?? '') as SegmentTrailer;
        if (typeof trailer.seal !== 'string') throw new Error('no seal');
      } catch {
        fail('ERR_LEDGER_ARCHIVE_INVALID', 'it does not end on a trailer with a seal', lastEntrySeq);
        return;
      }
      let claims: SegmentClaims;
      try {
        const sealedAt = JSON.parse(
          Buffer.from(trailer.seal.split('.')[1] ?? '', 'base64url').toString('utf8'),
        ) as Partial<SegmentClaims>;
        const at = new Date(sealedAt.sealedAt ?? '');
        ({ payload: claims } = (await verifyCompact(trailer.seal, (kid) => auditorKey(at, kid))) as {
          payload: SegmentClaims;
        });
      } catch {
        fail('ERR_LEDGER_ARCHIVE_INVALID', "its seal does not verify with the auditor's key", lastEntrySeq);
        return;
      }
      let lastHash: string | undefined;
      try {
        lastHash = lastEntry === undefined ? undefined : parseEntry(lastEntry, lastEntrySeq).hash;
      } catch {
        lastHash = undefined; // verifyLedger names the malformed entry
      }
      const problem =
        claims.segment !== i + 1 || claims.firstSeq !== range.firstSeq || claims.prevSeal !== prevSeal
          ? 'its seal names another segment'
          : claims.lastSeq !== range.lastSeq || claims.entries !== entries || lastEntrySeq !== claims.lastSeq
            ? `its seal covers ${claims.firstSeq}..${claims.lastSeq} (${claims.entries} entries), the file holds ${entries}`
            : claims.bodySha256 !== body.digest('hex')
              ? 'its entries are not those the seal covers (body hash)'
              : lastHash !== undefined && lastHash !== claims.headHash
                ? `its seal's head hash is not the hash of entry ${lastEntrySeq}`
                : undefined;
      if (problem) {
        fail('ERR_LEDGER_ARCHIVE_INVALID', problem, lastEntrySeq);
        return;
      }
      const check: SegmentCheck = { name, firstSeq: range.firstSeq, lastSeq: range.lastSeq };
      if (trailer.token !== undefined) {
        try {
          const attested = await verifyTimestampToken(
            Buffer.from(trailer.token, 'base64'),
            trailer.seal,
            options.tsaTrust ? { trust: options.tsaTrust } : {},
          );
          check.attested = {
            genTime: attested.genTime.toISOString(),
            tsa: attested.tsa,
            chain: attested.chain,
          };
        } catch (err) {
          fail('ERR_LEDGER_TIMESTAMP_INVALID', (err as Error).message.replace(/\.$/, ''), lastEntrySeq);
          return;
        }
      } else if (options.requireTimestamps) {
        fail('ERR_LEDGER_TIMESTAMP_INVALID', 'it carries no timestamp token', lastEntrySeq);
        return;
      }
      segments.push(check);
      prevSeal = sha256Hex(trailer.seal);
      expectedFirst = range.lastSeq + 1;
    }
    if (options.live) {
      liveFrom = expectedFirst;
      for await (const raw of options.live(expectedFirst)) {
        yield typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');
      }
    }
  }

  const report = await verifyLedger(source(), { ...options, startSeq: 1 });
  const out: ArchiveReport = { ...report, segments, ...(liveFrom !== undefined ? { liveFrom } : {}) };
  const segmentFailure: SegmentFailure | undefined = failure;
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
