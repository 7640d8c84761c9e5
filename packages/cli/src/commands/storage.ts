import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Kvm } from '@nats-io/kv';
import { loadParticipantKeys, loadStorageKeys } from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';
import {
  RECORD_PURPOSES,
  type RecordStore,
  type ResealReport,
  StateCipher,
  resealRecords,
} from '@passerelle/service-host';
import { type ServerOptions, credentialsOption, serverOption, withJetStream } from '../context.js';

/** Options of `passerelle storage reseal`. */
export interface ResealOptions extends ServerOptions {
  /** The KV bucket holding the records (`svc-commune`, `pex-portal-dossiers-<id>`…). */
  bucket: string;
  /** Which kind of records it holds (the key they are sealed under is derived for it). */
  store: string;
  /** The participant's key folder: `storage.json`, and `private.json` for the legacy path. */
  keys: string;
  /** Leave records sealed under the signing key by an earlier release alone (commander's `--no-legacy`). */
  legacy?: boolean;
}

/** Stores whose bucket several hosted ids share: their records' keys start with the participant id. */
const SHARED: ReadonlySet<RecordStore> = new Set(['dossiers', 'register']);

/**
 * `passerelle storage reseal`: seals every record of a participant in a service's bucket under its current
 * storage key — after a storage-key rotation, before the older key is retired, or after an upgrade, so
 * that no record is left under the signing key. Records are rewritten with compare-and-set while the
 * service runs; prints counts only.
 */
export async function storageReseal(opts: ResealOptions): Promise<ResealReport & { participant: string }> {
  if (!(opts.store in RECORD_PURPOSES)) {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      `--store must be one of ${Object.keys(RECORD_PURPOSES).join(', ')}.`,
      { details: { setting: '--store' } },
    );
  }
  const store = opts.store as RecordStore;
  const dir = resolve(opts.keys);
  const ring = await loadStorageKeys(dir);
  const legacySigningKey = opts.legacy === false ? undefined : (await loadParticipantKeys(dir)).signing;
  const cipher = StateCipher.fromKeyring(ring, RECORD_PURPOSES[store], {
    ...(legacySigningKey ? { legacySigningKey } : {}),
  });
  return withJetStream(opts, async (nc) => {
    const kv = await new Kvm(nc).open(opts.bucket);
    const report = await resealRecords(kv, cipher, SHARED.has(store) ? { prefix: ring.participantId } : {});
    return { ...report, participant: ring.participantId };
  });
}

/** Registers `passerelle storage reseal`. */
export function registerStorage(program: Command): void {
  const storage = program
    .command('storage')
    .description("records the services seal at rest, under each participant's storage keys");
  storage
    .command('reseal')
    .description(
      "seal a participant's records in a bucket under its current storage key (after a rotation, or an upgrade)",
    )
    .requiredOption(
      '--bucket <name>',
      'KV bucket (svc-<service>, svc-commune-register, pex-portal-dossiers-<id>)',
    )
    .requiredOption('--store <kind>', `kind of records: ${Object.keys(RECORD_PURPOSES).join(', ')}`)
    .requiredOption(
      '--keys <dir>',
      "the participant's key folder (storage.json; private.json for records of an earlier release)",
    )
    .option('--no-legacy', 'leave records sealed under the signing key by an earlier release alone')
    .addOption(serverOption())
    .addOption(credentialsOption())
    .action(async (opts: ResealOptions) => {
      const r = await storageReseal(opts);
      console.log(
        `${r.participant}: ${r.resealed} sealed again under the current key, ${r.current} already current, ${r.unreadable} unreadable`,
      );
      if (r.unreadable > 0) process.exitCode = 1;
    });
}
