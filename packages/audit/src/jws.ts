// Reads a JWS without verifying it: the ledger checks what a seal binds before the costly signature
// check, which goes through the envelope's verifyCompact (or, in bulk, verify-pool.ts).
import { decodeBase64Url, isBase64Url } from '@passerelle/envelope/internal';

/** A compact JWS split into its parts; `signingInput` is what ES256 signs. */
export interface CompactParts {
  header: { alg?: unknown; kid?: unknown; typ?: unknown } & Record<string, unknown>;
  payload: unknown;
  signingInput: string;
  signature: string;
}

/**
 * Splits a compact JWS and decodes header and payload; `undefined` when it is not one, or when a segment
 * is not canonical base64url (one JWS, one spelling: the ledger hashes the text).
 */
export function decodeCompact(jws: unknown): CompactParts | undefined {
  if (typeof jws !== 'string') return undefined;
  const parts = jws.split('.');
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  if (!h || !p || !s || !isBase64Url(s)) return undefined;
  try {
    const header = JSON.parse(decodeBase64Url(h, 'JWS header').toString('utf8')) as unknown;
    const payload = JSON.parse(decodeBase64Url(p, 'JWS payload').toString('utf8')) as unknown;
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
    return { header: header as CompactParts['header'], payload, signingInput: `${h}.${p}`, signature: s };
  } catch {
    return undefined;
  }
}
