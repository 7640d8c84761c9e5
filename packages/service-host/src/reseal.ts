import type { KV } from '@nats-io/kv';
import type { StateCipher } from './at-rest.js';

/** What {@link resealRecords} did. */
export interface ResealReport {
  /** Records sealed again under the current storage key. */
  resealed: number;
  /** Records already under the current key (or rewritten meanwhile by the service itself). */
  current: number;
  /** Records that open with no key of the ring (nor the legacy path, when given): left as they are. */
  unreadable: number;
}

/**
 * Seals every record of a bucket (or of one hosted id: keys under `<prefix>.`) under the current storage
 * key of `cipher`: after a storage-key rotation, so that the older key can be retired, or after an upgrade,
 * so that no record is left under the signing key. Each record is rewritten with compare-and-set on its
 * revision; one the service wrote in between is already under the current key. The records' KV keys are
 * their additional data, as every store of the services seals them.
 *
 * @example
 * ```ts
 * const cipher = StateCipher.fromKeyring(ring, RECORD_PURPOSES.dossiers, { legacySigningKey: keys.signing });
 * const report = await resealRecords(await new Kvm(nc).open('svc-commune'), cipher, { prefix: 'commune-21004' });
 * ```
 */
export async function resealRecords(
  kv: KV,
  cipher: StateCipher,
  options: { prefix?: string } = {},
): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, current: 0, unreadable: 0 };
  const keys: string[] = [];
  for await (const key of await kv.keys(options.prefix ? `${options.prefix}.>` : undefined)) keys.push(key);
  for (const key of keys) {
    const entry = await kv.get(key);
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) continue;
    const sealed = entry.string();
    const next = cipher.reseal(sealed, key);
    if (next === undefined) report.unreadable += 1;
    else if (next === sealed) report.current += 1;
    else {
      try {
        await kv.update(key, next, entry.revision);
        report.resealed += 1;
      } catch {
        // the service wrote the record in between, under its current key
        report.current += 1;
      }
    }
  }
  return report;
}
