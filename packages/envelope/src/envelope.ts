import { isPasserelleError } from '@passerelle/errors';
import { assertJweHeader, assertJwsHeader, decodeProtectedHeader, splitCompact } from './compact.js';
import type { CryptoProvider } from './crypto-provider.js';
import { EnvelopeError, withKey } from './envelope-error.js';
import { defaultProvider } from './node-crypto-provider.js';
import { META_KEYS, assertEnvelopeMeta, canonicalMeta } from './meta.js';
import { decodeUtf8, isJsonObject, parseStrictJson } from './strict-json.js';
import type { Envelope, EnvelopeMeta, KeyResolver, ParticipantKeys, PublicJwk } from './types.js';
import { sha256Hex } from './util.js';

/** Default size limit of one envelope, in bytes: NATS's default `max_payload` (1 MiB). */
export const DEFAULT_MAX_BYTES = 1024 * 1024;
/** Default freshness window: `issuedAt` may be this far in the past or in the future (clock skew). */
export const DEFAULT_FRESHNESS_MS = 15 * 60_000;

const SEAL_TYP = 'pex-seal+jws';
const INNER_TYP = 'pex-msg+jws';
const ENVELOPE_KEYS = ['meta', 'jwe', 'seal'];
const utf8 = new TextEncoder();

/** Input of {@link sealEnvelope}. */
export interface SealInput {
  meta: EnvelopeMeta;
  /** Any JSON value: the message body, already projected for this recipient. */
  payload: unknown;
  sender: ParticipantKeys;
  /** The recipient's current encryption key, from the directory. */
  recipientKey: PublicJwk;
  provider?: CryptoProvider;
}

/**
 * Signs `{ meta, payload }` (ES256), encrypts the signature to the recipient (ECDH-ES+A256KW, A256GCM),
 * and seals `meta` with the SHA-256 of the JWE (ES256), so that anyone holding the directory can check
 * origin and integrity without decrypting.
 *
 * @example
 * ```ts
 * const envelope = await sealEnvelope({ meta, payload, sender: myKeys, recipientKey: await directory.resolve(meta.recipient, 'enc', new Date()) });
 * js.publish(subject, JSON.stringify(envelope), { msgID: envelope.meta.id });
 * ```
 */
export async function sealEnvelope(input: SealInput): Promise<Envelope> {
  const provider = input.provider ?? defaultProvider;
  const meta = canonicalMeta(assertEnvelopeMeta(input.meta));
  if (meta.sender !== input.sender.participantId) {
    throw new EnvelopeError(
      'ERR_ENVELOPE_MALFORMED',
      'meta.sender is not the participant whose keys seal the message.',
      {
        details: { field: 'sender' },
      },
    );
  }
  const inner = JSON.stringify({ meta, payload: input.payload });
  const innerJws = await provider.sign(utf8.encode(inner), input.sender.signing, { typ: INNER_TYP });
  const jwe = await provider.encrypt(utf8.encode(innerJws), input.recipientKey);
  const seal = await provider.sign(
    utf8.encode(JSON.stringify({ v: 1, meta, jweSha256: sha256Hex(jwe) })),
    input.sender.signing,
    { typ: SEAL_TYP },
  );
  return { meta, jwe, seal };
}

function byteLength(raw: Uint8Array | string): number {
  return typeof raw === 'string' ? Buffer.byteLength(raw, 'utf8') : raw.byteLength;
}

/**
 * Size, JSON and shape checks only (no cryptography): the body must be at most `maxBytes`, strict JSON
 * without duplicate keys, exactly `{ meta, jwe, seal }` with a well-formed meta and compact JWE/JWS.
 *
 * @example
 * ```ts
 * const { meta } = parseEnvelope(msg.data, { maxBytes: 1 << 20 }); // route or dead-letter on meta alone
 * ```
 */
export function parseEnvelope(raw: Uint8Array | string, options: { maxBytes?: number } = {}): Envelope {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const size = byteLength(raw);
  if (size > maxBytes) {
    throw new EnvelopeError(
      'ERR_ENVELOPE_TOO_LARGE',
      `Envelope of ${size} bytes exceeds the ${maxBytes}-byte limit.`,
      {
        details: { size, maxBytes },
      },
    );
  }
  const text = typeof raw === 'string' ? raw : decodeUtf8(raw, 'envelope');
  return assertEnvelopeShape(parseStrictJson(text, 'envelope'));
}

function assertEnvelopeShape(value: unknown): Envelope {
  if (!isJsonObject(value))
    throw new EnvelopeError('ERR_ENVELOPE_MALFORMED', 'Envelope is not a JSON object.');
  const keys = Object.keys(value);
  if (keys.length !== 3 || !ENVELOPE_KEYS.every((k) => keys.includes(k))) {
    throw new EnvelopeError(
      'ERR_ENVELOPE_MALFORMED',
      'Envelope must have exactly the members meta, jwe and seal.',
    );
  }
  const meta = assertEnvelopeMeta(value['meta']);
  splitCompact(value['jwe'], 5, 'jwe');
  splitCompact(value['seal'], 3, 'seal');
  return { meta, jwe: value['jwe'] as string, seal: value['seal'] as string };
}

const RESOLVER_CODES = ['ERR_UNKNOWN_SENDER', 'ERR_KEY_NOT_FOUND', 'ERR_KEY_NOT_VALID_AT'] as const;

async function resolveSenderKey(
  resolver: KeyResolver,
  meta: EnvelopeMeta,
  kid: string,
  at = new Date(meta.issuedAt),
): Promise<PublicJwk> {
  try {
    return await resolver.resolve(meta.sender, 'sig', at, kid);
  } catch (err) {
    for (const code of RESOLVER_CODES) {
      if (isPasserelleError(err, code))
        throw new EnvelopeError(code, err.message, {
          cause: err,
          details: err.details ? { ...err.details } : {},
        });
    }
    throw err;
  }
}

/** The protected header of a compact serialization whose form has been checked. */
function firstSegment(compact: string): string {
  return compact.slice(0, compact.indexOf('.'));
}

/**
 * Whether a signed `meta` (any JSON) is exactly the clear one: the same members with the same values.
 * Meta members are scalars (`assertEnvelopeMeta`), so strict equality per member is the whole comparison.
 */
function sameMeta(signed: unknown, clear: EnvelopeMeta): boolean {
  if (!isJsonObject(signed) || Object.keys(signed).length !== META_KEYS.length) return false;
  return META_KEYS.every((k) => Object.hasOwn(signed, k) && signed[k] === clear[k]);
}

async function checkSeal(
  envelope: Envelope,
  resolver: KeyResolver,
  provider: CryptoProvider,
): Promise<{ kid: string; jweSha256: string }> {
  // parseEnvelope has checked the compact form of seal and jwe
  const header = decodeProtectedHeader(firstSegment(envelope.seal), 'seal');
  const { kid } = assertJwsHeader(header, 'seal');
  const key = await resolveSenderKey(resolver, envelope.meta, kid);
  // the sender signs other objects with the same key (the inner JWS, receipts): only a seal says it is one
  if (header['typ'] !== SEAL_TYP) {
    throw new EnvelopeError('ERR_SEAL_INVALID', `The seal's typ is not ${SEAL_TYP}.`, { details: { kid } });
  }
  const payload = await withKey(
    () => provider.verify(envelope.seal, key),
    'ERR_SEAL_INVALID',
    'The seal signature does not verify with the sender key.',
    kid,
  );
  const jweSha256 = sha256Hex(envelope.jwe);
  let sealed: unknown;
  try {
    sealed = parseStrictJson(decodeUtf8(payload, 'seal payload'), 'seal payload');
  } catch (cause) {
    throw new EnvelopeError('ERR_SEAL_INVALID', 'The seal payload is not JSON.', { cause });
  }
  if (
    !isJsonObject(sealed) ||
    Object.keys(sealed).length !== 3 ||
    sealed['v'] !== 1 ||
    sealed['jweSha256'] !== jweSha256 ||
    !sameMeta(sealed['meta'], envelope.meta)
  ) {
    throw new EnvelopeError('ERR_SEAL_INVALID', 'The seal does not cover this meta and this JWE.', {
      details: { kid },
    });
  }
  return { kid, jweSha256 };
}

/** Options of {@link verifySeal}. */
export interface VerifySealOptions {
  resolver: KeyResolver;
  maxBytes?: number;
  provider?: CryptoProvider;
}

/**
 * Checks an envelope's origin and integrity without decrypting it: shape, the seal's header allowlist,
 * the sender's key valid at `issuedAt`, the seal's `typ`, its signature, and that it covers this `meta`
 * and this JWE.
 *
 * @example
 * ```ts
 * const { jweSha256, kid } = await verifySeal(msg.data, { resolver: directory }); // the auditor's check
 * ```
 */
export async function verifySeal(
  raw: Uint8Array | string | Envelope,
  options: VerifySealOptions,
): Promise<{ envelope: Envelope; jweSha256: string; kid: string }> {
  const envelope =
    typeof raw === 'string' || raw instanceof Uint8Array
      ? parseEnvelope(raw, options)
      : parseEnvelope(JSON.stringify(raw), options);
  const { kid, jweSha256 } = await checkSeal(envelope, options.resolver, options.provider ?? defaultProvider);
  return { envelope, jweSha256, kid };
}

/** Options of {@link openEnvelope}. */
export interface OpenOptions {
  recipient: ParticipantKeys;
  resolver: KeyResolver;
  /** The receiver's clock (tests freeze it). */
  now?: Date;
  /** Allowed distance between `issuedAt` and `now`, both ways; `Infinity` when replaying old messages. */
  freshnessMs?: number;
  /**
   * A time at which the sender's key must still be valid besides `issuedAt`: when the message entered the
   * exchange. A key revoked since (its `notAfter` set to the compromise) then signs nothing new, however its
   * holder backdates `issuedAt`.
   */
  keyValidAt?: Date;
  maxBytes?: number;
  provider?: CryptoProvider;
}

/**
 * Checks and opens an envelope addressed to `recipient`. Checks, in order, each with its code: size
 * (ERR_ENVELOPE_TOO_LARGE), JSON and shape (ERR_ENVELOPE_MALFORMED), seal header allowlist
 * (ERR_ALG_NOT_ALLOWED), sender key at `issuedAt` (ERR_UNKNOWN_SENDER, ERR_KEY_NOT_FOUND,
 * ERR_KEY_NOT_VALID_AT), seal: its typ, signature and coverage (ERR_SEAL_INVALID), the same key still
 * valid at `keyValidAt` if given (ERR_KEY_NOT_VALID_AT), JWE header allowlist then decryption
 * (ERR_ALG_NOT_ALLOWED, ERR_DECRYPTION_FAILED), inner signature: its allowlist, then its typ and signature
 * (ERR_ALG_NOT_ALLOWED, ERR_SIGNATURE_INVALID), inner and outer meta equal (ERR_META_MISMATCH), recipient
 * (ERR_WRONG_RECIPIENT),
 * freshness (ERR_NOT_FRESH).
 *
 * @example
 * ```ts
 * const { meta, payload } = await openEnvelope(msg.data, { recipient: myKeys, resolver: directory });
 * ```
 */
export async function openEnvelope(
  raw: Uint8Array | string,
  options: OpenOptions,
): Promise<{ meta: EnvelopeMeta; payload: unknown; envelope: Envelope }> {
  const provider = options.provider ?? defaultProvider;
  const envelope = parseEnvelope(raw, options);
  const { meta } = envelope;
  const { kid: sealKid } = await checkSeal(envelope, options.resolver, provider);
  if (options.keyValidAt) await resolveSenderKey(options.resolver, meta, sealKid, options.keyValidAt);

  const { kid: encKid } = assertJweHeader(decodeProtectedHeader(firstSegment(envelope.jwe), 'jwe'), 'jwe');
  const decryptionKey = options.recipient.encryption.find((k) => k.kid === encKid);
  if (!decryptionKey) {
    throw new EnvelopeError(
      'ERR_DECRYPTION_FAILED',
      'The JWE is encrypted to a key this participant does not hold.',
      {
        details: { kid: encKid.slice(0, 128) },
      },
    );
  }
  const innerBytes = await withKey(
    () => provider.decrypt(envelope.jwe, decryptionKey),
    'ERR_DECRYPTION_FAILED',
    'The JWE does not decrypt with this participant key.',
    encKid,
  );

  const payloadBytes = await verifyInner(innerBytes, meta, options.resolver, provider);
  const inner = parseStrictJson(decodeUtf8(payloadBytes, 'inner payload'), 'inner payload');
  if (
    !isJsonObject(inner) ||
    Object.keys(inner).length !== 2 ||
    !('meta' in inner) ||
    !('payload' in inner)
  ) {
    throw new EnvelopeError(
      'ERR_ENVELOPE_MALFORMED',
      'The signed content must have exactly the members meta and payload.',
    );
  }
  if (!sameMeta(inner['meta'], meta)) {
    throw new EnvelopeError('ERR_META_MISMATCH', 'The signed meta differs from the clear meta.');
  }
  if (meta.recipient !== options.recipient.participantId) {
    throw new EnvelopeError(
      'ERR_WRONG_RECIPIENT',
      `The envelope is addressed to ${meta.recipient}, not to ${options.recipient.participantId}.`,
      {
        details: { recipient: meta.recipient },
      },
    );
  }
  const now = (options.now ?? new Date()).getTime();
  const freshnessMs = options.freshnessMs ?? DEFAULT_FRESHNESS_MS;
  const issuedAt = Date.parse(meta.issuedAt);
  if (Math.abs(now - issuedAt) > freshnessMs) {
    throw new EnvelopeError(
      'ERR_NOT_FRESH',
      `issuedAt is ${Math.round((now - issuedAt) / 1000)} s from now, outside the ${freshnessMs / 1000} s window.`,
      {
        details: { issuedAt: meta.issuedAt, freshnessMs },
      },
    );
  }
  return { meta, payload: inner['payload'], envelope };
}

async function verifyInner(
  innerBytes: Uint8Array,
  meta: EnvelopeMeta,
  resolver: KeyResolver,
  provider: CryptoProvider,
): Promise<Uint8Array> {
  const notSigned = (cause?: unknown): EnvelopeError =>
    new EnvelopeError(
      'ERR_SIGNATURE_INVALID',
      'The decrypted content is not a valid signature by the sender.',
      { cause },
    );
  let jws: string;
  let header: Record<string, unknown>;
  try {
    jws = decodeUtf8(innerBytes, 'inner JWS');
    header = decodeProtectedHeader(splitCompact(jws, 3, 'inner JWS')[0] as string, 'inner JWS');
  } catch (cause) {
    throw notSigned(cause);
  }
  const { kid } = assertJwsHeader(header, 'inner JWS');
  // a seal or a receipt of the sender, encrypted to the recipient, must not pass for a message
  if (header['typ'] !== INNER_TYP) throw notSigned(new Error(`the inner JWS's typ is not ${INNER_TYP}`));
  let key: PublicJwk;
  try {
    key = await resolver.resolve(meta.sender, 'sig', new Date(meta.issuedAt), kid);
  } catch (cause) {
    // the content was signed by someone other than the sender named (and sealed) in meta
    throw notSigned(cause);
  }
  try {
    return await provider.verify(jws, key);
  } catch (cause) {
    throw notSigned(cause);
  }
}
