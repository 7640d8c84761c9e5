import { fileURLToPath } from 'node:url';
import { readExample } from '@passerelle/contracts';
import { beforeAll } from 'vitest';
import {
  type Exchange,
  type ExchangeOptions,
  type SentMessage,
  connectExchange,
  createLogger,
} from '../src/index.js';
import { type Parties, generateParties } from '../src/testing/parties.js';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** Real keys for each participant, a resolver over their public halves, the contracts. */
export type Fixture = Parties;

/** The fixture's parties: real keys and a static resolver (see {@link generateParties}). */
export function makeFixture(ids: readonly string[]): Promise<Fixture> {
  return generateParties(ids, repoRoot);
}

/**
 * The parties `ids` of a suite, made before its first test: the fields of the fixture returned are set then
 * (as `useNatsServer`'s url is).
 */
export function useFixture(ids: readonly string[]): Fixture {
  const fx = {} as Fixture;
  beforeAll(async () => {
    Object.assign(fx, await makeFixture(ids));
  });
  return fx;
}

/** The participants the exchange's tests send between: a consular post, the Immigration Office, a commune. */
export const POST = 'post-ankara';
export const OE = 'immigration-office';
export const COMMUNE = 'commune-21004';

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

/** `from` sends OE a valid visa under `dossierId`; resolves to the one message published. */
export async function sendVisa(
  from: Exchange,
  dossierId: string,
  extra: { messageId?: string } = {},
): Promise<SentMessage> {
  const [sent] = await from.send('visa-issued', example('visa-issued'), { to: OE, dossierId, ...extra });
  return sent!;
}
