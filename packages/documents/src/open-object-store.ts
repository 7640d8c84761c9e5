import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { type ObjectStore, Objm } from '@nats-io/obj';
import { DirectObjectReader, OWN_API_PREFIX, type ObjectSource } from './direct-object-reader.js';
import { DocumentError } from './document-error.js';

/** Whether an error (or one of its causes) says the stream does not exist or the client may not use it. */
function isMissingOrForbidden(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (/(stream|object store) not found|permissions violation/i.test(e.message)) return true;
  }
  return false;
}

/** Gives an existing bucket the retention asked for (the client's `create` leaves an existing one as it is). */
async function applyMaxAge(nc: NatsConnection, bucket: string, maxAge: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const stream = `OBJ_${bucket}`;
  const info = await jsm.streams.info(stream);
  if (info.config.max_age === maxAge) return;
  // the server refuses a duplicate window longer than the age limit
  const duplicate_window = Math.min(info.config.duplicate_window, maxAge);
  await jsm.streams.update(stream, { ...info.config, max_age: maxAge, duplicate_window });
}

/**
 * Opens an Object Store bucket, or creates it when `create` is not false. On a secured server the operator
 * creates the stores and participants only open them: a store that is missing or that these credentials may
 * not use is `ERR_NOT_PROVISIONED` naming the bucket (the operator's to fix); anything else (a timeout, a
 * closed connection) is passed on as it is.
 */
async function openObjectStore(
  nc: NatsConnection,
  bucket: string,
  options: { create?: boolean; replicas?: number; description: string; maxAgeMs?: number },
): Promise<ObjectStore> {
  const objm = new Objm(nc);
  if (options.create !== false) {
    const ttl = options.maxAgeMs === undefined ? undefined : nanos(options.maxAgeMs);
    const os = await objm.create(bucket, {
      replicas: options.replicas ?? 1,
      description: options.description,
      ...(ttl === undefined ? {} : { ttl }),
    });
    if (ttl !== undefined) await applyMaxAge(nc, bucket, ttl);
    return os;
  }
  return objm.open(bucket).catch((cause: unknown) => {
    if (!isMissingOrForbidden(cause)) throw cause;
    throw new DocumentError(
      'ERR_NOT_PROVISIONED',
      `The document store ${bucket} cannot be opened: the operator has not created it, or these credentials may not read it.`,
      { cause, details: { bucket } },
    );
  });
}

/** How a store opens its bucket: `create: false` on a secured server, `maxAgeMs` its retention. */
export interface OpenBucketOptions {
  replicas?: number;
  /** Another bucket than the store's own (tests, a second deployment on one server). */
  bucket?: string;
  create?: boolean;
  maxAgeMs?: number;
}

/**
 * Opens (or creates) a store's bucket, `options.bucket` or `defaults.bucket`, with a reader of its own
 * account's objects by direct gets: what {@link DocumentStore} and {@link DecisionArchive} both hold.
 */
export async function openStoreBucket(
  nc: NatsConnection,
  options: OpenBucketOptions,
  defaults: { bucket: string; description: string },
): Promise<{ os: ObjectStore; bucket: string; reader: ObjectSource }> {
  const bucket = options.bucket ?? defaults.bucket;
  const os = await openObjectStore(nc, bucket, { ...options, description: defaults.description });
  return { os, bucket, reader: await DirectObjectReader.open(nc, bucket, OWN_API_PREFIX) };
}
