import { createHash } from 'node:crypto';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DocumentError } from './document-error.js';

/** An object read back whole: its metadata and its bytes. */
export interface StoredObject {
  metadata?: Record<string, string>;
  data: Uint8Array;
}

/** What a document read needs of an object store: an object's metadata and bytes, read together. */
export interface ObjectSource {
  /** The object stored under `name`, or null when there is none (or it was deleted). */
  object(name: string): Promise<StoredObject | null>;
}

/** Where a connection reaches the JetStream API of its own account. */
export const OWN_API_PREFIX = '$JS.API';

/** The stored metadata of an object (the Object Store layout of NATS). */
interface StoredObjectInfo {
  name: string;
  nuid: string;
  size: number;
  chunks: number;
  digest: string;
  deleted?: boolean;
  metadata?: Record<string, string>;
}

/** base64url with its padding, as the Object Store spells names in subjects and digests. */
function b64urlPadded(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * Reads objects of another participant's Object Store with direct gets only: its metadata by last
 * message on the name's subject, its chunks one by one on the object's chunk subject, checked against the
 * stored SHA-256. No consumer is created, so a reader needs nothing from the owner's account but the
 * exported `DIRECT.GET` of that one store, which can neither write nor delete. `apiPrefix` is where the
 * reader's account imports that API (`$JS.<owner>.API` on a secured server).
 */
export class DirectObjectReader implements ObjectSource {
  private constructor(
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
  ) {}

  /** A reader of `bucket` through the JetStream API at `apiPrefix`. */
  static async open(nc: NatsConnection, bucket: string, apiPrefix: string): Promise<DirectObjectReader> {
    return new DirectObjectReader(
      await jetstreamManager(nc, { apiPrefix, checkAPI: false, timeout: 10_000 }),
      bucket,
    );
  }

  private get stream(): string {
    return `OBJ_${this.bucket}`;
  }

  async info(name: string): Promise<StoredObjectInfo | null> {
    const m = await this.jsm.direct
      .getMessage(this.stream, { last_by_subj: `$O.${this.bucket}.M.${b64urlPadded(name)}` })
      .catch((err: unknown) => {
        if (err instanceof Error && /no message found|not found/i.test(err.message)) return null;
        throw err;
      });
    if (!m) return null;
    return JSON.parse(Buffer.from(m.data).toString('utf8')) as StoredObjectInfo;
  }

  /** The object's metadata and bytes, or null: its metadata read once, then its chunks. */
  async object(name: string): Promise<StoredObject | null> {
    const info = await this.info(name);
    if (!info || info.deleted) return null;
    const subject = `$O.${this.bucket}.C.${info.nuid}`;
    const parts: Uint8Array[] = [];
    const sha = createHash('sha256');
    let seq = 0;
    for (let i = 0; i < info.chunks; i++) {
      const m = await this.jsm.direct.getMessage(this.stream, { seq: seq + 1, next_by_subj: subject });
      if (!m) throw this.corrupt();
      seq = m.seq;
      parts.push(m.data);
      sha.update(m.data);
    }
    const data = Buffer.concat(parts);
    if (data.length !== info.size || `SHA-256=${b64urlPadded(sha.digest())}` !== info.digest) {
      throw this.corrupt();
    }
    return { ...(info.metadata ? { metadata: info.metadata } : {}), data: new Uint8Array(data) };
  }

  private corrupt(): DocumentError {
    return new DocumentError(
      'ERR_DOCUMENT_INTEGRITY',
      `An object of ${this.bucket} does not read back whole (chunks or SHA-256).`,
      { details: { bucket: this.bucket } },
    );
  }
}
