import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type KeyResolver, signCompact, verifyCompact } from '@passerelle/envelope';
import { LedgerChain } from './chain.js';
import type { ErasureClaims, ErasureLedgerEntry } from './entry.js';
import { appendAtHead } from './append-at-head.js';
import type { PrivateJwk } from './keys.js';
import { LedgerError } from './ledger-error.js';
import { signatureSpec } from './signature-spec.js';
import { loadChainState } from './writer.js';

const MAX_ATTEMPTS = 8;

/** What {@link recordErasure} records. */
export interface ErasureRecord {
  dossierId: string;
  /** The legal basis, as a reference: never personal data. */
  basis: string;
  /** Ids of the destroyed keys. */
  kids: string[];
  /** Participants whose copy was destroyed. */
  holders: string[];
  erasedAt: string;
}

/**
 * Records an erasure in the ledger, signed by the erasing participant: appended after the current head with
 * JetStream's expected-last-sequence check (the auditor's writer, appending at the same time, reloads its
 * head and goes on after it; the auditor's next checkpoint covers the erasure). Recording the same
 * dossier's erasure again returns the entry already stored.
 *
 * @example
 * ```ts
 * const erased = await eraseDossier(dossierKeys.kv, dossierId);
 * await recordErasure(nc, { ...erased, basis }, { participantId: 'immigration-office', key: keys.signing });
 * ```
 */
export async function recordErasure(
  nc: NatsConnection,
  record: ErasureRecord,
  signer: { participantId: string; key: PrivateJwk },
  now: () => Date = () => new Date(),
): Promise<ErasureLedgerEntry> {
  const claims: ErasureClaims = {
    ledger: 'pex-ledger',
    dossierId: record.dossierId,
    basis: record.basis,
    by: signer.participantId,
    kids: [...record.kids],
    holders: [...record.holders],
    erasedAt: record.erasedAt,
  };
  const jws = await signCompact(claims, signer.key, {
    typ: 'passerelle-erasure+jws',
  });
  const js = jetstream(nc, { timeout: 30_000 });
  for (let attempt = 1; ; attempt++) {
    const chain = new LedgerChain(await loadChainState(nc));
    const entry = chain.erasureEntry({ claims, jws }, now());
    const outcome = await appendAtHead(js, entry, `erasure-${record.dossierId}`);
    if ('ack' in outcome) {
      if (outcome.ack.duplicate) {
        throw new LedgerError(
          'ERR_LEDGER_CONFLICT',
          `The erasure of dossier ${record.dossierId} is recorded already (entry ${outcome.ack.seq}).`,
          { details: { seq: outcome.ack.seq } },
        );
      }
      return entry;
    }
    if (attempt >= MAX_ATTEMPTS) {
      throw new LedgerError(
        'ERR_LEDGER_CONFLICT',
        `The ledger kept moving while the erasure of dossier ${record.dossierId} was recorded.`,
        { details: { seq: entry.seq }, cause: outcome.moved },
      );
    }
  }
}

/**
 * Checks that an erasure entry is what its signer signed: the JWS covers the entry's claims, and verifies
 * under the key the directory gives the signer (`by`) at the erasure's time. Whoever acts on an erasure
 * found in the ledger or an archive (destroying keys again after a restore) checks it first, so that an
 * entry written by anyone else destroys nothing. Throws `ERR_LEDGER_SEAL_INVALID` with the reason.
 */
export async function verifyErasureSeal(entry: ErasureLedgerEntry, resolver: KeyResolver): Promise<void> {
  const spec = signatureSpec(entry);
  const refuse = (reason: string, cause?: unknown): LedgerError =>
    new LedgerError(
      'ERR_LEDGER_SEAL_INVALID',
      `The erasure entry ${entry.seq} of dossier ${entry.meta.dossierId} is not signed by its eraser: ${reason}.`,
      { details: { seq: entry.seq, dossierId: entry.meta.dossierId }, ...(cause ? { cause } : {}) },
    );
  if (!('signer' in spec)) throw refuse(spec.reason);
  try {
    await verifyCompact(entry.seal, (kid) => resolver.resolve(spec.signer, 'sig', spec.at, kid));
  } catch (cause) {
    const code = (cause as { code?: string }).code ?? 'an error';
    throw refuse(`no key ${spec.kid} of ${spec.signer} valid then verifies it (${code})`, cause);
  }
}
