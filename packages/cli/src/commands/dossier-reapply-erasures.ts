import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ArchiveStore, folderArchive, parseEntry, readLedgerEntries } from '@passerelle/audit';
import { DOSSIER_KEYS_BUCKET, type ReappliedErasure, reapplyErasure } from '@passerelle/exchange';
import { type ServerOptions, credentialsOption, serverOption, withJetStream } from '../context.js';
import { printJson } from '../print-json.js';

/** What `passerelle dossier reapply-erasures` did. */
export interface ReapplyErasuresResult {
  /** Erasures the ledger (and the archive, when given) records, one per dossier. */
  recorded: number;
  /** Those a restore had undone, erased again: their heads marked and their key copies purged. */
  reapplied: ReappliedErasure[];
}

/** Erasures an archive's segments record (header and trailer lines are not entries, and are skipped). */
async function archivedErasures(store: ArchiveStore, into: Map<string, string>): Promise<void> {
  for (const name of await store.list()) {
    for await (const line of store.lines(name)) {
      let entry;
      try {
        entry = parseEntry(line);
      } catch {
        continue;
      }
      if (entry.kind === 'erasure') into.set(entry.meta.dossierId, entry.meta.erasedAt);
    }
  }
}

/**
 * Applies again every erasure the ledger records — the live `LEDGER` and, with `archive`, its archive
 * segments — to `pex-dossier-keys`: after a restore of the key bucket from a backup taken before some
 * erasure, the keys that backup brought back are destroyed again. Run it after any restore, before the
 * services start; an erasure still in force is left as it is, so it may run any number of times.
 *
 * @example
 * ```ts
 * const { reapplied } = await reapplyErasures(nc, { archive: '/var/lib/passerelle/ledger-archive' });
 * ```
 */
export async function reapplyErasures(
  nc: NatsConnection,
  options: { archive?: string; bucket?: string } = {},
): Promise<ReapplyErasuresResult> {
  const erasures = new Map<string, string>();
  if (options.archive) await archivedErasures(await folderArchive(options.archive), erasures);
  for await (const entry of readLedgerEntries(nc)) {
    if (entry.kind === 'erasure') erasures.set(entry.meta.dossierId, entry.meta.erasedAt);
  }
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
  return { recorded: erasures.size, reapplied };
}

/** Registers `passerelle dossier reapply-erasures [--archive <dir>]` under `dossier`. */
export function registerDossierReapplyErasures(dossier: Command): void {
  dossier
    .command('reapply-erasures')
    .description(
      'after a restore: destroy again the keys of every dossier the ledger (and its archive) records as erased',
    )
    .option('--archive <dir>', "the ledger's archive folder: erasures recorded in archived segments too")
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option('--json', 'print JSON')
    .action(async (opts: ServerOptions & { archive?: string; json?: boolean }) => {
      const result = await withJetStream(opts, (nc) =>
        reapplyErasures(nc, opts.archive ? { archive: resolve(opts.archive) } : {}),
      );
      if (opts.json) printJson(result);
      else {
        console.log(
          `${result.recorded} erasures recorded; ${result.reapplied.length} undone by a restore and applied again`,
        );
        for (const r of result.reapplied) {
          console.log(`  ${r.dossierId}: ${r.copiesPurged} key copies destroyed again`);
        }
      }
    });
}
