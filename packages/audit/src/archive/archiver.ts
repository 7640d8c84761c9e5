import { createHash } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { signCompact } from '@passerelle/envelope';
import { StreamNames, Subjects } from '@passerelle/exchange';
import { GENESIS_HASH, sha256Hex } from '../digest.js';
import type { LedgerEntry } from '../entry.js';
import { decodeCompact } from '../jws.js';
import type { PrivateJwk } from '../keys.js';
import { LedgerError } from '../ledger-error.js';
import { parseEntry } from '../parse-entry.js';
import { readLedger } from '../reader.js';
import { storedEntryHash } from '../stored-hash.js';
import { nextLedgerMessage } from '../stream-lookup.js';
import type { TsaClient } from '../tsa-client.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_SEAL_TYP,
  NO_PREVIOUS_SEGMENT,
  type SegmentClaims,
  type SegmentHeader,
  type SegmentTrailer,
  segmentName,
} from './segment.js';
import type { ArchiveStore } from './store.js';

/** Where an archive ends: its last segment's claims and the hash of its seal (the next segment's `prevSeal`). */
export interface ArchiveHead {
  name: string;
  claims: SegmentClaims;
  sealSha256: string;
}

/**
 * The end of an archive, from its last segment's trailer (not verified: `verifyArchive` does that); undefined
 * for an empty archive.
 */
export async function archiveHead(store: ArchiveStore): Promise<ArchiveHead | undefined> {
  const names = await store.list();
  const name = names[names.length - 1];
  if (!name) return undefined;
  let trailer: SegmentTrailer;
  try {
    trailer = JSON.parse(await store.lastLine(name)) as SegmentTrailer;
  } catch (cause) {
    throw new LedgerError('ERR_LEDGER_ARCHIVE_INVALID', `Archive segment ${name} has no trailer line.`, {
      cause,
      details: { segment: name },
    });
  }
  const claims = decodeCompact(trailer.seal)?.payload as SegmentClaims | undefined;
  if (!claims || typeof claims.lastSeq !== 'number' || typeof claims.headHash !== 'string') {
    throw new LedgerError('ERR_LEDGER_ARCHIVE_INVALID', `Archive segment ${name} has no readable seal.`, {
      details: { segment: name },
    });
  }
  return { name, claims, sealSha256: sha256Hex(trailer.seal) };
}

/** Options of {@link archiveLedger}. */
export interface ArchiveOptions {
  nc: NatsConnection;
  store: ArchiveStore;
  /** The auditor's private signing key: seals each segment. */
  auditorKey: PrivateJwk;
  /** Timestamps each segment's seal; without it segments carry no token. */
  tsa?: TsaClient;
  /** A segment closes at the first checkpoint once it holds this many entries (default 100 000). */
  segmentEntries?: number;
  /**
   * After a segment is stored: `'purge'` removes its entries from LEDGER (a stream created without
   * `deny_purge`, and the purge permission); `'retention'` (default) leaves them to LEDGER's own limits.
   */
  trim?: 'purge' | 'retention';
  now?: () => Date;
}

/** A segment written by {@link archiveLedger}. */
export interface ArchivedSegment {
  name: string;
  firstSeq: number;
  lastSeq: number;
  entries: number;
  timestamped: boolean;
}

function broken(seq: number, reason: string): never {
  throw new LedgerError(
    'ERR_LEDGER_CHAIN_BROKEN',
    `Not archived: entry ${seq} ${reason}; run audit verify.`,
    {
      details: { seq },
    },
  );
}

/**
 * Archives LEDGER after the archive's last segment: as many segments as there are checkpointed entries, each
 * ending on a checkpoint (so a signed Merkle root covers every entry in it), holding the entries byte for
 * byte, sealed by the auditor over their hash and range, hash-linked to the segment before, and timestamped
 * by the TSA. Entries are streamed: memory holds at most one checkpoint batch. The chain is checked on the
 * way (hashes and links); a broken one is never sealed. A TSA failure leaves the segment unwritten
 * (`ERR_LEDGER_TSA_FAILED`): the next run tries again, and nothing else waits for it.
 *
 * @example
 * ```ts
 * const written = await archiveLedger({ nc, store: await folderArchive(dir), auditorKey, tsa });
 * ```
 */
export async function archiveLedger(options: ArchiveOptions): Promise<ArchivedSegment[]> {
  const { nc, store, auditorKey } = options;
  const now = options.now ?? (() => new Date());
  const limit = options.segmentEntries ?? 100_000;
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  const written: ArchivedSegment[] = [];
  let head = await archiveHead(store);
  for (;;) {
    const from = head ? head.claims.lastSeq + 1 : 1;
    const info = await jsm.streams.info(StreamNames.ledger);
    if (info.state.last_seq < from) return written;
    if (info.state.messages > 0 && info.state.first_seq > from) {
      throw new LedgerError(
        'ERR_LEDGER_GAP',
        `LEDGER starts at ${info.state.first_seq} but the archive ends at ${from - 1}: entries were dropped unarchived.`,
        { details: { seq: from } },
      );
    }
    // nothing to seal until a checkpoint covers the next entries
    if (!(await nextLedgerMessage(jsm, `${Subjects.ledger}.checkpoint`, from))) return written;

    const segment = (head?.claims.segment ?? 0) + 1;
    const prevSeal = head?.sealSha256 ?? NO_PREVIOUS_SEGMENT;
    const writer = await store.create();
    const header: SegmentHeader = { format: ARCHIVE_FORMAT, version: 1, segment, firstSeq: from, prevSeal };
    const body = createHash('sha256');
    let entries = 0;
    let last: LedgerEntry | undefined;
    let prevHash = head ? head.claims.headHash : GENESIS_HASH;
    let pending: string[] = [];
    try {
      await writer.write(JSON.stringify(header));
      for await (const m of readLedger(nc, { from, to: info.state.last_seq })) {
        const text = Buffer.from(m.data).toString('utf8');
        const e = parseEntry(text, m.seq);
        if (e.seq !== m.seq) broken(m.seq, `says seq ${e.seq}`);
        if (storedEntryHash(text, e) !== e.hash) broken(m.seq, 'does not hash to its recorded hash');
        if (e.prevHash !== prevHash) broken(m.seq, `does not link to entry ${m.seq - 1}`);
        prevHash = e.hash;
        pending.push(text);
        if (e.kind !== 'checkpoint') continue;
        for (const line of pending) {
          body.update(line).update('\n');
          await writer.write(line);
        }
        entries += pending.length;
        pending = [];
        last = e;
        if (entries >= limit) break;
      }
      if (!last) {
        await writer.abandon();
        return written;
      }
      const claims: SegmentClaims = {
        ledger: 'pex-ledger',
        segment,
        firstSeq: from,
        lastSeq: last.seq,
        entries,
        bodySha256: body.digest('hex'),
        headHash: last.hash,
        prevSeal,
        sealedAt: now().toISOString(),
      };
      const seal = await signCompact(claims, auditorKey, { typ: ARCHIVE_SEAL_TYP });
      const trailer: SegmentTrailer = { seal };
      if (options.tsa)
        trailer.token = Buffer.from((await options.tsa.timestamp(seal)).der).toString('base64');
      await writer.write(JSON.stringify(trailer));
      const name = segmentName(from, last.seq);
      await writer.commit(name);
      written.push({ name, firstSeq: from, lastSeq: last.seq, entries, timestamped: !!trailer.token });
      head = { name, claims, sealSha256: sha256Hex(seal) };
    } catch (err) {
      await writer.abandon();
      throw err;
    }
    if (options.trim === 'purge')
      await jsm.streams.purge(StreamNames.ledger, { seq: head.claims.lastSeq + 1 });
  }
}
