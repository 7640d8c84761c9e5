import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type ArchiveStore,
  type ErasureLedgerEntry,
  folderArchive,
  parseEntry,
  readLedgerEntries,
  verifyErasureSeal,
} from '@passerelle/audit';
import type { KeyResolver } from '@passerelle/envelope';
import { DOSSIER_KEYS_BUCKET, type ReappliedErasure, reapplyErasure } from '@passerelle/exchange';
import { type ServerOptions, credentialsOption, serverOption, withJetStream } from '../context.js';
import { type TrustOptions, keyResolver } from '../key-resolver.js';
import { printJson } from '../print-json.js';

/** What `passerelle dossier reapply-erasures` did. */
export interface ReapplyErasuresResult {
  /** Erasures the ledger (and the archive, when given) records, one per dossier. */
  recorded: number;
  /** Those a restore had undone, erased again: their heads marked and their key copies purged. */
  reapplied: ReappliedErasure[];
  /** Erasure entries whose seal does not verify under the directory: nothing is destroyed on their word. */
  refused: { dossierId: string; seq: number; reason: string }[];
}

/** The erasures to apply, by dossier, and the entries refused. */
interface Found {
  erasures: Map<string, string>;
  refused: ReapplyErasuresResult['refused'];
}

/** Keeps an erasure entry whose seal verifies; records the others as refused. */
async function collect(entry: ErasureLedgerEntry, resolver: KeyResolver, into: Found): Promise<void> {
  try {
    await verifyErasureSeal(entry, resolver);
  } catch (err) {
    into.refused.push({ dossierId: entry.meta.dossierId, seq: entry.seq, reason: (err as Error).message });
    return;
  }
  into.erasures.set(entry.meta.dossierId, entry.meta.erasedAt);
}

/** Erasures an archive's segments record (header and trailer lines are not entries, and are skipped). */
async function archivedErasures(store: ArchiveStore, resolver: KeyResolver, into: Found): Promise<void> {
  for (const name of await store.list()) {
    for await (const line of store.lines(name)) {
      let entry;
      try {
        entry = parseEntry(line);
      } catch {
        continue;
      }
      if (entry.kind === 'erasure') await collect(entry, resolver, into);
    }
  }
}

/**
 * Applies again every erasure the ledger records — the live `LEDGER` and, with `archive`, its archive
 * segments — to `pex-dossier-keys`: after a restore of the key bucket from a backup taken before some
 * erasure, the keys that backup brought back are destroyed again. Run it after any restore, before the
 * services start; an erasure still in force is left as it is, so it may run any number of times. Each
 * erasure entry's seal is checked against `resolver` (the directory) first: an entry its eraser did not
 * sign destroys nothing and is returned in `refused`.
 *
 * @example
 * ```ts
 * const { reapplied } = await reapplyErasures(nc, directory, { archive: '/var/lib/passerelle/ledger-archive' });
 * ```
 */
export async function reapplyErasures(
  nc: NatsConnection,
  resolver: KeyResolver,
  options: { archive?: string; bucket?: string } = {},
): Promise<ReapplyErasuresResult> {
  const found: Found = { erasures: new Map(), refused: [] };
  if (options.archive) await archivedErasures(await folderArchive(options.archive), resolver, found);
  for await (const entry of readLedgerEntries(nc)) {
    if (entry.kind === 'erasure') await collect(entry, resolver, found);
  }
  const { erasures, refused } = found;
  const bucket = options.bucket ?? DOSSIER_KEYS_BUCKET;
  // no bucket: no key of any dossier exists to bring back
  const kv = erasures.size > 0 ? await new Kvm(nc).open(bucket).catch(() => undefined) : undefined;
  const reapplied: ReappliedErasure[] = [];
  if (kv) {
    for (const [dossierId, erasedAt] of erasures) {
      const done = await reapplyErasure(kv, dossierId, erasedAt);
      if (done.headRestored || done.copiesPurged > 0) reapplied.push(done);
    }
  }
  return { recorded: erasures.size, reapplied, refused };
}

/** Registers `passerelle dossier reapply-erasures [--archive <dir>]` under `dossier`. */
export function registerDossierReapplyErasures(dossier: Command): void {
  dossier
    .command('reapply-erasures')
    .description(
      'after a restore: destroy again the keys of every dossier the ledger (and its archive) records as erased',
    )
    .option('--archive <dir>', "the ledger's archive folder: erasures recorded in archived segments too")
    .option('--anchor <file>', "trust anchor public key (JWK): each erasure's seal is checked (required)")
    .option(
      '--directory <file>',
      'offline directory export (checked against --anchor), else the live directory',
    )
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option('--json', 'print JSON')
    .action(async (opts: ServerOptions & TrustOptions & { archive?: string; json?: boolean }) => {
      const result = await withJetStream(opts, async (nc) => {
        const { resolver, close } = await keyResolver(opts, nc);
        try {
          return await reapplyErasures(nc, resolver, opts.archive ? { archive: resolve(opts.archive) } : {});
        } finally {
          close();
        }
      });
      if (opts.json) printJson(result);
      else {
        console.log(
          `${result.recorded} erasures recorded; ${result.reapplied.length} undone by a restore and applied again`,
        );
        for (const r of result.reapplied) {
          console.log(`  ${r.dossierId}: ${r.copiesPurged} key copies destroyed again`);
        }
      }
      for (const r of result.refused) console.error(`refused: entry ${r.seq}: ${r.reason}`);
      // an entry nobody signed is a tampered ledger: the operator must hear of it (run audit verify)
      if (result.refused.length > 0) process.exitCode = 1;
    });
}
