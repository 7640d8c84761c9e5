import { EnvelopeError } from './envelope-error.js';

/**
 * Whether `s` is unpadded base64url (RFC 4648 §5, RFC 7515 §2) in its one canonical spelling: only the
 * alphabet, no padding, a length that is a whole number of bytes, and the unused low bits of the last
 * character zero. Decoders ignore those bits, so without this check several texts decode to the same
 * bytes, and a signature, a seal or a whole envelope would have more than one name.
 *
 * @example
 * ```ts
 * isBase64Url('AQ'); // true: the byte 0x01
 * isBase64Url('AR'); // false: the same byte with an unused bit set
 * ```
 */
export function isBase64Url(s: string): boolean {
  return canonicalBytes(s) !== undefined;
}

/**
 * The bytes `s` spells if it is their canonical encoding. Decoding and encoding again gives back `s`
 * exactly when it is canonical: the decoder skips characters outside the alphabet, stops at padding, takes
 * `+` and `/` for `-` and `_` and ignores unused bits, and the encoder does none of that (and both run
 * faster than a regular expression over the alphabet).
 */
function canonicalBytes(s: string): Buffer | undefined {
  const bytes = Buffer.from(s, 'base64url');
  return bytes.toString('base64url') === s ? bytes : undefined;
}

/**
 * The bytes of canonical unpadded base64url (see {@link isBase64Url}); anything else is
 * ERR_ENVELOPE_MALFORMED naming `what`. The one decoder of the signatures, headers, payloads and JWE parts
 * the project parses.
 *
 * @example
 * ```ts
 * const signature = decodeBase64Url(jws.split('.')[2], 'JWS signature');
 * ```
 */
export function decodeBase64Url(s: string, what: string): Buffer {
  const bytes = canonicalBytes(s);
  if (!bytes) {
    throw new EnvelopeError('ERR_ENVELOPE_MALFORMED', `${what} is not canonical unpadded base64url.`);
  }
  return bytes;
}
