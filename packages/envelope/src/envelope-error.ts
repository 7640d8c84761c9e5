import { PasserelleError } from '@passerelle/errors';

/** Codes an {@link EnvelopeError} carries, in the order the receiver checks them. */
export const EnvelopeErrorCodes = [
  'ERR_ENVELOPE_TOO_LARGE',
  'ERR_ENVELOPE_MALFORMED',
  'ERR_ALG_NOT_ALLOWED',
  'ERR_UNKNOWN_SENDER',
  'ERR_KEY_NOT_FOUND',
  'ERR_KEY_NOT_VALID_AT',
  'ERR_SEAL_INVALID',
  'ERR_DECRYPTION_FAILED',
  'ERR_SIGNATURE_INVALID',
  'ERR_META_MISMATCH',
  'ERR_WRONG_RECIPIENT',
  'ERR_NOT_FRESH',
] as const;

/** One of {@link EnvelopeErrorCodes}. */
export type EnvelopeErrorCode = (typeof EnvelopeErrorCodes)[number];

/**
 * Why an envelope was refused. `code` is stable; `message` names the failed check and never carries the
 * payload, personal data or key material.
 *
 * @example
 * ```ts
 * try { await openEnvelope(raw, opts); } catch (err) {
 *   if (err instanceof EnvelopeError) deadLetter(raw, err.code);
 * }
 * ```
 */
export class EnvelopeError extends PasserelleError<EnvelopeErrorCode> {}

/** Whether `err` is an {@link EnvelopeError}, optionally of one code. */
export function isEnvelopeError(err: unknown, code?: EnvelopeErrorCode): err is EnvelopeError {
  return err instanceof EnvelopeError && (code === undefined || err.code === code);
}

/**
 * The result of a cryptographic step with one key (verify, decrypt); its failure is refused as `code`,
 * naming the key's id and keeping the provider's error as the cause, out of the message.
 *
 * @example
 * ```ts
 * const bytes = await withKey(() => provider.verify(jws, key), 'ERR_SIGNATURE_INVALID', 'The JWS signature does not verify.', kid);
 * ```
 */
export async function withKey<T>(
  step: () => Promise<T>,
  code: EnvelopeErrorCode,
  message: string,
  kid: string,
): Promise<T> {
  try {
    return await step();
  } catch (cause) {
    throw new EnvelopeError(code, message, { cause, details: { kid } });
  }
}
