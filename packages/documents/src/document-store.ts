import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ObjectStore } from '@nats-io/obj';
import type { ObjectSource } from './direct-object-reader.js';
import { DocumentError } from './document-error.js';
import { type OpenBucketOptions, openStoreBucket } from './open-object-store.js';

/** Media types a document may have (the `DocumentRef.mediaType` enum of the schemas). */
export const ALLOWED_MEDIA_TYPES = [
  'application/pdf',
  'image/jpeg',
  'image/png',
  'application/xml',
  'application/json',
] as const;

/** One of {@link ALLOWED_MEDIA_TYPES}. */
export type DocumentMediaType = (typeof ALLOWED_MEDIA_TYPES)[number];

/** A reference to a stored document, as the message schemas carry it (`DocumentRef`). */
export interface DocumentRef {
  /** SHA-256 of the plain document, lower-case hex. */
  sha256: string;
  mediaType: DocumentMediaType;
  /** Plain size in bytes. */
  size: number;
  /** Read capability: `d1/<object id>/<key>`; see {@link DocumentStore}. */
  objectKey: string;
}

/** Name of the Object Store bucket holding the exchange's documents. */
export const DOCUMENTS_BUCKET = 'pex-documents';

/** @internal The format of encrypted objects and of their references' `objectKey`. */
export const FORMAT = 'd1';
/** @internal */
export const TAG_BYTES = 16;
const OBJECT_KEY = /^d1\/([A-Za-z0-9_-]{22})\/([A-Za-z0-9_-]{43})$/;

/** Whether `value` is one of {@link ALLOWED_MEDIA_TYPES}. */
export function isAllowedMediaType(value: string): value is DocumentMediaType {
  return (ALLOWED_MEDIA_TYPES as readonly string[]).includes(value);
}

/** @internal */
export interface ParsedKey {
  name: string;
  encKey: Buffer;
  macKey: Buffer;
}

/** @internal */
export function deriveKeys(secret: Buffer): { encKey: Buffer; macKey: Buffer } {
  // Separate keys for the cipher and for the reference MAC, both from the one per-object secret.
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
  return { encKey: derive('passerelle document A256GCM'), macKey: derive('passerelle document ref-mac') };
}

/** @internal The stored name and the keys an `objectKey` of the form `d1/<object id>/<key>` carries. */
export function parseObjectKey(objectKey: string): ParsedKey | undefined {
  const m = OBJECT_KEY.exec(objectKey);
  if (!m) return undefined;
  const secret = Buffer.from(m[2] ?? '', 'base64url');
  if (secret.length !== 32) return undefined;
  return { name: `${FORMAT}/${m[1] ?? ''}`, ...deriveKeys(secret) };
}

/** @internal */
export function additionalData(name: string, mediaType: string): Buffer {
  return Buffer.from(`passerelle-document-v1\n${name}\n${mediaType}`, 'utf8');
}

/** @internal */
export function refMac(macKey: Buffer, sha256: string, mediaType: string, size: number): string {
  return createHmac('sha256', macKey).update(`${sha256}\n${mediaType}\n${size}`).digest('base64url');
}

function unknownDocument(path: string): DocumentError {
  return new DocumentError(
    'ERR_DOCUMENT_UNKNOWN',
    `The document at ${path} was not uploaded by this integrator.`,
    {
      details: { path },
    },
  );
}

function sealedIntegrity(cause?: unknown): DocumentError {
  return new DocumentError(
    'ERR_DOCUMENT_INTEGRITY',
    'The stored document does not decrypt to its reference.',
    cause === undefined ? {} : { cause },
  );
}

/** @internal Padding block of {@link pad}. */
export const PAD_BLOCK = 1024;

/**
 * @internal The bytes behind a 4-byte big-endian length, then zeros up to a multiple of {@link PAD_BLOCK}:
 * encrypted so, documents of different lengths (a grant with its period, a refusal with its reason) have
 * the same stored size.
 */
export function pad(bytes: Uint8Array): Buffer {
  const total = Math.ceil((bytes.length + 4) / PAD_BLOCK) * PAD_BLOCK;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(bytes.length, 0);
  out.set(bytes, 4);
  return out;
}

/** The bytes {@link pad} wrapped, or undefined when the length or the padding is not its. */
function unpad(padded: Buffer): Buffer | undefined {
  if (padded.length < 4 || padded.length % PAD_BLOCK !== 0) return undefined;
  const length = padded.readUInt32BE(0);
  if (length > padded.length - 4) return undefined;
  const rest = padded.subarray(4 + length);
  if (rest.some((b) => b !== 0)) return undefined;
  return padded.subarray(4, 4 + length);
}

/**
 * @internal Decrypts an object stored under `parsed.name` with the IV of its metadata, and checks the
 * plain bytes against the reference (SHA-256 and size); `ERR_DOCUMENT_INTEGRITY` otherwise.
 */
export function openSealed(
  parsed: ParsedKey,
  ref: { sha256: string; size: number; mediaType: string },
  iv: string | undefined,
  data: Uint8Array,
  options: { padded?: boolean } = {},
): Uint8Array {
  if (!iv || data.length < TAG_BYTES) throw sealedIntegrity();
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', parsed.encKey, Buffer.from(iv, 'base64url'));
    decipher.setAAD(additionalData(parsed.name, ref.mediaType));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    plain = Buffer.concat([decipher.update(data.subarray(0, data.length - TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw sealedIntegrity(err);
  }
  if (options.padded) {
    const inner = unpad(plain);
    if (!inner) throw sealedIntegrity();
    plain = inner;
  }
  if (plain.length !== ref.size || createHash('sha256').update(plain).digest('hex') !== ref.sha256) {
    throw sealedIntegrity();
  }
  return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
}

/** What {@link DocumentStore.put} needs. */
export interface PutDocumentInput {
  /** Integrator that uploads (kept with the object so no one else can reference it). */
  owner: string;
  mediaType: string;
  /** The plain bytes, streamed. */
  body: AsyncIterable<Uint8Array>;
  /** Size limit in bytes. */
  maxBytes: number;
  /** Declared length (Content-Length), checked before reading anything. */
  declaredLength?: number;
}

/**
 * Documents in the JetStream Object Store, each encrypted with its own random 256-bit key (AES-256-GCM,
 * streamed, so large files are never held whole in memory on upload).
 *
 * The key travels only inside `DocumentRef.objectKey`, which has the form `d1/<object id>/<key>`: the object
 * is stored under `d1/<object id>`, and the key part is a read capability. `DocumentRef` is a closed schema,
 * and its `objectKey` only ever travels inside end-to-end encrypted payloads (and the HTTPS answer to the
 * uploading integrator), so whoever can read the bucket — NATS operators included — sees ciphertext, a
 * random id and sizes, never the key nor the plain hash. A recipient whose projection leaves a document out
 * gets no key for it: data minimisation of the contract extends to documents without a second access list.
 * The object's metadata holds the IV, the media type, the uploading integrator, and a MAC (keyed from the
 * object key) over hash, media type and size, so a reference is checked without decrypting and without
 * revealing the plain hash.
 *
 * @example
 * ```ts
 * const docs = await DocumentStore.open(nc);
 * const ref = await docs.put({ owner: 'acme-hr', mediaType: 'application/pdf', body: request.raw, maxBytes });
 * const bytes = await docs.read(ref); // a recipient holding the ref from its payload
 * ```
 */
export class DocumentStore {
  private constructor(
    private readonly os: ObjectStore,
    /** Reads with direct gets: a document expiring while it is read is refused, where a consumer would wait. */
    private readonly reader: ObjectSource,
  ) {}

  /**
   * Opens (or creates) the documents bucket. Recipients, and integrators on a secured server where the
   * operator provisions the store, pass `create: false`; an administration needs only read rights to
   * read the documents whose references reach it inside its payloads. `maxAgeMs`: how long the bucket
   * keeps a document (the longest `retentionDays` of the contract, `payloadRetentionMs`), applied by the
   * server to a bucket this call creates or already finds.
   */
  static async open(nc: NatsConnection, options: OpenBucketOptions = {}): Promise<DocumentStore> {
    const { os, reader } = await openStoreBucket(nc, options, {
      bucket: DOCUMENTS_BUCKET,
      description: 'Passerelle documents, each AES-256-GCM encrypted under its own key',
    });
    return new DocumentStore(os, reader);
  }

  /** Encrypts and stores a streamed document; resolves to the reference to put in messages. */
  async put(input: PutDocumentInput): Promise<DocumentRef> {
    const { mediaType, maxBytes } = input;
    if (!isAllowedMediaType(mediaType)) {
      throw new DocumentError(
        'ERR_MEDIA_TYPE_NOT_ALLOWED',
        `Documents must be one of ${ALLOWED_MEDIA_TYPES.join(', ')}.`,
        { details: { allowed: [...ALLOWED_MEDIA_TYPES] } },
      );
    }
    const tooLarge = (): DocumentError =>
      new DocumentError('ERR_DOCUMENT_TOO_LARGE', `A document must hold 1 to ${maxBytes} bytes.`, {
        details: { maxBytes },
      });
    if (input.declaredLength !== undefined && (input.declaredLength > maxBytes || input.declaredLength < 1)) {
      throw tooLarge();
    }
    const secret = randomBytes(32);
    const name = `${FORMAT}/${randomBytes(16).toString('base64url')}`;
    const objectKey = `${name}/${secret.toString('base64url')}`;
    const { encKey, macKey } = deriveKeys(secret);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', encKey, iv);
    cipher.setAAD(additionalData(name, mediaType));
    const hash = createHash('sha256');
    let size = 0;
    let failure: unknown;

    const source = input.body[Symbol.asyncIterator]();
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await source.next();
          if (next.done) {
            if (size === 0) throw tooLarge();
            const last = cipher.final();
            const tail = new Uint8Array(last.length + TAG_BYTES);
            tail.set(last, 0);
            tail.set(cipher.getAuthTag(), last.length);
            controller.enqueue(tail);
            controller.close();
            return;
          }
          size += next.value.length;
          if (size > maxBytes) throw tooLarge();
          hash.update(next.value);
          const chunk = cipher.update(next.value);
          if (chunk.length > 0) controller.enqueue(new Uint8Array(chunk));
        } catch (err) {
          failure = err;
          controller.error(err);
        }
      },
      async cancel() {
        await source.return?.();
      },
    });

    const metadata: Record<string, string> = {
      format: FORMAT,
      alg: 'A256GCM',
      iv: iv.toString('base64url'),
      mediaType,
      owner: input.owner,
    };
    try {
      await this.os.put({ name, metadata }, stream);
    } catch (err) {
      await this.os.delete(name).catch(() => undefined);
      throw failure ?? err;
    }
    const sha256 = hash.digest('hex');
    // The MAC needs the final hash and size, known only once the stream ended: a small second write.
    await this.os.update(name, {
      name,
      metadata: { ...metadata, refMac: refMac(macKey, sha256, mediaType, size) },
    });
    return { sha256, mediaType, size, objectKey };
  }

  /**
   * Checks that a reference names a document uploaded by `owner`, with the hash, media type and size it
   * claims; throws `ERR_DOCUMENT_UNKNOWN` naming `path` otherwise. Reads metadata only.
   */
  async check(ref: DocumentRef, owner: string, path: string): Promise<void> {
    const parsed = parseObjectKey(ref.objectKey);
    if (!parsed) throw unknownDocument(path);
    const info = await this.os.info(parsed.name);
    const meta = info?.metadata;
    if (!info || info.deleted || !meta || meta['owner'] !== owner || meta['mediaType'] !== ref.mediaType) {
      throw unknownDocument(path);
    }
    const expected = Buffer.from(refMac(parsed.macKey, ref.sha256, ref.mediaType, ref.size));
    const stored = Buffer.from(meta['refMac'] ?? '');
    if (stored.length !== expected.length || !timingSafeEqual(stored, expected)) throw unknownDocument(path);
  }

  /**
   * Fetches, decrypts and verifies a document (hash and size against the reference), from this store or,
   * on a secured server, from another participant's store read with direct gets (`from`).
   */
  read(ref: DocumentRef, from: ObjectSource = this.reader): Promise<Uint8Array> {
    return readDocument(ref, from);
  }

  /** The stored (encrypted) bytes of a document, for tests and operators: never the plain text. */
  async ciphertext(objectKey: string): Promise<Uint8Array | null> {
    const parsed = parseObjectKey(objectKey);
    return parsed ? ((await this.reader.object(parsed.name))?.data ?? null) : null;
  }
}

/**
 * Fetches, decrypts and verifies a document from any store that holds it (its own, or another
 * participant's read with direct gets): `ERR_DOCUMENT_INTEGRITY` when it is absent or not the referenced bytes.
 */
export async function readDocument(ref: DocumentRef, from: ObjectSource): Promise<Uint8Array> {
  const parsed = parseObjectKey(ref.objectKey);
  if (!parsed) throw sealedIntegrity();
  const stored = await from.object(parsed.name);
  if (!stored) throw sealedIntegrity();
  return openSealed(parsed, ref, stored.metadata?.['iv'], stored.data);
}
