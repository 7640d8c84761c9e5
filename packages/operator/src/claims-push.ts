import type { NatsConnection } from '@nats-io/transport-node';
import { PasserelleError } from '@passerelle/errors';

/** Where the servers' account resolver takes an account JWT the operator signed. */
export const CLAIMS_UPDATE_SUBJECT = '$SYS.REQ.CLAIMS.UPDATE';

/**
 * Pushes account JWTs to the servers with a system account connection, as `nsc push` does: each server's
 * full resolver stores the JWT in its folder and applies it at once (new imports, limits, revocations:
 * a revoked user's connections are closed), and a cluster's resolvers pass it on to every node. A refusal
 * or no answer is `ERR_ACCOUNT_UPDATE_REFUSED` with the server's reason.
 */
export async function pushAccountJwts(
  system: NatsConnection,
  jwts: readonly string[],
  timeoutMs = 10_000,
): Promise<void> {
  for (const jwt of jwts) {
    let answer: { data?: { code?: number; account?: string }; error?: { description?: string } };
    try {
      answer = (await system.request(CLAIMS_UPDATE_SUBJECT, jwt, { timeout: timeoutMs })).json();
    } catch (cause) {
      throw new PasserelleError(
        'ERR_ACCOUNT_UPDATE_REFUSED',
        'No server acknowledged the account update (is the system account connected to a server in operator mode?).',
        { cause },
      );
    }
    if (answer.data?.code !== 200) {
      throw new PasserelleError(
        'ERR_ACCOUNT_UPDATE_REFUSED',
        `The server refused the account update: ${answer.error?.description ?? 'no reason given'}.`,
        { details: { account: answer.data?.account } },
      );
    }
  }
}
