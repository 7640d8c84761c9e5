import type { KeyPair } from '@nats-io/nkeys';
import type { Contracts } from '@passerelle/contracts';
import {
  type AccountPlan,
  type DeploymentKeys,
  type ParticipantAccountPlan,
  accountPlan,
  accountPublicKeys,
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

/** The account design over `ids`. */
export function planOf(
  contracts: Contracts,
  deployment: DeploymentFile,
  ids: readonly string[],
): AccountPlan {
  return accountPlan(
    contracts,
    ids,
    deployment.serviceBuckets,
    deployment.objectStores,
    deployment.objectStoresRead,
  );
}

/** Whether an account's JWT would differ between two plans (its imports, exports or its user's rights). */
export function accountChanged(
  before: ParticipantAccountPlan | undefined,
  after: ParticipantAccountPlan,
): boolean {
  if (!before) return true;
  const shape = (p: ParticipantAccountPlan) => JSON.stringify([p.imports, p.exports, p.jetstream]);
  return shape(before) !== shape(after);
}

/** One participant's revocations as dates (`*`: every user issued before). */
export function revocationsOf(all: Revocations, participant: string): Record<string, Date> {
  return Object.fromEntries(Object.entries(all[participant] ?? {}).map(([user, at]) => [user, new Date(at)]));
}

/** Signs the account JWTs of `which` (participant ids of `plan`) with the operator key. */
export async function signAccounts(
  home: OperatorHome,
  plan: AccountPlan,
  which: readonly string[],
  revocations: Revocations,
): Promise<Map<string, string>> {
  const accounts = new Map<string, KeyPair>();
  for (const p of plan.participants) accounts.set(p.id, await home.accountKey(p.id));
  const keys: DeploymentKeys = {
    operator: home.operator,
    system: home.system,
    exchange: home.exchange,
    accounts,
  };
  // an nkeys key pair derives its public key from its seed at each call: once for the whole set
  const publicKeys = accountPublicKeys(keys);
  const out = new Map<string, string>();
  for (const id of which) {
    const p = plan.participants.find((x) => x.id === id);
    if (!p) throw new Error(`${id} is not in the account design`);
    out.set(id, await encodeParticipantAccount(p, keys, publicKeys, revocationsOf(revocations, id)));
  }
  return out;
}
