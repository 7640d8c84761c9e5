import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ErasureLedgerEntry, erasureSubject, parseEntry, recordErasure } from '@passerelle/audit';
import { loadParticipantKeys } from '@passerelle/directory';
import {
  DOSSIER_KEYS_BUCKET,
  ExchangeError,
  StreamNames,
  assertErasureBasis,
  eraseDossier,
} from '@passerelle/exchange';
import { jetstreamManager } from '@nats-io/jetstream';
import { isPasserelleError } from '@passerelle/errors';
import { type ServerOptions, credentialsOption, serverOption, withJetStream } from '../context.js';
import { printJson } from '../print-json.js';

/** What `passerelle dossier erase` did. */
export interface DossierEraseResult {
  dossierId: string;
  /** Participants whose copy of the dossier's key was destroyed (empty when an earlier run destroyed them). */
  holders: string[];
  /** The ledger entry recording the erasure. */
  ledgerSeq: number;
  erasedAt: string;
}

async function recordedErasure(
  nc: NatsConnection,
  dossierId: string,
): Promise<ErasureLedgerEntry | undefined> {
  const jsm = await jetstreamManager(nc, { timeout: 15_000 });
  const stored = await jsm.streams
    .getMessage(StreamNames.ledger, { last_by_subj: erasureSubject(dossierId) })
    .catch(() => null);
  return stored ? (parseEntry(stored.data, stored.seq) as ErasureLedgerEntry) : undefined;
}

/**
 * Erases one dossier: destroys its key in `pex-dossier-keys` (every participant's copy), then records the
 * act in the ledger, signed by the participant in `keys`. The basis is checked first
 * (`ERR_ERASURE_BASIS_MISSING`), and a dossier without keys is `ERR_ERASURE_UNKNOWN_DOSSIER`. A dossier
 * erased by an earlier run that could not record it is recorded now; one already recorded is
 * `ERR_DOSSIER_ERASED`.
 *
 * @example
 * ```ts
 * await eraseDossierNow(nc, 'D-2027-0042', 'GDPR Art. 17(1)(a), request 2027-0042', keys);
 * ```
 */
export async function eraseDossierNow(
  nc: NatsConnection,
  dossierId: string,
  basis: string,
  signer: { participantId: string; signing: Parameters<typeof recordErasure>[2]['key'] },
  options: { bucket?: string } = {},
): Promise<DossierEraseResult> {
  const checkedBasis = assertErasureBasis(basis);
  const kv = await new Kvm(nc).open(options.bucket ?? DOSSIER_KEYS_BUCKET).catch((cause: unknown) => {
    throw new ExchangeError(
      'ERR_ERASURE_UNKNOWN_DOSSIER',
      `No dossier key exists on this exchange (no ${options.bucket ?? DOSSIER_KEYS_BUCKET} bucket): there is nothing of ${dossierId} to erase.`,
      { cause, details: { dossierId } },
    );
  });
  let record;
  try {
    record = await eraseDossier(kv, dossierId);
  } catch (err) {
    if (!(isPasserelleError(err) && err.code === 'ERR_DOSSIER_ERASED')) throw err;
    if (await recordedErasure(nc, dossierId)) throw err;
    // destroyed by a run that stopped before recording it: the ledger gets it now
    const head = await kv.get(`${dossierId}._`);
    const erased = head?.json<{ erasedAt: string }>();
    if (!erased) throw err;
    record = { dossierId, kids: [], holders: [], erasedAt: erased.erasedAt };
  }
  const entry = await recordErasure(
    nc,
    { ...record, basis: checkedBasis },
    {
      participantId: signer.participantId,
      key: signer.signing,
    },
  );
  return { dossierId, holders: record.holders, ledgerSeq: entry.seq, erasedAt: record.erasedAt };
}

/** Registers `passerelle dossier erase <dossierId> --basis <text> --keys <dir>` under `dossier`. */
export function registerDossierErase(dossier: Command): void {
  dossier
    .command('erase')
    .description(
      'erase a dossier by destroying its key: none of its payloads, documents or records decrypts anywhere any more; the act is recorded in the ledger',
    )
    .argument('<dossierId>', 'pseudonymous dossier id')
    .option('--basis <text>', 'the legal basis, as a reference (never personal data), recorded in the ledger')
    .requiredOption('--keys <dir>', "the erasing participant's key folder: it signs the ledger record")
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option('--json', 'print JSON')
    .action(
      async (dossierId: string, opts: ServerOptions & { basis?: string; keys: string; json?: boolean }) => {
        const basis = assertErasureBasis(opts.basis);
        const keys = await loadParticipantKeys(resolve(opts.keys));
        const result = await withJetStream(opts, (nc) => eraseDossierNow(nc, dossierId, basis, keys));
        if (opts.json) printJson(result);
        else {
          console.log(
            `dossier ${dossierId} erased at ${result.erasedAt}: the keys of ${result.holders.length} holders destroyed, recorded as ledger entry ${result.ledgerSeq}`,
          );
        }
      },
    );
}
