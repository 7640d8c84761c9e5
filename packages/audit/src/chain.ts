import { GENESIS_HASH } from './digest.js';
import {
  type CheckpointClaims,
  type CheckpointLedgerEntry,
  type EnvelopeLedgerEntry,
  type ErasureClaims,
  type ErasureLedgerEntry,
  LEDGER_FORMAT_VERSION,
  type LedgerEntry,
  type LedgerEnvelopeMeta,
  type LedgerReceiptClaims,
  type ReceiptLedgerEntry,
  type TimestampClaims,
  type TimestampLedgerEntry,
  type UnhashedEntry,
  sealEntry,
} from './entry.js';
import { signCompact } from '@passerelle/envelope';
import type { PrivateJwk } from './keys.js';
import { LedgerError } from './ledger-error.js';
import { merkleRoot } from './merkle.js';

/** Media type of the checkpoint JWS header. */
export const CHECKPOINT_TYP = 'pex-checkpoint+jws';

/** Where a chain stands: the next sequence, the head hash and the batch since the last checkpoint. */
export interface ChainState {
  nextSeq: number;
  headHash: string;
  /** Seq of the first entry not yet covered by a checkpoint. */
  batchFirstSeq: number;
  /** Entry hashes of the batch, in order. */
  batchHashes: string[];
}

/** The state of an empty ledger. */
export function emptyChainState(): ChainState {
  return { nextSeq: 1, headHash: GENESIS_HASH, batchFirstSeq: 1, batchHashes: [] };
}

/**
 * Pure chain builder: makes the next entry from the current state (without changing it) and advances the
 * state once that entry is durably stored. The {@link LedgerWriter} stores; tests and benchmarks build
 * ledgers in memory with the same code.
 *
 * @example
 * ```ts
 * const chain = new LedgerChain();
 * const entry = chain.envelopeEntry({ meta, jweSha256, envelopeSha256, seal }, new Date());
 * chain.advance(entry);
 * const checkpoint = await chain.checkpointEntry(auditorKey, new Date());
 * ```
 */
export class LedgerChain {
  #state: ChainState;

  constructor(state: ChainState = emptyChainState()) {
    this.#state = { ...state, batchHashes: [...state.batchHashes] };
  }

  /** A copy of the current state. */
  get state(): ChainState {
    return { ...this.#state, batchHashes: [...this.#state.batchHashes] };
  }

  /** Entries waiting for a checkpoint. */
  get pending(): number {
    return this.#state.batchHashes.length;
  }

  /** The entry that records an envelope, at the next sequence. */
  envelopeEntry(
    input: { meta: LedgerEnvelopeMeta; jweSha256: string; envelopeSha256: string; seal: string },
    receivedAt: Date,
  ): EnvelopeLedgerEntry {
    // field by field: nothing else the caller's object carries may enter the hashed entry
    const { meta, jweSha256, envelopeSha256, seal } = input;
    return this.#next<EnvelopeLedgerEntry>(
      { kind: 'envelope', meta, jweSha256, envelopeSha256, seal },
      receivedAt,
    );
  }

  /** The entry that records a receipt, at the next sequence. */
  receiptEntry(input: { claims: LedgerReceiptClaims; jws: string }, receivedAt: Date): ReceiptLedgerEntry {
    return this.#next<ReceiptLedgerEntry>(
      { kind: 'receipt', meta: input.claims, seal: input.jws },
      receivedAt,
    );
  }

  /** The entry that records an erasure (its claims and the eraser's JWS over them), at the next sequence. */
  erasureEntry(input: { claims: ErasureClaims; jws: string }, receivedAt: Date): ErasureLedgerEntry {
    return this.#next<ErasureLedgerEntry>(
      { kind: 'erasure', meta: input.claims, seal: input.jws },
      receivedAt,
    );
  }

  /** The entry that records an RFC 3161 token (DER) over earlier checkpoints, at the next sequence. */
  timestampEntry(claims: TimestampClaims, token: Uint8Array, receivedAt: Date): TimestampLedgerEntry {
    return this.#next<TimestampLedgerEntry>(
      { kind: 'timestamp', meta: claims, token: Buffer.from(token).toString('base64') },
      receivedAt,
    );
  }

  /**
   * The checkpoint over the pending batch, signed by `auditorKey` (`signCompact` of `@passerelle/envelope`);
   * `undefined` when nothing is pending.
   */
  async checkpointEntry(auditorKey: PrivateJwk, now: Date): Promise<CheckpointLedgerEntry | undefined> {
    const s = this.#state;
    if (s.batchHashes.length === 0) return undefined;
    const claims: CheckpointClaims = {
      ledger: 'pex-ledger',
      firstSeq: s.batchFirstSeq,
      lastSeq: s.nextSeq - 1,
      size: s.batchHashes.length,
      root: merkleRoot(s.batchHashes),
      headHash: s.headHash,
      issuedAt: now.toISOString(),
    };
    const seal = await signCompact(claims, auditorKey, { typ: CHECKPOINT_TYP });
    return this.#next<CheckpointLedgerEntry>({ kind: 'checkpoint', meta: claims, seal }, now);
  }

  /** Seals `body` as the next entry: the format version, the next sequence, its time, the link to the head. */
  #next<E extends LedgerEntry>(
    body: Omit<E, 'v' | 'seq' | 'receivedAt' | 'prevHash' | 'hash'>,
    receivedAt: Date,
  ): E {
    return sealEntry<E>({
      ...body,
      v: LEDGER_FORMAT_VERSION,
      seq: this.#state.nextSeq,
      receivedAt: receivedAt.toISOString(),
      prevHash: this.#state.headHash,
    } as unknown as UnhashedEntry<E>);
  }

  /** Moves the state past `entry`, which must be the next one. */
  advance(entry: LedgerEntry): void {
    const s = this.#state;
    if (entry.seq !== s.nextSeq || entry.prevHash !== s.headHash) {
      throw new LedgerError(
        'ERR_LEDGER_CHAIN_BROKEN',
        `Entry ${entry.seq} does not follow seq ${s.nextSeq - 1}.`,
        {
          details: { seq: entry.seq },
        },
      );
    }
    s.nextSeq = entry.seq + 1;
    s.headHash = entry.hash;
    if (entry.kind === 'checkpoint') {
      s.batchHashes = [];
      s.batchFirstSeq = entry.seq + 1;
    } else {
      s.batchHashes.push(entry.hash);
    }
  }
}
