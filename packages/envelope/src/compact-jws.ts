import { assertJwsHeader, decodeProtectedHeader, splitCompact } from './compact.js';
import type { CryptoProvider } from './crypto-provider.js';
import { withKey } from './envelope-error.js';
import { defaultProvider } from './node-crypto-provider.js';
import { decodeUtf8, parseStrictJson } from './strict-json.js';
import type { PrivateJwk, PublicJwk } from './types.js';

/**
 * A compact JWS (ES256, `kid` from the key) over `payload` as JSON, for receipts and ledger checkpoints.
 *
 * @example
 * ```ts
 * const jws = await signCompact({ receiptOf: meta.id }, myKeys.signing, { typ: 'pex-receipt+jws' });
 * ```
 */
export async function signCompact(
  payload: object,
  key: PrivateJwk,
  header: { typ?: string } = {},
  provider: CryptoProvider = defaultProvider,
): Promise<string> {
  return provider.sign(
    new TextEncoder().encode(JSON.stringify(payload)),
    key,
    header.typ ? { typ: header.typ } : {},
  );
}

/**
 * Verifies a compact JWS made by {@link signCompact} under the strict allowlist (ES256 only, no crit, no
 * embedded or remote key). `resolve` picks the key from the `kid`; its errors pass through.
 * Failures: ERR_ENVELOPE_MALFORMED, ERR_ALG_NOT_ALLOWED, ERR_SIGNATURE_INVALID.
 *
 * @example
 * ```ts
 * const { payload } = await verifyCompact(receipt, (kid) => directory.resolve(sender, 'sig', at, kid));
 * ```
 */
export async function verifyCompact(
  jws: string,
  resolve: (kid: string | undefined, header: object) => Promise<PublicJwk>,
  provider: CryptoProvider = defaultProvider,
): Promise<{ payload: unknown; kid: string; header: object }> {
  const [headerSegment] = splitCompact(jws, 3, 'JWS');
  const header = decodeProtectedHeader(headerSegment as string, 'JWS');
  const { kid } = assertJwsHeader(header, 'JWS');
  const key = await resolve(kid, header);
  const bytes = await withKey(
    () => provider.verify(jws, key),
    'ERR_SIGNATURE_INVALID',
    'The JWS signature does not verify.',
    kid,
  );
  return { payload: parseStrictJson(decodeUtf8(bytes, 'JWS payload'), 'JWS payload'), kid, header };
}
