import { type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { openBucket } from '@passerelle/nats';
import type { DoorKeys } from './door-keys.js';

/** How a door opens one of its stores: the bucket's provisioning and the clock that stamps its records. */
export interface DoorStoreOptions {
  replicas?: number;
  /** `false` only opens the bucket: on a secured server the operator provisions it. */
  create?: boolean;
  now?: () => Date;
}

/** The system clock, for stores opened without one. */
export const systemClock = (): Date => new Date();

/** A store class, as {@link DoorStore.open} needs it: the name of its bucket for a door. */
interface DoorStoreClass<S extends DoorStore> {
  prototype: S;
  bucketName(door: string): string;
}

/** A door's records in one KV bucket, sealed or hashed under the door's keys and stamped by its clock. */
export abstract class DoorStore {
  protected constructor(
    protected readonly kv: KV,
    protected readonly keys: DoorKeys,
    protected readonly now: () => Date,
  ) {}

  /**
   * Opens (or creates) the bucket of this store class.
   *
   * @example
   * ```ts
   * const clients = await ClientStore.open(nc, 'region-bruxelles', keys);
   * ```
   */
  static async open<S extends DoorStore>(
    this: DoorStoreClass<S>,
    nc: NatsConnection,
    door: string,
    keys: DoorKeys,
    options: DoorStoreOptions = {},
  ): Promise<S> {
    // the constructor stays protected: a store is made here only, over its opened bucket
    const Store = this as unknown as new (kv: KV, keys: DoorKeys, now: () => Date) => S;
    return new Store(await openBucket(nc, this.bucketName(door), options), keys, options.now ?? systemClock);
  }

  /**
   * The record under `id` and its revision; `undefined` for an id not of `pattern` (never a KV key to
   * ask for) or one with no record.
   */
  protected async read<R>(pattern: RegExp, id: string): Promise<{ record: R; revision: number } | undefined> {
    if (!pattern.test(id)) return undefined;
    const entry = await this.kv.get(id);
    if (!entry || entry.operation !== 'PUT') return undefined;
    return { record: entry.json<R>(), revision: entry.revision };
  }

  /** Every key of the bucket, in no order. */
  protected async ids(): Promise<string[]> {
    const ids: string[] = [];
    for await (const key of await this.kv.keys()) ids.push(key);
    return ids;
  }
}
