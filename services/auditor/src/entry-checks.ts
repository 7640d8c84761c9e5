import {
  AUDITOR_ID,
  type CheckpointLedgerEntry,
  type KeyResolver,
  type SignedLedgerEntry,
  canonicalJson,
  merkleRoot,
} from '@passerelle/audit';
import { verifyCompact } from '@passerelle/envelope';
import type { LedgerIndex } from './ledger-index.js';

/** The outcome of one check shown to a security officer. */
export interface CheckResult {
  ok: boolean;
  /** Why it failed, free of personal data (codes, seqs, participant ids). */
  reason?: string;
}

/** What a checkpoint establishes, checked in full: signature, range, Merkle root, head hash. */
export interface CheckpointCheck extends CheckResult {
  seq: number;
  firstSeq: number;
  lastSeq: number;
  issuedAt: string;
  root: string;
}

const ok: CheckResult = { ok: true };
const fail = (reason: string): CheckResult => ({ ok: false, reason });

function signerOf(entry: SignedLedgerEntry): { signer: string; at: string; expected: unknown } {
  if (entry.kind === 'envelope') {
    return {
      signer: entry.meta.sender,
      at: entry.meta.issuedAt,
      expected: { v: 1, meta: entry.meta, jweSha256: entry.jweSha256 },
    };
  }
  if (entry.kind === 'receipt')
    return { signer: entry.meta.receiver, at: entry.meta.receivedAt, expected: entry.meta };
  if (entry.kind === 'erasure')
    return { signer: entry.meta.by, at: entry.meta.erasedAt, expected: entry.meta };
  return { signer: AUDITOR_ID, at: entry.meta.issuedAt, expected: entry.meta };
}

/**
 * Checks an entry's JWS — the sender's seal, the receiver's receipt or the auditor's checkpoint — with the
 * key the directory holds for the signer at the signing time (`issuedAt`, the receipt's `receivedAt`), and
 * that the signed payload is exactly what the entry records. Never throws: a failure is a result.
 *
 * @example
 * ```ts
 * const seal = await checkEntrySignature(entry, directory); // { ok: true }
 * ```
 */
export async function checkEntrySignature(
  entry: SignedLedgerEntry,
  resolver: KeyResolver,
): Promise<CheckResult> {
  const { signer, at, expected } = signerOf(entry);
  const when = new Date(at);
  if (Number.isNaN(when.getTime())) return fail('the signing time is not a date');
  let payload: unknown;
  try {
    ({ payload } = await verifyCompact(entry.seal, (kid) => resolver.resolve(signer, 'sig', when, kid)));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return fail(
      `${typeof code === 'string' ? code : 'ERR_SIGNATURE_INVALID'}: no valid signature by ${signer} at ${at}`,
    );
  }
  if (canonicalJson(payload) !== canonicalJson(expected))
    return fail('the signed payload differs from the recorded entry');
  return ok;
}

/**
 * Verifies checkpoints against the stored ledger and remembers the result (a checkpoint never changes once
 * written; a stored entry that changes breaks the chain, which the index reports separately).
 */
export class CheckpointVerifier {
  readonly #index: LedgerIndex;
  readonly #resolver: KeyResolver;
  readonly #cache = new Map<number, Promise<CheckpointCheck>>();

  constructor(index: LedgerIndex, resolver: KeyResolver) {
    this.#index = index;
    this.#resolver = resolver;
  }

  /** The full check of checkpoint `seq`. */
  check(seq: number): Promise<CheckpointCheck> {
    let p = this.#cache.get(seq);
    if (!p) {
      p = this.#run(seq);
      this.#cache.set(seq, p);
      // A failure to read (server away) must not be remembered as a verdict.
      p.catch(() => this.#cache.delete(seq));
    }
    return p;
  }

  async #run(seq: number): Promise<CheckpointCheck> {
    const entry = await this.#index.entry(seq);
    if (entry.kind !== 'checkpoint') {
      return { seq, firstSeq: 0, lastSeq: 0, issuedAt: '', root: '', ok: false, reason: 'not a checkpoint' };
    }
    const cp: CheckpointLedgerEntry = entry;
    const c = cp.meta;
    const base = { seq, firstSeq: c.firstSeq, lastSeq: c.lastSeq, issuedAt: c.issuedAt, root: c.root };
    const signature = await checkEntrySignature(cp, this.#resolver);
    if (!signature.ok) return { ...base, ...signature };
    if (c.lastSeq !== seq - 1 || c.size !== c.lastSeq - c.firstSeq + 1 || c.firstSeq < 1) {
      return { ...base, ok: false, reason: `covers ${c.firstSeq}..${c.lastSeq}, not the batch before it` };
    }
    const hashes = (await this.#index.entries(c.firstSeq, c.lastSeq)).map((e) => e.hash);
    if (hashes[hashes.length - 1] !== c.headHash || cp.prevHash !== c.headHash)
      return { ...base, ok: false, reason: 'headHash is not the hash of the last entry covered' };
    if (merkleRoot(hashes) !== c.root)
      return { ...base, ok: false, reason: 'the Merkle root does not match the entries it covers' };
    return { ...base, ok: true };
  }
}
