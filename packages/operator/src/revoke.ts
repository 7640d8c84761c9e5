import { makeEntry, publishNextEntry } from '@passerelle/directory';
import { participantIds, planOf, signAccounts } from './account-set.js';
import type { LifecycleOptions } from './approve.js';
import { pushAccountJwts } from './claims-push.js';
import { activeEntry } from './active-entry.js';
import { currentEntry } from './current-entry.js';
import { endedKeys } from './ended-keys.js';

/** What {@link revokeParticipant} did. */
export interface Revocation {
  participant: string;
  revokedAt: string;
  /** The version of the directory entry that ends its keys. */
  directoryVersion: number;
}

/**
 * Revokes a participant: every user of its account is revoked (`*` in the account JWT's revocations,
 * signed again and pushed: the servers close its connections at once and refuse it from then on), and
 * its directory entry is published again with every key ending now, so that nothing it signs later is
 * accepted. What it sent before stays verifiable. Its durables in EXCHANGE are kept, for the record.
 */
export async function revokeParticipant(participant: string, options: LifecycleOptions): Promise<Revocation> {
  const { home } = options;
  const now = options.now ?? new Date();
  const registry = await home.readRegistry();
  const entry = activeEntry(options, registry, participant, participant, now);
  const revocations = await home.readRevocations();
  (revocations[participant] ??= {})['*'] = now.toISOString();
  const plan = planOf(options.contracts, options.deployment, participantIds(options.deployment, registry), [
    participant,
  ]);
  const jwts = await signAccounts(home, plan, [participant], revocations);
  const servers = options.servers ?? (await home.servers());
  const system = await home.connect('system', servers);
  try {
    await pushAccountJwts(system, [jwts.get(participant)!]);
  } finally {
    await system.close();
  }
  await home.writeRevocations(revocations);

  const operator = await home.connect('operator', servers);
  let directoryVersion: number;
  try {
    const current = await currentEntry(operator, participant, options.anchorKey);
    directoryVersion = (
      await publishNextEntry(
        operator,
        makeEntry(
          participant,
          current.name,
          endedKeys(current.signing, now),
          endedKeys(current.encryption, now),
          now,
        ),
        options.anchorKey,
      )
    ).version;
  } finally {
    await operator.close();
  }
  entry.state = 'revoked';
  entry.revokedAt = now.toISOString();
  entry.directoryVersion = directoryVersion;
  for (const u of entry.users) u.revokedAt ??= now.toISOString();
  registry.participants[participant] = entry;
  await home.writeRegistry(registry);
  return { participant, revokedAt: now.toISOString(), directoryVersion };
}
