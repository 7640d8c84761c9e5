import type { PublicJwk } from '@passerelle/envelope';

/**
 * The keys with their validity ending at `at` at the latest: what a rotation does to the replaced keys
 * (after their overlap) and a revocation to all of them; a key that ended earlier keeps its end.
 */
export function endedKeys(keys: readonly PublicJwk[], at: Date): PublicJwk[] {
  return keys.map((k) =>
    k.notAfter !== undefined && Date.parse(k.notAfter) <= at.getTime()
      ? k
      : { ...k, notAfter: at.toISOString() },
  );
}
