import { type KV, KvWatchInclude, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { isPasserelleError } from '@passerelle/errors';
import { DossierRecordCipher, type StateCipher } from '@passerelle/service-host';
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
  /** Set when the dossier was erased (`passerelle dossier erase`): only who filed it is still known. */
  erased?: { integrator: string | undefined };
}

/** The fields of a record kept readable under the storage key alone: who filed it (never personal data). */
export function keptOfRecord(value: unknown): Record<string, string> {
  return { integrator: (value as DossierRecord).integrator };
}

/** What a stored record reads as: the record, an erased dossier (with who filed it), or nothing. */
type Read = { record: DossierRecord } | { erased: { integrator: string | undefined } } | undefined;

/** The portal's dossier records in its own KV bucket, encrypted at rest, updated with compare-and-set. */
export class DossierStore {
  private readonly listeners = new Set<(change: DossierChange) => void>();

  private constructor(
    private readonly kv: KV,
    private readonly cipher: StateCipher | DossierRecordCipher,
  ) {}

  /**
   * Opens a stored record. A dossier erased since gives who filed it (kept beside the sealed record), so
   * that only that integrator learns it was erased; a record that does not open reads as none.
   */
  private async readRecord(sealed: string, dossierId: string): Promise<Read> {
    try {
      const record = await this.cipher.open<DossierRecord>(sealed, dossierId, dossierId);
      return record ? { record } : undefined;
    } catch (err) {
      if (!isPasserelleError(err, 'ERR_DOSSIER_ERASED') || !(this.cipher instanceof DossierRecordCipher))
        throw err;
      return { erased: { integrator: this.cipher.kept(sealed, dossierId)?.['integrator'] } };
    }
  }

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
        const read = entry.operation === 'PUT' ? await this.readRecord(entry.string(), entry.key) : undefined;
        onChange({
          dossierId: entry.key,
          revision: entry.revision,
          record: read && 'record' in read ? read.record : undefined,
          ...(read && 'erased' in read ? { erased: read.erased } : {}),
        });
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

  /**
   * Opens (or creates) the bucket; records are encrypted with `cipher` (fee amounts are personal data):
   * under the storage key, and under each dossier's own key with a {@link DossierRecordCipher}.
   */
  static async open(
    nc: NatsConnection,
    participant: string,
    cipher: StateCipher | DossierRecordCipher,
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
    const sealed = await this.cipher.seal(record, record.dossierId, record.dossierId);
    const revision = await this.kv.create(record.dossierId, sealed);
    this.wrote(record.dossierId, revision, record);
  }

  private async read(dossierId: string): Promise<Read> {
    if (!DOSSIER_ID.test(dossierId)) return undefined;
    const entry = await this.kv.get(dossierId);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return this.readRecord(entry.string(), dossierId);
  }

  /** The record, or undefined; `ERR_DOSSIER_ERASED` for a dossier erased since. */
  async get(dossierId: string): Promise<DossierRecord | undefined> {
    const read = await this.read(dossierId);
    if (read && 'erased' in read) throw erasedError(dossierId);
    return read?.record;
  }

  /** The integrator that filed a dossier, erased or not; undefined for none. */
  async ownerOf(dossierId: string): Promise<string | undefined> {
    const read = await this.read(dossierId);
    return read && 'erased' in read ? read.erased.integrator : read?.record.integrator;
  }

  /**
   * The record of an integrator's dossier; anyone else's (or none) is `ERR_DOSSIER_NOT_FOUND` alike. The
   * integrator's own dossier erased since is `ERR_DOSSIER_ERASED`.
   */
  async getOwned(dossierId: string, integrator: string): Promise<DossierRecord> {
    const read = await this.read(dossierId);
    if (read && 'erased' in read && read.erased.integrator === integrator) throw erasedError(dossierId);
    const record = read && 'record' in read ? read.record : undefined;
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
      const read = entry?.operation === 'PUT' ? await this.readRecord(entry.string(), dossierId) : undefined;
      if (read && 'erased' in read) throw erasedError(dossierId);
      const current = read?.record;
      if (!entry || !current) {
        throw new PortalError('ERR_DOSSIER_NOT_FOUND', `Dossier ${dossierId} is unknown to this portal.`, {
          details: { dossierId },
        });
      }
      const next = change(current);
      try {
        const sealed = await this.cipher.seal(next, dossierId, dossierId);
        const revision = await this.kv.update(dossierId, sealed, entry.revision);
        this.wrote(dossierId, revision, next);
        return next;
      } catch (err) {
        if (attempt >= 10) throw err;
      }
    }
  }
}

function erasedError(dossierId: string): PortalError {
  return new PortalError(
    'ERR_DOSSIER_ERASED',
    `Dossier ${dossierId} was erased: nothing of it can be read any more.`,
    { details: { dossierId } },
  );
}
