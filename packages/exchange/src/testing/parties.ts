import { type Contracts, loadContracts } from '@passerelle/contracts';
import {
  type KeyResolver,
  type ParticipantKeys,
  createStaticResolver,
  generateParticipantKeys,
  publicKeysOf,
} from '@passerelle/envelope';

/** Real keys for each participant, a resolver over their public halves, the contracts. */
export interface Parties {
  keys: Map<string, ParticipantKeys>;
  resolver: KeyResolver;
  contracts: Contracts;
}

/**
 * Generates real P-256 keys for the given participants, a static resolver over their public keys and the
 * contracts under `root`: what a test needs to connect exchanges. The signed directory is tested on its
 * own (in @passerelle/directory); in most tests it would only add a KV round trip.
 *
 * @example
 * ```ts
 * const parties = await generateParties(['post-lagos', 'immigration-office'], repoRoot);
 * ```
 */
export async function generateParties(ids: readonly string[], root: string): Promise<Parties> {
  const keys = new Map<string, ParticipantKeys>();
  for (const id of ids) keys.set(id, await generateParticipantKeys(id));
  const resolver = createStaticResolver([...keys.values()].map(publicKeysOf));
  return { keys, resolver, contracts: await loadContracts({ root }) };
}
