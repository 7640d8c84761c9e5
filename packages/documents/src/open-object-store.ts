import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { type ObjectStore, Objm } from '@nats-io/obj';
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
export async function openObjectStore(
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
