/**
 * JetStream limits of the accounts, sized per kind of participant from what the deployment gives that kind
 * (its buckets, the object stores it writes) rather than one figure for all.
 *
 * A single nats-server reserves each account's `disk_storage` and `mem_storage` against its own
 * `max_file_store` and `max_memory_store` when the account first uses JetStream, and refuses the account
 * once the sum would pass them: the limits below are what the hub promises each participant, so their sum
 * over every participant must fit the hub (docs/DEPLOYMENT.md, "Sizing the hub").
 */
import type { ParticipantKind } from '@passerelle/directory';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** How much a participant of one kind keeps, per thing it keeps. */
export interface KindStorage {
  /** Each of its key-value buckets: idempotency records, outbox, dossier state. */
  bucketBytes: number;
  /** Each object store it writes: decision documents (or the portal's uploads). */
  objectStoreBytes: number;
  /** Its other streams (the portal's door events and webhook deliveries), in all. */
  otherBytes: number;
}

/**
 * Per kind. A commune or a consular post decides the dossiers of its own residents or applicants: a few
 * thousand records and decision documents a year, kept while their dossiers live. A region, the Immigration
 * Office and the portal see every dossier of the country (or their region), so they get a hundred times more.
 */
export const KIND_STORAGE: Record<Exclude<ParticipantKind, 'auditor'>, KindStorage> = {
  commune: { bucketBytes: 2 * MiB, objectStoreBytes: 16 * MiB, otherBytes: 0 },
  'consular-post': { bucketBytes: 2 * MiB, objectStoreBytes: 16 * MiB, otherBytes: 0 },
  'regional-authority': { bucketBytes: 64 * MiB, objectStoreBytes: 1 * GiB, otherBytes: 0 },
  'immigration-office': { bucketBytes: 64 * MiB, objectStoreBytes: 1 * GiB, otherBytes: 0 },
  portal: { bucketBytes: 64 * MiB, objectStoreBytes: 1 * GiB, otherBytes: 1 * GiB },
};

/**
 * The directory mirror in every participant account: {@link DIRECTORY_HISTORY} revisions of each
 * participant's entry (about 1.5 KiB with two keys of each use), for a few thousand participants.
 */
export const DIRECTORY_MIRROR_BYTES = 8 * MiB;

/** The JetStream limits of one account, as its JWT carries them. */
export interface JetStreamLimits {
  mem_storage: number;
  disk_storage: number;
  streams: number;
  consumer: number;
  max_ack_pending?: number;
}

/**
 * The JetStream limits of a participant of `kind` that keeps `buckets` key-value buckets and writes
 * `objectStores` object stores. No memory storage: every stream of a participant is on file, and memory
 * would be reserved from the hub's RAM for each of a thousand accounts.
 */
export function participantJetStreamLimits(
  kind: ParticipantKind,
  buckets: number,
  objectStores: number,
): JetStreamLimits {
  if (kind === 'auditor') throw new Error('the auditor has no JetStream of its own');
  const s = KIND_STORAGE[kind];
  return {
    mem_storage: 0,
    disk_storage:
      buckets * s.bucketBytes + DIRECTORY_MIRROR_BYTES + objectStores * s.objectStoreBytes + s.otherBytes,
    // its buckets, the directory mirror, its object stores and the portal's door streams, with room
    streams: buckets + objectStores + 8,
    // ordered consumers of its watchers and object reads (each process's), and the server's mirror
    consumer: 128,
    max_ack_pending: 1024,
  };
}

/** JetStream limits of the EXCHANGE account (shared streams, provisioned durables, one mirror per participant). */
export const ExchangeJetStreamLimits = {
  mem_storage: 256 * MiB,
  disk_storage: 10 * GiB,
  streams: 16,
  // two durables per participant (inbox, receipts) and the directory mirrors' consumers
  consumer: 8192,
} as const;
