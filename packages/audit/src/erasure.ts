import { JetStreamApiError, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { signCompact } from '@passerelle/envelope';
import { LedgerChain } from './chain.js';
import type { ErasureClaims, ErasureLedgerEntry } from './entry.js';
import { serializeEntry } from './entry.js';
import type { PrivateJwk } from './keys.js';
import { LedgerError } from './ledger-error.js';
import { ledgerSubject } from './subjects.js';
import { loadChainState } from './writer.js';

/** JetStream API error code of a publish whose `Nats-Expected-Last-Sequence` did not match. */
const WRONG_LAST_SEQUENCE = 10071;
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
    try {
      const ack = await js.publish(ledgerSubject(entry), serializeEntry(entry), {
        msgID: `erasure-${record.dossierId}`,
        expect: { lastSequence: entry.seq - 1 },
      });
      if (ack.duplicate) {
        throw new LedgerError(
          'ERR_LEDGER_CONFLICT',
          `The erasure of dossier ${record.dossierId} is recorded already (entry ${ack.seq}).`,
          { details: { seq: ack.seq } },
        );
      }
      return entry;
    } catch (err) {
      const wrongSeq = err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
      if (!wrongSeq) throw err;
      if (attempt >= MAX_ATTEMPTS) {
        throw new LedgerError(
          'ERR_LEDGER_CONFLICT',
          `The ledger kept moving while the erasure of dossier ${record.dossierId} was recorded.`,
          { details: { seq: entry.seq }, cause: err },
        );
      }
    }
  }
}
