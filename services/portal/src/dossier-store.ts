import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StateCipher } from '@passerelle/service-host';
import type { DossierRecord } from './dossier-status.js';
import { PortalError } from './portal-error.js';

/** Name of a portal's dossier-state bucket. */
export function dossierBucketName(participant: string): string {
  return `pex-portal-dossiers-${participant}`;
}

const DOSSIER_ID = /^[A-Za-z0-9-]{8,64}$/;

/** The portal's dossier records in its own KV bucket, encrypted at rest, updated with compare-and-set. */
export class DossierStore {
  private constructor(
    private readonly kv: KV,
    private readonly cipher: StateCipher,
  ) {}

  /** Creates the bucket (or checks it): what the operator provisions on a secured server. */
  static createBucket(
    nc: NatsConnection,
    participant: string,
    options: { replicas?: number } = {},
  ): Promise<KV> {
    return new Kvm(nc).create(dossierBucketName(participant), {
      history: 5,
      replicas: options.replicas ?? 1,
      timeout: 30_000,
    });
  }

  /** Opens (or creates) the bucket; records are encrypted with `cipher` (fee amounts are personal data). */
  static async open(
    nc: NatsConnection,
    participant: string,
    cipher: StateCipher,
    options: { replicas?: number; create?: boolean } = {},
  ): Promise<DossierStore> {
    const kv =
      options.create === false
        ? await new Kvm(nc).open(dossierBucketName(participant), { timeout: 30_000 })
        : await DossierStore.createBucket(nc, participant, options);
    return new DossierStore(kv, cipher);
  }

  /** Stores a new dossier; fails if the id exists (ids are random, so only on a bug). */
  async create(record: DossierRecord): Promise<void> {
    await this.kv.create(record.dossierId, this.cipher.seal(record, record.dossierId));
  }

  /** The record, or undefined. */
  async get(dossierId: string): Promise<DossierRecord | undefined> {
    if (!DOSSIER_ID.test(dossierId)) return undefined;
    const entry = await this.kv.get(dossierId);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return this.cipher.open<DossierRecord>(entry.string(), dossierId);
  }

  /** The record of an integrator's dossier; anyone else's (or none) is `ERR_DOSSIER_NOT_FOUND` alike. */
  async getOwned(dossierId: string, integrator: string): Promise<DossierRecord> {
    const record = await this.get(dossierId);
    if (!record || record.integrator !== integrator) {
      throw new PortalError('ERR_DOSSIER_NOT_FOUND', 'No dossier of this integrator has this id.', {
        details: { dossierId },
      });
    }
    return record;
  }

  /** Removes a dossier whose application was refused before anything was published. */
  async remove(dossierId: string): Promise<void> {
    await this.kv.purge(dossierId);
  }

  /** Read-modify-write with compare-and-set, retried on a concurrent update. */
  async update(dossierId: string, change: (record: DossierRecord) => DossierRecord): Promise<DossierRecord> {
    for (let attempt = 0; ; attempt++) {
      const entry = DOSSIER_ID.test(dossierId) ? await this.kv.get(dossierId) : null;
      const current =
        entry?.operation === 'PUT' ? this.cipher.open<DossierRecord>(entry.string(), dossierId) : undefined;
      if (!entry || !current) {
        throw new PortalError('ERR_DOSSIER_NOT_FOUND', `Dossier ${dossierId} is unknown to this portal.`, {
          details: { dossierId },
        });
      }
      const next = change(current);
      try {
        await this.kv.update(dossierId, this.cipher.seal(next, dossierId), entry.revision);
        return next;
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
  }
}
