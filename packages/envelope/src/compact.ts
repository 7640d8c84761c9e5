import { decodeBase64Url, isBase64Url } from './base64url.js';
import { EnvelopeError } from './envelope-error.js';
import { isCanonicalCoordinate } from './keys.js';
import { decodeUtf8, isJsonObject, parseStrictJson } from './strict-json.js';

/**
 * Splits a compact serialization into `parts` segments of canonical base64url ({@link isBase64Url}), or
 * throws ERR_ENVELOPE_MALFORMED.
 */
export function splitCompact(value: unknown, parts: 3 | 5, what: string): string[] {
  if (typeof value !== 'string') {
    throw new EnvelopeError('ERR_ENVELOPE_MALFORMED', `${what} must be a string.`);
  }
  const segments = value.split('.');
  if (segments.length !== parts || !segments.every(isBase64Url) || segments[0] === '') {
    throw new EnvelopeError(
      'ERR_ENVELOPE_MALFORMED',
      `${what} is not a compact ${parts === 3 ? 'JWS' : 'JWE'}.`,
    );
  }
  return segments;
}

/** Decodes a compact serialization's protected header, refusing non-JSON and duplicate members. */
export function decodeProtectedHeader(segment: string, what: string): Record<string, unknown> {
  const header = parseStrictJson(
    decodeUtf8(decodeBase64Url(segment, `${what} header`), `${what} header`),
    `${what} header`,
  );
  if (!isJsonObject(header)) {
    throw new EnvelopeError('ERR_ENVELOPE_MALFORMED', `${what} header is not a JSON object.`);
  }
  return header;
}

/** Allowed protected-header members of a JWS (seal, inner signature, receipts). */
const JWS_MEMBERS = new Set(['alg', 'kid', 'typ', 'cty']);
/** Allowed protected-header members of the JWE. */
const JWE_MEMBERS = new Set(['alg', 'enc', 'kid', 'epk', 'typ', 'cty', 'apu', 'apv']);
const EPK_MEMBERS = new Set(['kty', 'crv', 'x', 'y']);

function refuse(what: string, reason: string, member: string): never {
  throw new EnvelopeError('ERR_ALG_NOT_ALLOWED', `${what} header refused: ${reason}.`, {
    details: { member: member.slice(0, 32) },
  });
}

/**
 * Enforces the JWS allowlist: `alg` exactly ES256, a string `kid`, and no other member than typ/cty — so
 * `none`, HMAC, `crit`, `b64`, embedded or remote keys (`jwk`, `jku`, `x5u`, `x5c`, `x5t`) are refused.
 */
export function assertJwsHeader(header: Record<string, unknown>, what: string): { kid: string } {
  for (const k of Object.keys(header))
    if (!JWS_MEMBERS.has(k)) refuse(what, `member "${k.slice(0, 32)}" is not allowed`, k);
  if (header['alg'] !== 'ES256') refuse(what, 'alg must be ES256', 'alg');
  if (typeof header['kid'] !== 'string' || header['kid'] === '') refuse(what, 'kid is required', 'kid');
  for (const k of ['typ', 'cty']) {
    if (k in header && typeof header[k] !== 'string') refuse(what, `${k} must be a string`, k);
  }
  return { kid: header['kid'] };
}

/**
 * Enforces the JWE allowlist: `alg` ECDH-ES+A256KW, `enc` A256GCM, a P-256 `epk` with public members
 * only and coordinates of 32 bytes in canonical base64url, `apu`/`apv` (when present) in canonical
 * base64url, a string `kid`; no `zip`, `crit`, `jwk`, `jku`, `x5u`, `x5c` or other member.
 */
export function assertJweHeader(header: Record<string, unknown>, what: string): { kid: string } {
  for (const k of Object.keys(header))
    if (!JWE_MEMBERS.has(k)) refuse(what, `member "${k.slice(0, 32)}" is not allowed`, k);
  if (header['alg'] !== 'ECDH-ES+A256KW') refuse(what, 'alg must be ECDH-ES+A256KW', 'alg');
  if (header['enc'] !== 'A256GCM') refuse(what, 'enc must be A256GCM', 'enc');
  if (typeof header['kid'] !== 'string' || header['kid'] === '') refuse(what, 'kid is required', 'kid');
  const epk = header['epk'];
  if (
    !isJsonObject(epk) ||
    !Object.keys(epk).every((k) => EPK_MEMBERS.has(k)) ||
    epk['kty'] !== 'EC' ||
    epk['crv'] !== 'P-256' ||
    !isCanonicalCoordinate(epk['x']) ||
    !isCanonicalCoordinate(epk['y'])
  ) {
    refuse(what, 'epk must be a public EC P-256 key', 'epk');
  }
  for (const k of ['apu', 'apv']) {
    if (k in header && (typeof header[k] !== 'string' || !isBase64Url(header[k])))
      refuse(what, `${k} must be canonical base64url`, k);
  }
  return { kid: header['kid'] };
}
