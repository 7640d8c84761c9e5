import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { verifyCompact } from '@passerelle/envelope';
import { StreamNames, Subjects } from '@passerelle/exchange';
import { type ChainState, LedgerChain, emptyChainState } from './chain.js';
import type {
  CheckpointLedgerEntry,
  EnvelopeLedgerEntry,
  LedgerEntry,
  ReceiptLedgerEntry,
  TimestampClaims,
  TimestampLedgerEntry,
} from './entry.js';
import { appendAtHead } from './append-at-head.js';
import { type ReceiptIntake, envelopeIntake, receiptIntake } from './intake.js';
import type { KeyResolver, PrivateJwk } from './keys.js';
import { LedgerError } from './ledger-error.js';
import { parseEntry } from './parse-entry.js';
import { readLedger } from './reader.js';

const MAX_ATTEMPTS = 5;

/** Options of {@link createLedgerWriter}. */
export interface LedgerWriterOptions {
  nc: NatsConnection;
  /** The auditor's private signing key (signs checkpoints). */
  auditorKey: PrivateJwk;
  /** Keys of senders and receivers: an envelope or receipt whose signature fails is refused, not recorded. */
  resolver: KeyResolver;
  /** A checkpoint after this many entries (default 1000). */
  checkpointEvery?: number;
  /** A checkpoint at least this often while entries are pending, in ms (default 60 000; 0: never by time). */
  checkpointIntervalMs?: number;
  /** Clock (tests freeze it). */
  now?: () => Date;
  /** Largest envelope accepted, in bytes (default 1 MiB). */
  maxEnvelopeBytes?: number;
  /**
   * The last archived entry (a checkpoint), when LEDGER was trimmed after archiving: the chain resumes from
   * it if the live stream holds no checkpoint of its own (or nothing at all).
   */
  archivedHead?: LedgerHead;
  /** Told of every checkpoint once stored (the timestamper queues it). */
  onCheckpoint?: (entry: CheckpointLedgerEntry) => void;
}

/** A position in the chain: an entry's seq and hash. */
export interface LedgerHead {
  seq: number;
  hash: string;
}

/** Appends entries to the LEDGER stream; one instance per auditor, safe against a concurrent second one. */
export interface LedgerWriter {
  /** Records an envelope (raw bytes as published) after checking its seal. */
  appendEnvelope(raw: Uint8Array | string): Promise<EnvelopeLedgerEntry>;
  /** Records a receipt (compact JWS) after checking its signature. */
  appendReceipt(raw: Uint8Array | string): Promise<ReceiptLedgerEntry>;
  /** Records an RFC 3161 token (DER) over earlier checkpoints, as the timestamper obtained it. */
  appendTimestamp(claims: TimestampClaims, token: Uint8Array): Promise<TimestampLedgerEntry>;
  /** Writes a checkpoint over the pending entries now; `undefined` when none are pending. */
  checkpoint(): Promise<CheckpointLedgerEntry | undefined>;
  /** The chain state after the last append. */
  readonly state: ChainState;
  /** When the oldest entry waiting for a checkpoint was appended (undefined when none waits). */
  readonly oldestPendingAt: Date | undefined;
  /** The last checkpoint this writer stored (undefined until it stores one). */
  readonly lastCheckpoint: CheckpointLedgerEntry | undefined;
  /** Stops the checkpoint timer, writing a last checkpoint over pending entries. */
  close(): Promise<void>;
}

/**
 * Loads the chain state from the LEDGER stream: head (last entry) and the batch since the last checkpoint.
 * When the stream was trimmed after archiving and holds no checkpoint (or nothing), the chain resumes from
 * `archivedHead`, the last archived entry; without it such a stream cannot be resumed
 * (`ERR_LEDGER_CHAIN_BROKEN`), and entries lost between the archive and the live stream are `ERR_LEDGER_GAP`.
 */
export async function loadChainState(
  nc: NatsConnection,
  options: { archivedHead?: LedgerHead } = {},
): Promise<ChainState> {
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  const info = await jsm.streams.info(StreamNames.ledger);
  const archived = options.archivedHead;
  const fromHead = (head: LedgerHead): ChainState => ({
    nextSeq: head.seq + 1,
    headHash: head.hash,
    batchFirstSeq: head.seq + 1,
    batchHashes: [],
  });
  if (info.state.last_seq === 0) return emptyChainState();
  if (info.state.messages === 0) {
    if (archived?.seq === info.state.last_seq) return fromHead(archived);
    throw new LedgerError(
      'ERR_LEDGER_CHAIN_BROKEN',
      `LEDGER holds no entry after ${info.state.last_seq}: the chain's head is in the archive, which does not end there.`,
      { details: { seq: info.state.last_seq } },
    );
  }
  const lastCheckpoint = await jsm.streams
    .getMessage(StreamNames.ledger, { last_by_subj: `${Subjects.ledger}.checkpoint` })
    .catch(() => null);
  let state: ChainState;
  if (lastCheckpoint) {
    const cp = parseEntry(lastCheckpoint.data, lastCheckpoint.seq);
    state = fromHead({ seq: cp.seq, hash: cp.hash });
  } else if (info.state.first_seq === 1) {
    state = emptyChainState();
  } else if (archived && archived.seq + 1 >= info.state.first_seq) {
    state = fromHead(archived);
  } else {
    throw new LedgerError(
      archived ? 'ERR_LEDGER_GAP' : 'ERR_LEDGER_CHAIN_BROKEN',
      archived
        ? `LEDGER starts at ${info.state.first_seq} but the archive ends at ${archived.seq}: entries were lost unarchived.`
        : `LEDGER starts at ${info.state.first_seq} with no checkpoint: resume it from its archive.`,
      { details: { seq: info.state.first_seq } },
    );
  }
  for await (const m of readLedger(nc, { from: state.nextSeq, to: info.state.last_seq })) {
    const e = parseEntry(m.data, m.seq);
    if (e.seq !== m.seq || e.prevHash !== state.headHash) {
      throw new LedgerError(
        'ERR_LEDGER_CHAIN_BROKEN',
        `The stored ledger is broken at entry ${m.seq}; run audit verify.`,
        {
          details: { seq: m.seq },
        },
      );
    }
    state.batchHashes.push(e.hash);
    state.nextSeq = e.seq + 1;
    state.headHash = e.hash;
  }
  return state;
}

/**
 * Checks a receipt with `verifyCompact` of `@passerelle/envelope` (its strict JWS header allowlist), with the
 * receiver's key valid at the receipt's `receivedAt`.
 */
async function checkReceiptSignature(input: ReceiptIntake, resolver: KeyResolver): Promise<void> {
  const { claims } = input;
  try {
    await verifyCompact(input.jws, (kid) =>
      resolver.resolve(claims.receiver, 'sig', new Date(claims.receivedAt), kid),
    );
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new LedgerError(
      'ERR_LEDGER_INPUT_REJECTED',
      `Refused receipt for ${claims.messageId}: ${typeof code === 'string' ? code : 'the signature does not verify'}.`,
      { cause: err, details: typeof code === 'string' ? { cause: code } : {} },
    );
  }
}

/**
 * Starts a ledger writer: resumes from the last stored entry, then appends each entry with JetStream's
 * expected-last-sequence check, so a second writer can never fork the chain — on a mismatch it reloads the
 * head from the stream and rebuilds its entry on top of it. Entry seq equals the LEDGER stream sequence.
 *
 * @example
 * ```ts
 * const writer = await createLedgerWriter({ nc, auditorKey, resolver: directory, checkpointEvery: 1000 });
 * await writer.appendEnvelope(msg.data);
 * ```
 */
export async function createLedgerWriter(options: LedgerWriterOptions): Promise<LedgerWriter> {
  const load = (): Promise<ChainState> =>
    loadChainState(options.nc, options.archivedHead ? { archivedHead: options.archivedHead } : {});
  return new StreamLedgerWriter(options, load, await load());
}

/**
 * The writer {@link createLedgerWriter} returns: the chain in memory, the appends to LEDGER one at a time, and
 * the checkpoints (by count, by time, on demand) with what the metrics read of them.
 */
class StreamLedgerWriter implements LedgerWriter {
  readonly #options: LedgerWriterOptions;
  readonly #now: () => Date;
  readonly #every: number;
  readonly #js: JetStreamClient;
  readonly #load: () => Promise<ChainState>;
  #chain: LedgerChain;
  #queue: Promise<unknown> = Promise.resolve();
  // Envelopes and receipts waiting for a checkpoint (after a restart: whatever is pending). Only they start a
  // checkpoint by time: a batch of timestamp entries alone waits for the next traffic, else each token would
  // call for a checkpoint that calls for a token, for ever.
  #recordsPending: number;
  #oldestPendingAt: Date | undefined;
  #lastCheckpoint: CheckpointLedgerEntry | undefined;
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: LedgerWriterOptions, load: () => Promise<ChainState>, state: ChainState) {
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
    this.#every = options.checkpointEvery ?? 1000;
    this.#js = jetstream(options.nc, { timeout: 30_000 });
    this.#load = load;
    this.#chain = new LedgerChain(state);
    this.#recordsPending = this.#chain.pending;
    // a writer resuming a batch does not know when its entries came: it counts from its start
    this.#oldestPendingAt = this.#recordsPending > 0 ? this.#now() : undefined;
    if ((options.checkpointIntervalMs ?? 60_000) > 0) {
      this.#timer = setInterval(() => {
        if (this.#recordsPending > 0) void this.checkpoint().catch(() => undefined);
      }, options.checkpointIntervalMs ?? 60_000);
      this.#timer.unref();
    }
  }

  get state(): ChainState {
    return this.#chain.state;
  }

  get oldestPendingAt(): Date | undefined {
    return this.#oldestPendingAt;
  }

  get lastCheckpoint(): CheckpointLedgerEntry | undefined {
    return this.#lastCheckpoint;
  }

  appendEnvelope(raw: Uint8Array | string): Promise<EnvelopeLedgerEntry> {
    return this.#serial(async () => {
      const input = await envelopeIntake(raw, this.#options.resolver, this.#options.maxEnvelopeBytes);
      const entry = await this.#store(
        () => this.#chain.envelopeEntry(input, this.#now()),
        (e) => `envelope-${e.meta.id}`,
      );
      this.#recordsPending++;
      await this.#afterAppend();
      return entry as EnvelopeLedgerEntry;
    });
  }

  appendReceipt(raw: Uint8Array | string): Promise<ReceiptLedgerEntry> {
    return this.#serial(async () => {
      const input = receiptIntake(raw);
      await checkReceiptSignature(input, this.#options.resolver);
      const entry = await this.#store(
        () => this.#chain.receiptEntry(input, this.#now()),
        (e) => `receipt-${e.meta.messageId}-${e.meta.receiver}`,
      );
      this.#recordsPending++;
      await this.#afterAppend();
      return entry as ReceiptLedgerEntry;
    });
  }

  appendTimestamp(claims: TimestampClaims, token: Uint8Array): Promise<TimestampLedgerEntry> {
    return this.#serial(async () => {
      const entry = await this.#store(
        () => this.#chain.timestampEntry(claims, token, this.#now()),
        (e) => `timestamp-${e.meta.checkpoints[0]?.seq ?? 0}-${e.meta.checkpoints.length}`,
      );
      await this.#afterAppend();
      return entry as TimestampLedgerEntry;
    });
  }

  checkpoint(): Promise<CheckpointLedgerEntry | undefined> {
    return this.#serial(() => this.#checkpointNow());
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.checkpoint();
  }

  // Appends run one at a time; the chain state is only advanced once the stream has the entry.
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  // Publishes with the expected last sequence, so a second writer cannot fork the chain: on a mismatch the
  // head is reloaded from the stream and the entry built again on top of it.
  async #store<E extends LedgerEntry>(
    build: () => E | undefined | Promise<E | undefined>,
    msgId: (e: E) => string,
  ): Promise<E | undefined> {
    for (let attempt = 1; ; attempt++) {
      const entry = await build();
      if (!entry) return undefined;
      const outcome = await appendAtHead(this.#js, entry, msgId(entry));
      if ('ack' in outcome) {
        if (outcome.ack.duplicate) {
          // Already recorded (a redelivered input): return what the stream holds, leave the chain as is.
          const jsm = await jetstreamManager(this.#options.nc, { timeout: 30_000 });
          const stored = await jsm.streams.getMessage(StreamNames.ledger, { seq: outcome.ack.seq });
          if (!stored)
            throw new LedgerError('ERR_LEDGER_NOT_FOUND', `Entry ${outcome.ack.seq} vanished from LEDGER.`);
          return parseEntry(stored.data, outcome.ack.seq) as E;
        }
        this.#chain.advance(entry);
        return entry;
      }
      if (attempt >= MAX_ATTEMPTS) {
        throw new LedgerError(
          'ERR_LEDGER_CONFLICT',
          `Another writer keeps appending to LEDGER (entry ${entry.seq}).`,
          {
            details: { seq: entry.seq },
            cause: outcome.moved,
          },
        );
      }
      this.#chain = new LedgerChain(await this.#load());
    }
  }

  async #checkpointNow(): Promise<CheckpointLedgerEntry | undefined> {
    const cp = await this.#store(
      () => this.#chain.checkpointEntry(this.#options.auditorKey, this.#now()),
      (e) => `checkpoint-${e.seq}`,
    );
    if (cp) {
      this.#recordsPending = 0;
      this.#oldestPendingAt = undefined;
      this.#lastCheckpoint = cp;
      this.#options.onCheckpoint?.(cp);
    }
    return cp;
  }

  async #afterAppend(): Promise<void> {
    // only envelopes and receipts make a checkpoint late (see #recordsPending)
    if (this.#recordsPending > 0) this.#oldestPendingAt ??= this.#now();
    if (this.#chain.pending >= this.#every) await this.#checkpointNow();
  }
}
