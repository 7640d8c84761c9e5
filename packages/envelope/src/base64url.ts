import { EnvelopeError } from './envelope-error.js';

const ALPHABET = /^[A-Za-z0-9_-]*$/;
// The last character of 4n + 2 characters carries 2 bits of data and 4 unused, of 4n + 3 characters 4 and
// 2: canonical encoders leave the unused bits zero, which only these characters do.
const LAST_OF_TWO = new Set('AQgw');
const LAST_OF_THREE = new Set('AEIMQUYcgkosw048');

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
  if (!ALPHABET.test(s)) return false;
  switch (s.length % 4) {
    case 0:
      return true;
    case 2:
      return LAST_OF_TWO.has(s.charAt(s.length - 1));
    case 3:
      return LAST_OF_THREE.has(s.charAt(s.length - 1));
    default:
      return false;
  }
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
  if (!isBase64Url(s)) {
    throw new EnvelopeError('ERR_ENVELOPE_MALFORMED', `${what} is not canonical unpadded base64url.`);
  }
  return Buffer.from(s, 'base64url');
}
