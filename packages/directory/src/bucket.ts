import type { KV } from '@nats-io/kv';
import { openBucket } from '@passerelle/nats';
import type { NatsConnection } from '@nats-io/transport-node';

/** Default name of the directory's KV bucket. */
export const DIRECTORY_BUCKET = 'directory';

/** Revisions the directory keeps per participant. */
export const DIRECTORY_HISTORY = 10;

/**
 * Opens the directory bucket, creating it when absent. It keeps {@link DIRECTORY_HISTORY} revisions per
 * participant: clients and the anchor's tooling read them to find the newest entry (version) even when an
 * older one is put back. An existing bucket is opened as it is: on a secured server a participant's account
 * holds a read-only mirror of the operator's bucket, which it may not change.
 */
export async function openDirectoryBucket(nc: NatsConnection, bucket = DIRECTORY_BUCKET): Promise<KV> {
  const existing = await openBucket(nc, bucket, { create: false });
  const found = await existing.status().then(
    () => true,
    () => false,
  );
  return found ? existing : openBucket(nc, bucket, { history: DIRECTORY_HISTORY });
}
