import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** Default name of the directory's KV bucket. */
export const DIRECTORY_BUCKET = 'directory';

/**
 * Opens (creating when absent) the directory bucket. It keeps 10 revisions per participant: clients and
 * the anchor's tooling read them to find the newest entry (version) even when an older one is put back.
 */
export async function openDirectoryBucket(nc: NatsConnection, bucket = DIRECTORY_BUCKET): Promise<KV> {
  return new Kvm(nc).create(bucket, { history: 10 });
}
