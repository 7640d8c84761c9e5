import { verifyCompact } from '@passerelle/envelope';
import type { CheckpointLedgerEntry, EnvelopeLedgerEntry, LedgerEntry } from './entry.js';
import { entryHash } from './entry.js';
import type { KeyResolver, PublicJwk } from './keys.js';
import { LedgerError } from './ledger-error.js';
import { inclusionPath, rootFromPath } from './merkle.js';
import { AUDITOR_ID, signatureSpec } from './signature-spec.js';

/** A self-contained proof that one envelope is in the ledger under a signed checkpoint. */
export interface InclusionProof {
  format: 'passerelle-inclusion-proof';
  version: 1;
  /** The envelope's ledger entry (meta, hashes, seal: no payload). */
  entry: EnvelopeLedgerEntry;
  /** Position of the entry in the checkpoint's batch, and the batch size. */
  leafIndex: number;
  treeSize: number;
  /** RFC 6962 audit path, leaf to root, hex. */
  path: string[];
  /** The checkpoint entry whose signed root covers the entry. */
  checkpoint: CheckpointLedgerEntry;
  /** The public keys that verify the seal and the checkpoint (valid at the time they signed). */
  keys: { sender: { participantId: string; jwk: PublicJwk }; auditor: { jwk: PublicJwk } };
}

/**
 * Builds the inclusion proof of envelope `messageId` from the ledger read in order: finds its entry, then
 * the first checkpoint after it, and computes the Merkle path. Throws `ERR_LEDGER_NOT_FOUND` when the
 * message is absent or no checkpoint covers it yet.
 *
 * @example
 * ```ts
 * const proof = await proveMessage(readLedgerEntries(nc), messageId, directory);
 * ```
 */
export async function proveMessage(
  entries: AsyncIterable<LedgerEntry> | Iterable<LedgerEntry>,
  messageId: string,
  resolver: KeyResolver,
): Promise<InclusionProof> {
  let batch: string[] = [];
  let target: { entry: EnvelopeLedgerEntry; index: number } | undefined;
  for await (const e of entries) {
    if (e.kind === 'checkpoint') {
      if (target) {
        const spec = signatureSpec(target.entry);
        const cpSpec = signatureSpec(e);
        if (!('signer' in spec) || !('signer' in cpSpec)) {
          throw new LedgerError(
            'ERR_PROOF_INVALID',
            `Entry ${target.entry.seq} or checkpoint ${e.seq} has an unusable JWS.`,
          );
        }
        return {
          format: 'passerelle-inclusion-proof',
          version: 1,
          entry: target.entry,
          leafIndex: target.index,
          treeSize: batch.length,
          path: inclusionPath(batch, target.index),
          checkpoint: e,
          keys: {
            sender: {
              participantId: spec.signer,
              jwk: await resolver.resolve(spec.signer, 'sig', spec.at, spec.kid),
            },
            auditor: { jwk: await resolver.resolve(AUDITOR_ID, 'sig', cpSpec.at, cpSpec.kid) },
          },
        };
      }
      batch = [];
      continue;
    }
    if (!target && e.kind === 'envelope' && e.meta.id === messageId)
      target = { entry: e, index: batch.length };
    batch.push(e.hash);
  }
  throw new LedgerError(
    'ERR_LEDGER_NOT_FOUND',
    target
      ? `Message ${messageId} is in the ledger but no checkpoint covers it yet.`
      : `Message ${messageId} is not in the ledger.`,
  );
}

/** Trust for {@link checkProof}: a pinned auditor key, or a directory (online or offline, anchored). */
export interface ProofTrust {
  /** The auditor's public key, obtained out of band. */
  auditorKey?: PublicJwk;
  /** A directory resolver: checks the auditor key and the sender key at their signing times. */
  resolver?: KeyResolver;
}

/** What {@link checkProof} established. */
export interface ProofCheck {
  messageId: string;
  seq: number;
  checkpointSeq: number;
  root: string;
  /** Where the sender key came from: the directory, or the proof itself (vouched for by the checkpoint). */
  senderKeyFrom: 'directory' | 'proof';
}

/** Whether a JWS verifies with this key, through the envelope's one JWS path. */
async function verifiesWith(jws: string, key: PublicJwk): Promise<boolean> {
  try {
    await verifyCompact(jws, () => Promise.resolve(key));
    return true;
  } catch {
    return false;
  }
}

function invalid(step: string): never {
  throw new LedgerError('ERR_PROOF_INVALID', `Inclusion proof refused: ${step}.`);
}

/**
 * Checks an inclusion proof offline: entry hash, Merkle path to the checkpoint's root, the checkpoint's
 * auditor signature (pinned key or directory), and the sender's seal. Throws `ERR_PROOF_INVALID` naming the
 * failing step.
 *
 * @example
 * ```ts
 * const result = await checkProof(JSON.parse(readFileSync('proof.json', 'utf8')), { auditorKey });
 * ```
 */
export async function checkProof(proof: InclusionProof, trust: ProofTrust): Promise<ProofCheck> {
  if (!trust.auditorKey && !trust.resolver) invalid('no auditor key or directory to trust');
  if (proof?.format !== 'passerelle-inclusion-proof' || proof.version !== 1)
    invalid('not a version 1 inclusion proof');
  const { entry, checkpoint } = proof;
  if (entry?.kind !== 'envelope' || checkpoint?.kind !== 'checkpoint') invalid('entry or checkpoint missing');
  if (entryHash(entry) !== entry.hash) invalid('the entry does not hash to its recorded hash');
  if (entryHash(checkpoint) !== checkpoint.hash) invalid('the checkpoint does not hash to its recorded hash');
  const c = checkpoint.meta;
  if (proof.treeSize !== c.size || entry.seq !== c.firstSeq + proof.leafIndex || !Array.isArray(proof.path)) {
    invalid('the entry position does not match the checkpoint range');
  }
  if (rootFromPath(entry.hash, proof.leafIndex, proof.treeSize, proof.path) !== c.root) {
    invalid("the Merkle path does not lead to the checkpoint's root");
  }
  const cpSpec = signatureSpec(checkpoint);
  if (!('signer' in cpSpec)) invalid(`checkpoint: ${cpSpec.reason}`);
  let auditorKey = trust.auditorKey;
  if (!auditorKey) {
    try {
      auditorKey = await (trust.resolver as KeyResolver).resolve(AUDITOR_ID, 'sig', cpSpec.at, cpSpec.kid);
    } catch {
      invalid(`the directory has no auditor key ${cpSpec.kid} valid at ${cpSpec.at.toISOString()}`);
    }
  }
  if (!(await verifiesWith(checkpoint.seal, auditorKey)))
    invalid("the checkpoint signature does not verify with the auditor's key");
  const spec = signatureSpec(entry);
  if (!('signer' in spec)) invalid(`seal: ${spec.reason}`);
  let senderKey: PublicJwk = proof.keys?.sender?.jwk;
  let senderKeyFrom: ProofCheck['senderKeyFrom'] = 'proof';
  if (trust.resolver) {
    try {
      senderKey = await trust.resolver.resolve(spec.signer, 'sig', spec.at, spec.kid);
      senderKeyFrom = 'directory';
    } catch {
      invalid(`the directory has no key ${spec.kid} of ${spec.signer} valid at ${spec.at.toISOString()}`);
    }
  }
  if (!senderKey || !(await verifiesWith(entry.seal, senderKey)))
    invalid("the seal does not verify with the sender's key");
  return {
    messageId: entry.meta.id,
    seq: entry.seq,
    checkpointSeq: checkpoint.seq,
    root: c.root,
    senderKeyFrom,
  };
}
