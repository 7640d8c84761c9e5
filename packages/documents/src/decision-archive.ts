import { createCipheriv, createHash, createHmac } from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ObjectStore } from '@nats-io/obj';
import type { ObjectSource } from './direct-object-reader.js';
import { DocumentError } from './document-error.js';
import {
  type DocumentRef,
  FORMAT,
  additionalData,
  deriveKeys,
  openSealed,
  pad,
  parseObjectKey,
} from './document-store.js';
import { type OpenBucketOptions, openStoreBucket } from './open-object-store.js';

/** Name of the Object Store bucket holding the decision documents the administrations issue. */
export const DECISIONS_BUCKET = 'pex-decisions';

/** What a message says of a decision document: where it is, and the bytes it must have. */
export interface DecisionDocumentRef {
  /** SHA-256 of the document, lower-case hex. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /**
   * Where it is in the decisions store: `d1/<object id>/<key>` for an encrypted document
   * ({@link DecisionArchive.putSealed}), or the object name of a document stored as it is
   * (`decisions/<issuer>/<sha256>.json`, as the procedure renders it).
   */
  objectKey: string;
  /** Media type (encrypted documents: part of the cipher's additional data). */
  mediaType?: string;
}

/** The Object Store's own digest of some bytes (`SHA-256=` and padded base64url), to compare with an object's. */
function objectDigest(sha256Hex: string): string {
  return `SHA-256=${Buffer.from(sha256Hex, 'hex').toString('base64').replace(/\+/g, '-').replace(/\//g, '_')}`;
}

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/**
 * The decision documents (annexes 43 to 61, work authorisations, admissibility) in the JetStream Object
 * Store `pex-decisions`: the issuer stores a document under a name derived from its SHA-256 **before** the
 * message that references it goes out, and a recipient reads it back, checked against the reference, before
 * it acts on the decision. The documents hold no personal data (the holder's identity
 * travels in the end-to-end encrypted payload), but they state outcomes and reasons (a refusal on grounds
 * of public order, an end of stay): the service host stores them encrypted ({@link putSealed}), each
 * under a key only the messages that reference it carry, as `pex-documents` does. Documents stored as
 * they are ({@link put}) are still read.
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
    /** Reads with direct gets: a document expiring while it is read is refused, where a consumer would wait. */
    private readonly reader: ObjectSource,
  ) {}

  /**
   * Opens (or creates) the decisions bucket; `create: false` on a secured server, where a missing store or
   * missing rights is `ERR_NOT_PROVISIONED`. `maxAgeMs`: how long the bucket keeps a document (the
   * contract's longest `retentionDays`, `payloadRetentionMs`), past which a read is
   * `ERR_DECISION_DOCUMENT_MISSING`.
   */
  static async open(nc: NatsConnection, options: OpenBucketOptions = {}): Promise<DecisionArchive> {
    const { os, bucket, reader } = await openStoreBucket(nc, options, {
      bucket: DECISIONS_BUCKET,
      description: 'Passerelle decision documents, each AES-256-GCM encrypted under its own key',
    });
    return new DecisionArchive(os, bucket, reader);
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
   * Encrypts and stores a decision document the procedure rendered (`ref` is its plain reference), and
   * returns the reference to send instead: the same hash, media type and size, and an `objectKey`
   * `d1/<object id>/<key>` whose key part reads it (as `DocumentStore`'s references do). Whoever reads the
   * bucket — NATS operators, participants sharing it — sees a random-looking name and ciphertext, padded to
   * a multiple of 1 KiB (so that the size does not tell a grant, with its period, from a refusal).
   * The key is derived from the issuer's `secret` and the document's hash (the key is never used for other
   * bytes), so the same document always gives the same object and reference: a step replayed after a
   * crash stores nothing new and sends the same payload.
   */
  async putSealed(ref: DocumentRef, bytes: Uint8Array, secret: Uint8Array): Promise<DocumentRef> {
    if (bytes.length !== ref.size || sha256Hex(bytes) !== ref.sha256) {
      throw new DocumentError(
        'ERR_DOCUMENT_INTEGRITY',
        'The decision document to store differs from its reference (size or SHA-256).',
      );
    }
    const hmac = (key: Uint8Array, data: string): Buffer => createHmac('sha256', key).update(data).digest();
    // one key per (issuer, bytes, media type): it never encrypts anything else, so its fixed IV is safe
    const documentSecret = hmac(secret, `passerelle decision document v1\n${ref.sha256}\n${ref.mediaType}`);
    const name = `${FORMAT}/${hmac(documentSecret, 'object id').subarray(0, 16).toString('base64url')}`;
    const objectKey = `${name}/${documentSecret.toString('base64url')}`;
    const { encKey } = deriveKeys(documentSecret);
    const iv = hmac(documentSecret, 'iv').subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', encKey, iv);
    cipher.setAAD(additionalData(name, ref.mediaType));
    // padded inside the cipher: the stored size does not tell a grant from a refusal
    const sealed = Buffer.concat([cipher.update(pad(bytes)), cipher.final(), cipher.getAuthTag()]);
    const info = await this.os.info(name);
    if (
      !info ||
      info.deleted ||
      info.size !== sealed.length ||
      info.digest !== objectDigest(sha256Hex(sealed))
    ) {
      await this.os.putBlob(
        {
          name,
          metadata: {
            format: FORMAT,
            alg: 'A256GCM',
            iv: iv.toString('base64url'),
            mediaType: ref.mediaType,
          },
        },
        sealed,
      );
    }
    return { ...ref, objectKey };
  }

  /**
   * Reads a decision document back, decrypting an encrypted one: `ERR_DECISION_DOCUMENT_MISSING`
   * (retryable) when nothing is stored under the reference's name, `ERR_DOCUMENT_INTEGRITY` when what is
   * stored is not the referenced bytes. `from`: on a secured server, the issuer's store read with direct
   * gets (each issuer keeps its decisions in its own account).
   */
  async read(ref: DecisionDocumentRef, from: ObjectSource = this.reader): Promise<Uint8Array> {
    const sealed = parseObjectKey(ref.objectKey);
    if (sealed) {
      const stored = await from.object(sealed.name);
      if (!stored) throw this.missing();
      return openSealed(
        sealed,
        { ...ref, mediaType: ref.mediaType ?? '' },
        stored.metadata?.['iv'],
        stored.data,
        { padded: true },
      );
    }
    const data = (await from.object(ref.objectKey))?.data;
    if (!data) throw this.missing();
    if (data.length !== ref.size || sha256Hex(data) !== ref.sha256) {
      throw new DocumentError(
        'ERR_DOCUMENT_INTEGRITY',
        'The stored decision document differs from its reference (size or SHA-256).',
      );
    }
    return data;
  }

  private missing(): DocumentError {
    return new DocumentError(
      'ERR_DECISION_DOCUMENT_MISSING',
      `The decision document the message references is not in ${this.bucket} yet.`,
      { details: { bucket: this.bucket } },
    );
  }
}
