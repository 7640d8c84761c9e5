import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  GENESIS_HASH,
  type LedgerEntry,
  dossierFilter,
  entryHash,
  envelopeSubject,
  lastLedgerMessage,
  nextLedgerMessage,
  parseEntry,
  readLedger,
  receiptSubject,
  storedEntryHash,
} from '@passerelle/audit';
import { StreamNames, Subjects } from '@passerelle/exchange';

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
 * What the auditor knows of the LEDGER stream, kept current by reading only the entries added since the last
 * refresh: whether the stored chain links up, the counts and the last checkpoint. It holds no entry and no
 * per-entry fact, so its memory stays the same however long the ledger: "is this input recorded?", "which
 * entries belong to this dossier?", "which checkpoint covers this entry?" are answered by the server's
 * subject index (entries are stored under subjects that carry their dossier and message ids).
 */
export class LedgerIndex {
  readonly #nc: NatsConnection;
  #jsm: JetStreamManager | undefined;
  #lastSeq = 0;
  /** Hash of entry `lastSeq`; undefined when the next entry's link is taken as given (a trimmed stream). */
  #headHash: string | undefined;
  #break: ChainBreak | undefined;
  #envelopes = 0;
  #receipts = 0;
  #checkpoints = 0;
  #lastCheckpoint: IndexedCheckpoint | undefined;
  #refreshing: Promise<void> = Promise.resolve();

  /** `archivedHead`: the last archived entry, which the first live entry must link to after a trim. */
  constructor(nc: NatsConnection, options: { archivedHead?: { seq: number; hash: string } } = {}) {
    this.#nc = nc;
    if (options.archivedHead) {
      this.#lastSeq = options.archivedHead.seq;
      this.#headHash = options.archivedHead.hash;
    }
  }

  /** Seq of the last indexed entry (0 for an empty ledger). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The first break in the stored chain, if any. */
  get chainBreak(): ChainBreak | undefined {
    return this.#break;
  }

  /** Envelope, receipt and checkpoint entries read in the live stream. */
  get counts(): { envelopes: number; receipts: number; checkpoints: number } {
    return { envelopes: this.#envelopes, receipts: this.#receipts, checkpoints: this.#checkpoints };
  }

  /** The last checkpoint read. */
  get lastCheckpoint(): IndexedCheckpoint | undefined {
    return this.#lastCheckpoint;
  }

  /** Seqs of the envelope and receipt entries of a dossier, in ledger order (read from the server). */
  async dossierSeqs(dossierId: string): Promise<number[]> {
    const jsm = await this.#manager();
    const filter = dossierFilter(dossierId);
    const seqs: number[] = [];
    for (let from = 1; ;) {
      const m = await nextLedgerMessage(jsm, filter, from);
      if (!m) return seqs;
      seqs.push(m.seq);
      from = m.seq + 1;
    }
  }

  /** Seq of the envelope entry of message `messageId`. */
  async envelopeSeq(messageId: string): Promise<number | undefined> {
    const jsm = await this.#manager();
    const m = await lastLedgerMessage(jsm, `${Subjects.ledger}.envelope.*.${messageId}`);
    return m?.seq;
  }

  /**
   * The recorded envelope `messageId` of `dossierId`: the SHA-256 of its bytes and its sender and recipient
   * (undefined when not recorded).
   */
  async recordedEnvelope(
    dossierId: string,
    messageId: string,
  ): Promise<{ envelopeSha256: string; sender: string; recipient: string } | undefined> {
    const jsm = await this.#manager();
    const m = await lastLedgerMessage(jsm, envelopeSubject(dossierId, messageId));
    if (!m) return undefined;
    const e = parseEntry(m.data, m.seq);
    return e.kind === 'envelope'
      ? { envelopeSha256: e.envelopeSha256, sender: e.meta.sender, recipient: e.meta.recipient }
      : undefined;
  }

  /** Whether the receipt of `messageId` by `receiver` is recorded. */
  async hasReceipt(dossierId: string, messageId: string, receiver: string): Promise<boolean> {
    return (await this.receiptRecordedAt(dossierId, messageId, receiver)) !== undefined;
  }

  /** When the auditor recorded the receipt of `messageId` by `receiver` (undefined when not recorded). */
  async receiptRecordedAt(dossierId: string, messageId: string, receiver: string): Promise<Date | undefined> {
    const jsm = await this.#manager();
    const m = await lastLedgerMessage(jsm, receiptSubject(dossierId, messageId, receiver));
    return m ? new Date(parseEntry(m.data, m.seq).receivedAt) : undefined;
  }

  /** The checkpoint whose batch holds entry `seq`, once written: the first checkpoint after it. */
  async checkpointCovering(seq: number): Promise<IndexedCheckpoint | undefined> {
    const jsm = await this.#manager();
    const m = await nextLedgerMessage(jsm, `${Subjects.ledger}.checkpoint`, seq);
    if (!m) return undefined;
    const e = parseEntry(m.data, m.seq);
    if (e.kind !== 'checkpoint' || seq < e.meta.firstSeq) return undefined;
    return { seq: e.seq, firstSeq: e.meta.firstSeq, lastSeq: e.meta.lastSeq };
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

  /** Checks the entries stored since the last refresh. Concurrent calls share one read. */
  refresh(): Promise<void> {
    const run = this.#refreshing.then(() => this.#readNew());
    this.#refreshing = run.catch(() => undefined);
    return run;
  }

  /** Takes `entry` when it is the next one (the recorder's own appends), else reads what is new. */
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
    if (info.state.messages > 0 && info.state.first_seq > this.#lastSeq + 1) {
      // On a first read of a trimmed stream the first live entry's link is taken as given; after entries
      // were read (or with an archive head), entries gone unread are a break.
      if (this.#lastSeq > 0) {
        this.#break ??= {
          seq: this.#lastSeq + 1,
          reason: `entries ${this.#lastSeq + 1}..${info.state.first_seq - 1} are gone from LEDGER`,
        };
      }
      this.#lastSeq = info.state.first_seq - 1;
      this.#headHash = undefined;
    }
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
    const text = Buffer.from(data).toString('utf8');
    try {
      entry = parseEntry(text, seq);
    } catch (err) {
      this.#break ??= { seq, reason: err instanceof Error ? err.message : 'malformed entry' };
      this.#lastSeq = seq;
      this.#headHash = undefined;
      return;
    }
    // stored entries are canonical JSON: hashed as read, without serialising them again
    this.#add(entry, seq, storedEntryHash(text, entry));
  }

  #add(entry: LedgerEntry, seq: number, hash = entryHash(entry)): void {
    // observe() and a refresh may both reach the same new entry: count it once
    if (seq <= this.#lastSeq) return;
    if (!this.#break) {
      if (entry.seq !== seq) this.#break = { seq, reason: `entry says seq ${entry.seq}` };
      else if (hash !== entry.hash)
        this.#break = { seq, reason: 'the entry does not hash to its recorded hash' };
      else if (
        this.#headHash !== undefined
          ? entry.prevHash !== this.#headHash
          : seq === 1 && entry.prevHash !== GENESIS_HASH
      )
        this.#break = { seq, reason: `prevHash is not the hash of entry ${seq - 1}` };
    }
    this.#lastSeq = seq;
    this.#headHash = entry.hash;
    if (entry.kind === 'checkpoint') {
      this.#checkpoints++;
      this.#lastCheckpoint = { seq, firstSeq: entry.meta.firstSeq, lastSeq: entry.meta.lastSeq };
    } else if (entry.kind === 'envelope') this.#envelopes++;
    else if (entry.kind === 'receipt') this.#receipts++;
  }
}
