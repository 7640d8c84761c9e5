import type { ClientStore } from './client-store.js';
import { DoorError } from './door-error.js';
import type { IssuedToken, TokenStore } from './token-store.js';
import { type DoorScope, isDoorScope } from './scopes.js';

/** The calling system of an authenticated request. */
export interface DoorClient {
  id: string;
  /** The scopes of its token that its client still has. */
  scopes: DoorScope[];
}

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Client credentials of one door: tokens issued for a client id and secret, and the bearer token of every
 * request resolved to its client, looked up afresh each time so that a revocation takes effect at once.
 */
export class DoorAccess {
  constructor(
    readonly clients: ClientStore,
    readonly tokens: TokenStore,
  ) {}

  /**
   * Issues a token to a client that proves its secret, with the scopes it asks for (space-separated, each
   * one it was given) or all of its scopes.
   *
   * @example
   * ```ts
   * const issued = await access.issueToken('case-desk', secret, 'read decide');
   * ```
   */
  async issueToken(clientId: string, secret: string, scope: string | undefined): Promise<IssuedToken> {
    const client = await this.clients.authenticate(clientId, secret);
    let scopes = client.scopes;
    if (scope !== undefined) {
      const asked = [...new Set(scope.split(' ').filter(Boolean))];
      const refused = asked.filter((s) => !isDoorScope(s) || !client.scopes.includes(s));
      if (asked.length === 0 || refused.length > 0) {
        throw new DoorError(
          'ERR_GRANT_INVALID',
          'The scope asked for is empty, unknown or not given to this client.',
          {
            details: { oauthError: 'invalid_scope' },
          },
        );
      }
      scopes = asked as DoorScope[];
    }
    return this.tokens.issue(client, scopes);
  }

  /**
   * The client of a request's `Authorization` header; throws `ERR_ACCESS_TOKEN_MISSING` without a bearer
   * token, `ERR_ACCESS_TOKEN_INVALID` for an unknown one or one whose client was revoked, and
   * `ERR_ACCESS_TOKEN_EXPIRED` for an expired one.
   */
  async authenticate(authorization: string | undefined): Promise<DoorClient> {
    const match = BEARER.exec(authorization ?? '');
    if (!match) {
      throw new DoorError('ERR_ACCESS_TOKEN_MISSING', 'No bearer access token in the Authorization header.');
    }
    const token = await this.tokens.resolve(match[1] ?? '');
    const client = await this.clients.get(token.clientId);
    if (!client || client.revokedAt) {
      throw new DoorError('ERR_ACCESS_TOKEN_INVALID', 'The bearer access token is not valid.');
    }
    return { id: client.id, scopes: token.scopes.filter((s) => client.scopes.includes(s)) };
  }
}
