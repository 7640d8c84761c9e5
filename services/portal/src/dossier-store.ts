import { type KV, KvWatchInclude, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { StateCipher } from '@passerelle/service-host';
import type { DossierRecord } from './dossier-status.js';
import { PortalError } from './portal-error.js';

/** Name of a portal's dossier-state bucket. */
export function dossierBucketName(participant: string): string {
  return `pex-portal-dossiers-${participant}`;
}

const DOSSIER_ID = /^[A-Za-z0-9-]{8,64}$/;

/**
 * A change of one dossier record: its KV revision (it only grows), and the record, or `undefined` once
 * removed.
 */
export interface DossierChange {
  dossierId: string;
  revision: number;
  record: DossierRecord | undefined;
}

/** The portal's dossier records in its own KV bucket, encrypted at rest, updated with compare-and-set. */
export class DossierStore {
  private readonly listeners = new Set<(change: DossierChange) => void>();

  private constructor(
    private readonly kv: KV,
    private readonly cipher: StateCipher,
  ) {}

  /** Calls `listener` after each write this store makes (a watcher sees them later, and others' too). */
  onWrite(listener: (change: DossierChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private wrote(dossierId: string, revision: number, record: DossierRecord | undefined): void {
    for (const listener of this.listeners) listener({ dossierId, revision, record });
  }

  /**
   * Every record as it is now, then every change by any instance, until `signal` aborts; `ready` resolves
   * once the records there at the start have been given.
   */
  async watch(
    onChange: (change: DossierChange) => void,
    signal: AbortSignal,
  ): Promise<{ ready: Promise<void>; done: Promise<void> }> {
    const { state } = (await this.kv.status()).streamInfo;
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    // the stream's last message is the last value of its key: given last, once the rest is given
    if (state.messages === 0) markReady();
    const watcher = await this.kv.watch({ include: KvWatchInclude.LastValue });
    signal.addEventListener('abort', () => watcher.stop(), { once: true });
    const done = (async () => {
      for await (const entry of watcher) {
        const record =
          entry.operation === 'PUT' ? this.cipher.open<DossierRecord>(entry.string(), entry.key) : undefined;
        onChange({ dossierId: entry.key, revision: entry.revision, record });
        if (entry.revision >= state.last_seq) markReady();
      }
    })();
    return { ready, done };
  }

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
    const revision = await this.kv.create(record.dossierId, this.cipher.seal(record, record.dossierId));
    this.wrote(record.dossierId, revision, record);
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
        details: { dossierId, in: 'path', name: 'dossierId' },
      });
    }
    return record;
  }

  /** Removes a dossier whose application was refused before anything was published. */
  async remove(dossierId: string): Promise<void> {
    await this.kv.purge(dossierId);
    // the purge marker's revision is the stream's next one: read it back for the listeners
    const entry = await this.kv.get(dossierId);
    if (entry) this.wrote(dossierId, entry.revision, undefined);
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
        const revision = await this.kv.update(dossierId, this.cipher.seal(next, dossierId), entry.revision);
        this.wrote(dossierId, revision, next);
        return next;
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
  }
}
