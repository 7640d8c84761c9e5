import { canonicalJson } from './canonical-json.js';
import type { LedgerEntry, TimestampLedgerEntry } from './entry.js';

/** Entries that carry an ES256 JWS (every kind but timestamps, which carry an RFC 3161 token). */
export type SignedLedgerEntry = Exclude<LedgerEntry, TimestampLedgerEntry>;
import { decodeCompact } from './jws.js';
import type { LedgerErrorCode } from './ledger-error.js';

/** The participant whose key must verify an entry's JWS, and what that JWS signs. */
export interface SignatureSpec {
  code: LedgerErrorCode;
  signer: string;
  at: Date;
  kid: string;
  signingInput: string;
  signature: string;
}

/** Why an entry's JWS cannot even be checked (bad header, payload that does not bind the entry). */
export interface SignatureDefect {
  code: LedgerErrorCode;
  reason: string;
}

/**
 * Whether two JSON values are equal as canonical JSON. Flat objects of primitives (meta, claims) are compared
 * member by member, which is what they always are; anything nested falls back to canonical serialisation.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) ||
    Array.isArray(b)
  ) {
    return canonicalJson(a ?? null) === canonicalJson(b ?? null);
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra);
  if (ka.length !== Object.keys(rb).length) return canonicalJson(ra) === canonicalJson(rb);
  for (const k of ka) {
    const va = ra[k];
    if (typeof va === 'object' && va !== null) return canonicalJson(ra) === canonicalJson(rb);
    if (!Object.hasOwn(rb, k) || va !== rb[k]) return false;
  }
  return true;
}

/** The participant id that signs checkpoints. */
export const AUDITOR_ID = 'auditor';

function codeOf(entry: SignedLedgerEntry): LedgerErrorCode {
  if (entry.kind === 'envelope') return 'ERR_LEDGER_SEAL_INVALID';
  if (entry.kind === 'receipt') return 'ERR_LEDGER_RECEIPT_INVALID';
  if (entry.kind === 'erasure') return 'ERR_LEDGER_SEAL_INVALID';
  return 'ERR_LEDGER_CHECKPOINT_INVALID';
}

/**
 * What must be verified for an entry's JWS: the envelope seal over `{ v: 1, meta, jweSha256 }` by the sender
 * (key valid at `issuedAt`), the receipt over its claims by the receiver (at `receivedAt` of the claims), the
 * checkpoint over its claims by the auditor. Checks the binding of the JWS payload to the entry here; the
 * costly signature check is left to the caller (worker threads).
 */
export function signatureSpec(entry: SignedLedgerEntry): SignatureSpec | SignatureDefect {
  const code = codeOf(entry);
  const jws = decodeCompact(entry.seal);
  if (!jws) return { code, reason: 'the JWS is not a compact serialisation' };
  if (jws.header.alg !== 'ES256') return { code, reason: 'the JWS alg is not ES256' };
  if (typeof jws.header.kid !== 'string' || jws.header.kid === '')
    return { code, reason: 'the JWS has no kid' };
  const p = jws.payload as Record<string, unknown> | null;
  let signer: string;
  let at: string;
  if (entry.kind === 'envelope') {
    if (
      typeof p !== 'object' ||
      p === null ||
      Object.keys(p).length !== 3 ||
      p['v'] !== 1 ||
      p['jweSha256'] !== entry.jweSha256 ||
      !sameJson(p['meta'], entry.meta)
    ) {
      return { code, reason: 'the seal does not cover this meta and jweSha256' };
    }
    signer = entry.meta.sender;
    at = entry.meta.issuedAt;
  } else {
    if (!sameJson(p, entry.meta)) {
      return { code, reason: `the ${entry.kind} JWS payload differs from the entry's claims` };
    }
    if (entry.kind === 'receipt') {
      signer = entry.meta.receiver;
      at = entry.meta.receivedAt;
    } else if (entry.kind === 'erasure') {
      signer = entry.meta.by;
      at = entry.meta.erasedAt;
    } else {
      signer = AUDITOR_ID;
      at = entry.meta.issuedAt;
    }
  }
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return { code, reason: 'the signing time is not a date' };
  return {
    code,
    signer,
    at: date,
    kid: jws.header.kid,
    signingInput: jws.signingInput,
    signature: jws.signature,
  };
}
