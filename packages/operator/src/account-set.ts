import type { KeyPair } from '@nats-io/nkeys';
import type { Contracts } from '@passerelle/contracts';
import {
  type AccountPlan,
  type DeploymentKeys,
  EXCHANGE_ACCOUNT,
  accountPlan,
  STORES_ACCOUNT,
  encodeStoresAccount,
  encodeParticipantAccount,
} from './accounts.js';
import type { DeploymentFile } from './deployment-file.js';
import type { OperatorHome, Revocations } from './operator-home.js';
import type { Registry } from './registry.js';

/** The participants with an account: those of the deployment file, then those approved since. */
export function participantIds(deployment: DeploymentFile, registry: Registry): string[] {
  const approved = Object.keys(registry.participants).filter((id) => !deployment.participants.includes(id));
  return [...deployment.participants, ...approved];
}

/** The account design over `ids`, with the accounts of `planned` only (default: all). */
export function planOf(
  contracts: Contracts,
  deployment: DeploymentFile,
  ids: readonly string[],
  planned: readonly string[] = ids,
): AccountPlan {
  return accountPlan(
    contracts,
    ids,
    deployment.serviceBuckets,
    deployment.objectStores,
    deployment.objectStoresRead,
    undefined,
    planned,
  );
}

/** One participant's revocations as dates (`*`: every user issued before). */
export function revocationsOf(all: Revocations, participant: string): Record<string, Date> {
  return Object.fromEntries(Object.entries(all[participant] ?? {}).map(([user, at]) => [user, new Date(at)]));
}

/**
 * Signs the account JWTs of `which` (participant ids of `plan`) with the operator key. A participant
 * imports from EXCHANGE only, so only the signed accounts' own keys are read.
 */
export async function signAccounts(
  home: OperatorHome,
  plan: Pick<AccountPlan, 'participants'>,
  which: readonly string[],
  revocations: Revocations,
): Promise<Map<string, string>> {
  const accounts = new Map<string, KeyPair>();
  for (const id of which) accounts.set(id, await home.accountKey(id));
  const keys: DeploymentKeys = {
    operator: home.operator,
    system: home.system,
    exchange: home.exchange,
    stores: home.stores,
    accounts,
  };
  const publicKeys = new Map([
    [EXCHANGE_ACCOUNT, home.exchange.getPublicKey()],
    [STORES_ACCOUNT, home.stores.getPublicKey()],
  ]);
  const out = new Map<string, string>();
  for (const id of which) {
    const p = plan.participants.find((x) => x.id === id);
    if (!p) throw new Error(`${id} is not in the account design`);
    out.set(id, await encodeParticipantAccount(p, keys, publicKeys, revocationsOf(revocations, id)));
  }
  return out;
}

/** Signs the STORES relay's JWT for `plan`: its imports name every writer's account. */
export async function signStoresAccount(
  home: OperatorHome,
  plan: Pick<AccountPlan, 'storesExports' | 'storesImports' | 'storesMappings'>,
): Promise<string> {
  const writers = [...new Set(plan.storesImports.map((i) => i.from))];
  const publicKeys = await home.accountPublicKeys(writers);
  return encodeStoresAccount(plan, { operator: home.operator, stores: home.stores }, publicKeys);
}
