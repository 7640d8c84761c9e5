import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type CheckpointClaims,
  GENESIS_HASH,
  type LedgerEntry,
  entryHash,
  parseEntry,
  readLedger,
} from '@passerelle/audit';
import { StreamNames } from '@passerelle/exchange';

/** Where a checkpoint sits and what it covers. */
export interface IndexedCheckpoint {
  seq: number;
  firstSeq: number;
  lastSeq: number;
}

/** The first stored entry that does not link to the one before it (altered, moved or malformed). */
export interface ChainBreak {
  seq: number;
  reason: string;
}

/** Beyond this many new entries a refresh streams them through an ordered consumer instead of one get each. */
const STREAM_THRESHOLD = 64;

/**
 * An in-memory index of the LEDGER stream, kept current by reading only the entries added since the last
 * refresh: which entries belong to which dossier, which inputs are already recorded (so a redelivered or
 * re-published message never becomes a second entry), where the checkpoints are, and whether the stored
 * hash chain links up. It holds sequence numbers, ids and hashes only; the entries themselves stay in
 * LEDGER and are fetched on demand.
 */
export class LedgerIndex {
  readonly #nc: NatsConnection;
  #jsm: JetStreamManager | undefined;
  #lastSeq = 0;
  #headHash = GENESIS_HASH;
  #break: ChainBreak | undefined;
  readonly #byDossier = new Map<string, number[]>();
  /** `envelope-<id>` → SHA-256 of the recorded envelope bytes; `receipt-<id>-<receiver>` → ''. */
  readonly #recorded = new Map<string, string>();
  readonly #envelopeSeq = new Map<string, number>();
  readonly #checkpoints: IndexedCheckpoint[] = [];
  #refreshing: Promise<void> = Promise.resolve();

  constructor(nc: NatsConnection) {
    this.#nc = nc;
  }

  /** Seq of the last indexed entry (0 for an empty ledger). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The first break in the stored chain, if any. */
  get chainBreak(): ChainBreak | undefined {
    return this.#break;
  }

  /** Checkpoints in ledger order. */
  get checkpoints(): readonly IndexedCheckpoint[] {
    return this.#checkpoints;
  }

  /** Number of dossiers seen. */
  get dossierCount(): number {
    return this.#byDossier.size;
  }

  /** Seqs of the envelope and receipt entries of a dossier, in ledger order. */
  dossierSeqs(dossierId: string): readonly number[] {
    return this.#byDossier.get(dossierId) ?? [];
  }

  /** Seq of the envelope entry of message `id`. */
  envelopeSeq(messageId: string): number | undefined {
    return this.#envelopeSeq.get(messageId);
  }

  /** The SHA-256 of the recorded envelope `id` (undefined when not recorded). */
  recordedEnvelope(messageId: string): string | undefined {
    return this.#recorded.get(`envelope-${messageId}`);
  }

  /** Whether the receipt of `messageId` by `receiver` is recorded. */
  hasReceipt(messageId: string, receiver: string): boolean {
    return this.#recorded.has(`receipt-${messageId}-${receiver}`);
  }

  /** The checkpoint whose batch holds entry `seq`, once written. */
  checkpointCovering(seq: number): IndexedCheckpoint | undefined {
    let lo = 0;
    let hi = this.#checkpoints.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const cp = this.#checkpoints[mid] as IndexedCheckpoint;
      if (seq > cp.lastSeq) lo = mid + 1;
      else if (seq < cp.firstSeq) hi = mid - 1;
      else return cp;
    }
    return undefined;
  }

  /** Reads one stored entry by its seq. */
  async entry(seq: number): Promise<LedgerEntry> {
    const jsm = await this.#manager();
    const stored = await jsm.streams.getMessage(StreamNames.ledger, { seq });
    if (!stored) throw new Error(`LEDGER has no message ${seq}`);
    return parseEntry(stored.data, seq);
  }

  /** Reads the stored entries `from..to` in order. */
  async entries(from: number, to: number): Promise<LedgerEntry[]> {
    const out: LedgerEntry[] = [];
    if (to - from + 1 <= STREAM_THRESHOLD) {
      for (let seq = from; seq <= to; seq++) out.push(await this.entry(seq));
      return out;
    }
    for await (const m of readLedger(this.#nc, { from, to })) out.push(parseEntry(m.data, m.seq));
    return out;
  }

  /** Indexes the entries stored since the last refresh. Concurrent calls share one read. */
  refresh(): Promise<void> {
    const run = this.#refreshing.then(() => this.#readNew());
    this.#refreshing = run.catch(() => undefined);
    return run;
  }

  /** Indexes `entry` when it is the next one (the recorder's own appends), else reads what is new. */
  async observe(entry: LedgerEntry): Promise<void> {
    await this.#refreshing;
    if (entry.seq === this.#lastSeq + 1) this.#add(entry, entry.seq);
    else if (entry.seq > this.#lastSeq) await this.refresh();
  }

  async #manager(): Promise<JetStreamManager> {
    this.#jsm ??= await jetstreamManager(this.#nc, { timeout: 30_000 });
    return this.#jsm;
  }

  async #readNew(): Promise<void> {
    const jsm = await this.#manager();
    const info = await jsm.streams.info(StreamNames.ledger);
    const last = info.state.last_seq;
    if (last <= this.#lastSeq) return;
    if (last - this.#lastSeq <= STREAM_THRESHOLD) {
      for (let seq = this.#lastSeq + 1; seq <= last; seq++) {
        const stored = await jsm.streams.getMessage(StreamNames.ledger, { seq });
        if (stored) this.#addRaw(stored.data, seq);
      }
      return;
    }
    for await (const m of readLedger(this.#nc, { from: this.#lastSeq + 1, to: last })) {
      this.#addRaw(m.data, m.seq);
    }
  }

  #addRaw(data: Uint8Array, seq: number): void {
    if (seq <= this.#lastSeq) return;
    let entry: LedgerEntry;
    try {
      entry = parseEntry(data, seq);
    } catch (err) {
      this.#break ??= { seq, reason: err instanceof Error ? err.message : 'malformed entry' };
      this.#lastSeq = seq;
      return;
    }
    this.#add(entry, seq);
  }

  #add(entry: LedgerEntry, seq: number): void {
    // observe() and a refresh may both reach the same new entry: index it once.
    if (seq <= this.#lastSeq) return;
    if (!this.#break) {
      if (entry.seq !== seq) this.#break = { seq, reason: `entry says seq ${entry.seq}` };
      else if (entryHash(entry) !== entry.hash)
        this.#break = { seq, reason: 'the entry does not hash to its recorded hash' };
      else if (entry.prevHash !== this.#headHash)
        this.#break = { seq, reason: `prevHash is not the hash of entry ${seq - 1}` };
    }
    this.#lastSeq = seq;
    this.#headHash = entry.hash;
    if (entry.kind === 'checkpoint') {
      const c: CheckpointClaims = entry.meta;
      this.#checkpoints.push({ seq, firstSeq: c.firstSeq, lastSeq: c.lastSeq });
      return;
    }
    if (entry.kind === 'timestamp') return;
    const dossier = entry.meta.dossierId;
    let seqs = this.#byDossier.get(dossier);
    if (!seqs) this.#byDossier.set(dossier, (seqs = []));
    seqs.push(seq);
    if (entry.kind === 'envelope') {
      this.#recorded.set(`envelope-${entry.meta.id}`, entry.envelopeSha256);
      if (!this.#envelopeSeq.has(entry.meta.id)) this.#envelopeSeq.set(entry.meta.id, seq);
    } else {
      this.#recorded.set(`receipt-${entry.meta.messageId}-${entry.meta.receiver}`, '');
    }
  }
}
