import { createHash } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ObjectStore } from '@nats-io/obj';
import { DocumentError } from './document-error.js';
import { openObjectStore } from './open-object-store.js';

/** Name of the Object Store bucket holding the decision documents the administrations issue. */
export const DECISIONS_BUCKET = 'pex-decisions';

/** What a message says of a decision document: where it is, and the bytes it must have. */
export interface DecisionDocumentRef {
  /** SHA-256 of the document, lower-case hex. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** Object name in the decisions store (`decisions/<issuer>/<sha256>.json`). */
  objectKey: string;
}

/** The Object Store's own digest of some bytes (`SHA-256=` and padded base64url), to compare with an object's. */
function objectDigest(sha256Hex: string): string {
  return `SHA-256=${Buffer.from(sha256Hex, 'hex').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The decision documents (annexes 43 to 61, work authorisations, admissibility) in the JetStream Object
 * Store `pex-decisions`, content-addressed: the issuer stores a document under a name carrying its SHA-256
 * **before** the message that references it goes out, and a recipient reads it back, checked against the
 * reference, before it acts on the decision. The documents hold no personal data (the holder's identity
 * travels in the end-to-end encrypted payload), so they are stored as they are.
 *
 * @example
 * ```ts
 * const archive = await DecisionArchive.open(nc, { create: false });
 * const bytes = await archive.read(payload.decisionDocument); // ERR_DECISION_DOCUMENT_MISSING until stored
 * ```
 */
export class DecisionArchive {
  private constructor(
    private readonly os: ObjectStore,
    /** The bucket's name. */
    readonly bucket: string,
  ) {}

  /**
   * Opens (or creates) the decisions bucket; `create: false` on a secured server, where a missing store or
   * missing rights is `ERR_NOT_PROVISIONED`.
   */
  static async open(
    nc: NatsConnection,
    options: { replicas?: number; bucket?: string; create?: boolean } = {},
  ): Promise<DecisionArchive> {
    const bucket = options.bucket ?? DECISIONS_BUCKET;
    const os = await openObjectStore(nc, bucket, {
      ...options,
      description: 'Passerelle decision documents, content-addressed (no personal data)',
    });
    return new DecisionArchive(os, bucket);
  }

  /**
   * Stores a rendered decision document under `objectKey`. The same bytes already there are left as they
   * are (a step replayed after a crash stores its document again); an object under that name with other
   * bytes is replaced, so that recipients read what the reference names.
   */
  async put(objectKey: string, bytes: Uint8Array): Promise<void> {
    const info = await this.os.info(objectKey);
    if (
      info &&
      !info.deleted &&
      info.size === bytes.length &&
      info.digest === objectDigest(sha256Hex(bytes))
    ) {
      return;
    }
    await this.os.putBlob(
      { name: objectKey, description: `decision document sha256:${sha256Hex(bytes)}` },
      bytes,
    );
  }

  /**
   * Reads a decision document back: `ERR_DECISION_DOCUMENT_MISSING` (retryable) when nothing is stored
   * under the reference's name, `ERR_DOCUMENT_INTEGRITY` when what is stored is not the referenced bytes.
   */
  async read(ref: DecisionDocumentRef): Promise<Uint8Array> {
    const integrity = (cause?: unknown): DocumentError =>
      new DocumentError(
        'ERR_DOCUMENT_INTEGRITY',
        'The stored decision document differs from its reference (size or SHA-256).',
        cause === undefined ? {} : { cause },
      );
    let data: Uint8Array | null;
    try {
      data = await this.os.getBlob(ref.objectKey);
    } catch (err) {
      // the store's own digest check: the chunks were altered after they were written
      if (err instanceof Error && /corrupt object/.test(err.message)) throw integrity(err);
      throw err;
    }
    if (!data) {
      throw new DocumentError(
        'ERR_DECISION_DOCUMENT_MISSING',
        `The decision document the message references is not in ${this.bucket} yet.`,
        { details: { bucket: this.bucket } },
      );
    }
    if (data.length !== ref.size || sha256Hex(data) !== ref.sha256) throw integrity();
    return data;
  }
}
