import { participantKind, type ParticipantKind } from '@passerelle/directory';
import type { DeploymentFile } from './deployment-file.js';
import type { OperatorHome } from './operator-home.js';

/** A participant as `participants list` shows it. */
export interface ParticipantStatus {
  id: string;
  kind: ParticipantKind;
  /** `rotating`: an older NATS user is still valid beside the newest. */
  state: 'active' | 'rotating' | 'revoked';
  /** `deployment`: from the deployment file; `approved`: onboarded with the lifecycle. */
  origin: 'deployment' | 'approved';
  /** When its newest user JWT expires, when the lifecycle issued it. */
  credentialsExpireAt?: string;
  /** The earliest end of a message key still valid now. */
  keysExpireAt?: string;
  /** Within {@link EXPIRY_WARNING_DAYS} of an expiry. */
  expiringSoon: boolean;
}

/** How long before an expiry it is reported (log, metric, list). */
export const EXPIRY_WARNING_DAYS = 30;

/** Every participant with an account: kind, state, expiries of its credentials and keys. */
export async function listParticipants(
  home: OperatorHome,
  deployment: DeploymentFile,
  now = new Date(),
): Promise<ParticipantStatus[]> {
  const registry = await home.readRegistry();
  const revocations = await home.readRevocations();
  const ids = [...new Set([...deployment.participants, ...Object.keys(registry.participants)])];
  const soon = now.getTime() + EXPIRY_WARNING_DAYS * 86_400_000;
  return ids.map((id) => {
    const entry = registry.participants[id];
    const revoked = entry?.state === 'revoked' || revocations[id]?.['*'] !== undefined;
    const live = entry?.users.filter((u) => !u.revokedAt) ?? [];
    const newest = entry?.users.at(-1);
    const keyEnds = (entry?.keys ?? [])
      .map((k) => k.notAfter)
      .filter((t): t is string => t !== undefined && Date.parse(t) > now.getTime())
      .sort();
    const credentialsExpireAt = newest?.expiresAt;
    const keysExpireAt = keyEnds[0];
    return {
      id,
      kind: entry?.kind ?? participantKind(id),
      state: revoked ? 'revoked' : live.length > 1 ? 'rotating' : 'active',
      origin: deployment.participants.includes(id) ? 'deployment' : 'approved',
      ...(credentialsExpireAt ? { credentialsExpireAt } : {}),
      ...(keysExpireAt ? { keysExpireAt } : {}),
      expiringSoon:
        !revoked && [credentialsExpireAt, keysExpireAt].some((t) => t !== undefined && Date.parse(t) <= soon),
    };
  });
}
