import { fileURLToPath } from 'node:url';
import { type Contracts, loadContracts, readExample } from '@passerelle/contracts';
import {
  type KeyResolver,
  type ParticipantKeys,
  createStaticResolver,
  generateParticipantKeys,
  publicKeysOf,
} from '@passerelle/envelope';
import { type Exchange, type ExchangeOptions, connectExchange, createLogger } from '../src/index.js';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Real keys for each participant, and a resolver over their public halves. */
export interface Fixture {
  keys: Map<string, ParticipantKeys>;
  resolver: KeyResolver;
  contracts: Contracts;
}

/**
 * Generates real P-256 keys for the given participants and a static resolver over their public keys (the
 * signed directory itself is tested in packages/directory; here it would only add a KV round trip).
 */
export async function makeFixture(ids: readonly string[]): Promise<Fixture> {
  const keys = new Map<string, ParticipantKeys>();
  for (const id of ids) keys.set(id, await generateParticipantKeys(id));
  const resolver = createStaticResolver([...keys.values()].map(publicKeysOf));
  return { keys, resolver, contracts: await loadContracts({ root: repoRoot }) };
}

/** Connects one of the fixture's participants to the exchange at `servers`, logging nothing. */
export function connectParticipant(
  fx: Fixture,
  servers: string,
  participant: string,
  extra: Partial<ExchangeOptions> = {},
): Promise<Exchange> {
  return connectExchange({
    participant,
    keys: fx.keys.get(participant)!,
    directory: fx.resolver,
    contracts: fx.contracts,
    servers,
    logger: createLogger(participant, { level: 'silent' }),
    ...extra,
  });
}

/** A valid example payload shipped beside a schema (the first `valid-*.json`, or the one named). */
export function example(type: string, name?: string): unknown {
  return readExample(repoRoot, type, name);
}
