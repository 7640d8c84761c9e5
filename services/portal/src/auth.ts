import { createHash, timingSafeEqual } from 'node:crypto';
import type { PortalIntegrator } from './config.js';
import { PortalError } from './portal-error.js';

/**
 * The lower-case hex SHA-256 of a bearer token: what the portal's configuration holds instead of the token.
 *
 * @example
 * ```ts
 * const integrators = [{ name: 'acme-hr', tokenSha256: hashToken(process.env.ACME_TOKEN!) }];
 * ```
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Resolves an `Authorization` header to the integrator's name, or throws `ERR_UNAUTHENTICATED`. */
export type Authenticator = (authorization: string | undefined) => string;

/**
 * Builds the bearer-token check. The presented token is hashed and compared with every configured hash in
 * constant time (no early exit), so neither the comparison nor the loop tells how close a guess was.
 *
 * @example
 * ```ts
 * const authenticate = createAuthenticator(config.integrators);
 * const integrator = authenticate(request.headers.authorization);
 * ```
 */
export function createAuthenticator(integrators: readonly PortalIntegrator[]): Authenticator {
  const known = integrators.map((i) => ({ name: i.name, hash: Buffer.from(i.tokenSha256, 'hex') }));
  return (authorization) => {
    const match = /^Bearer ([\x21-\x7e]{16,512})$/.exec(authorization ?? '');
    if (!match) {
      throw new PortalError(
        'ERR_UNAUTHENTICATED',
        'A bearer token is required (Authorization: Bearer <token>).',
      );
    }
    const presented = createHash('sha256')
      .update(match[1] ?? '', 'utf8')
      .digest();
    let found: string | undefined;
    for (const candidate of known) {
      if (timingSafeEqual(candidate.hash, presented) && found === undefined) found = candidate.name;
    }
    if (found === undefined) throw new PortalError('ERR_UNAUTHENTICATED', 'The bearer token is not valid.');
    return found;
  };
}
