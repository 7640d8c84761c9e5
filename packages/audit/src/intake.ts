import { verifySeal } from '@passerelle/envelope';
import { sha256Hex } from '@passerelle/envelope/internal';
import { assertReceiptClaims } from '@passerelle/exchange/internal';
import type { KeyResolver } from './keys.js';
import type { LedgerEnvelopeMeta, LedgerReceiptClaims } from './entry.js';
import { decodeCompact } from './jws.js';
import { LedgerError } from './ledger-error.js';

/** What the ledger keeps of an envelope. */
export interface EnvelopeIntake {
  meta: LedgerEnvelopeMeta;
  jweSha256: string;
  envelopeSha256: string;
  seal: string;
}

/** What the ledger keeps of a receipt. */
export interface ReceiptIntake {
  claims: LedgerReceiptClaims;
  jws: string;
}

function reject(reason: string): never {
  throw new LedgerError('ERR_LEDGER_INPUT_REJECTED', reason);
}

const textOf = (raw: Uint8Array | string): string =>
  typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8');

/**
 * Checks an envelope's seal (shape, sender key valid at `issuedAt`, signature, binding of meta and JWE, via
 * `verifySeal` of `@passerelle/envelope`) and reduces it to what the ledger records: meta, the SHA-256 of the
 * JWE, the SHA-256 of the raw bytes (what receipts name) and the seal. The JWE itself is dropped: the ledger
 * never holds ciphertext or payload. Throws `ERR_LEDGER_INPUT_REJECTED` with the envelope error as cause.
 */
export async function envelopeIntake(
  raw: Uint8Array | string,
  resolver: KeyResolver,
  maxBytes?: number,
): Promise<EnvelopeIntake> {
  try {
    const { envelope, jweSha256 } = await verifySeal(raw, { resolver, ...(maxBytes ? { maxBytes } : {}) });
    return { meta: envelope.meta, jweSha256, envelopeSha256: sha256Hex(raw), seal: envelope.seal };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new LedgerError(
      'ERR_LEDGER_INPUT_REJECTED',
      `Refused envelope: ${typeof code === 'string' ? code : 'unreadable'}.`,
      { cause: err, details: typeof code === 'string' ? { cause: code } : {} },
    );
  }
}

/** Decodes a receipt (compact JWS by the receiver) into its claims; the signature is checked by the writer. */
export function receiptIntake(raw: Uint8Array | string): ReceiptIntake {
  const jws = textOf(raw).trim();
  const parts = decodeCompact(jws);
  if (!parts) reject('The receipt is not a compact JWS.');
  // Exactly the claims of a receipt, identifiers only: the ledger keeps them (and the JWS) for ever, so a
  // receipt with any other member is refused, not trimmed (its JWS would still carry the member).
  let claims: LedgerReceiptClaims;
  try {
    claims = assertReceiptClaims(parts.payload);
  } catch (err) {
    reject(`Refused receipt: ${(err as Error).message}`);
  }
  return { claims, jws };
}
