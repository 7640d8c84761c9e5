import { type KV } from '@nats-io/kv';
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

/** A door's records in one KV bucket, sealed or hashed under the door's keys and stamped by its clock. */
export abstract class DoorStore {
  protected constructor(
    protected readonly kv: KV,
    protected readonly keys: DoorKeys,
    protected readonly now: () => Date,
  ) {}
}
