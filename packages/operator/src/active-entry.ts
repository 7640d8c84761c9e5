import { participantKind } from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';
import type { LifecycleOptions } from './approve.js';
import type { Registry, RegistryEntry } from './registry.js';

/**
 * The registry entry of a participant a lifecycle step (rotation, revocation) may act on: one the operator
 * approved and did not revoke, or one of the deployment file's, which gets its entry on its first step.
 * Throws `ERR_PARTICIPANT_STATE` for a revoked participant or one this exchange does not know.
 */
export function activeEntry(
  options: LifecycleOptions,
  registry: Registry,
  id: string,
  name: string,
  now: Date,
): RegistryEntry {
  const known = registry.participants[id];
  if (known?.state === 'revoked' || (!known && !options.deployment.participants.includes(id))) {
    throw new PasserelleError(
      'ERR_PARTICIPANT_STATE',
      `${id} is ${known ? 'already revoked' : 'not a participant of this exchange'}.`,
      { details: { participantId: id } },
    );
  }
  return (
    known ?? {
      kind: participantKind(id),
      name,
      state: 'active',
      approvedAt: now.toISOString(),
      users: [],
      keys: [],
      directoryVersion: 0,
    }
  );
}
