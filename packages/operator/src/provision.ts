import { JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { DIRECTORY_HISTORY } from '@passerelle/directory';
import { type InboxConsumerOptions } from '@passerelle/exchange';
import { IdempotencyStore, Outbox, ensureConsumers } from '@passerelle/exchange/internal';
import { EXCHANGE_API_PREFIX, type ParticipantAccountPlan, mirrorDeliverPrefix } from './accounts.js';

/** JetStream's answer to a request in an account it has not enabled. */
const JS_NOT_ENABLED_FOR_ACCOUNT = 10039;

/**
 * Runs an account's first JetStream work (create-or-open, so safe to repeat), again while the server
 * answers "JetStream not enabled for account". On a cluster, the meta leader may take a participant
 * account's first request while another lookup of that account is still setting it up (nats-server 2.15
 * builds a newly seen account once, and a concurrent lookup gets it half-built); the next request finds
 * it whole. Any other failure, or this one lasting past `timeoutMs`, is thrown.
 */
export async function whileAccountStarts<T>(work: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await work();
    } catch (err) {
      let starting = false;
      for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
        if (e instanceof JetStreamApiError && e.code === JS_NOT_ENABLED_FOR_ACCOUNT) starting = true;
      }
      if (!starting || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The participant's durables (inbox, receipts) in the EXCHANGE account, with the operator's connection. */
export async function provisionInExchange(
  operator: NatsConnection,
  participant: string,
  consumer?: InboxConsumerOptions,
): Promise<void> {
  await ensureConsumers(await jetstreamManager(operator, { timeout: 30_000 }), participant, consumer);
}

/**
 * What a participant keeps in its own account, with its administrator's connection: its idempotency and
 * outbox buckets, its kind's service buckets, its read-only mirror of the directory and the object stores
 * it writes. Safe to repeat. The portal's own stores are the portal's (`provisionPortalStores`).
 */
export async function provisionOwnAccount(
  admin: NatsConnection,
  plan: ParticipantAccountPlan,
  options: { replicas?: number } = {},
): Promise<void> {
  const replicas = options.replicas ?? 1;
  const id = plan.id;
  // the account's first JetStream request alone (it may find the account still starting), then the other
  // streams at once: none depends on another, and each creation waits for its own storage
  await whileAccountStarts(() => IdempotencyStore.open(admin, id, { owner: 'provisioning', replicas }));
  const kvm = new Kvm(admin);
  const objm = new Objm(admin);
  await Promise.all([
    whileAccountStarts(() => Outbox.open(admin, id, { replicas })),
    ...plan.buckets
      .filter((b) => !/^pex-(idem|outbox|portal-dossiers)-/.test(b))
      .map((bucket) => whileAccountStarts(() => kvm.create(bucket, { history: 1, replicas }))),
    // the directory, mirrored into the account by the server: the participant reads and watches its own
    // copy, with as many revisions as the source (clients read them to refuse an entry put back)
    whileAccountStarts(() =>
      kvm.create('directory', {
        history: DIRECTORY_HISTORY,
        replicas,
        mirror: {
          name: 'directory',
          external: { api: EXCHANGE_API_PREFIX, deliver: mirrorDeliverPrefix(id) },
        },
      }),
    ),
    ...plan.objectStores.map((bucket) =>
      whileAccountStarts(() => objm.open(bucket).catch(() => objm.create(bucket, { replicas }))),
    ),
  ]);
}
