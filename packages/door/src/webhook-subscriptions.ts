import { randomBytes } from 'node:crypto';
import { type KvWatchEntry } from '@nats-io/kv';
import { DoorError } from './door-error.js';
import { DoorStore } from './door-store.js';

/** A webhook subscription as its owner sees it (never its secret, shown once at creation). */
export interface WebhookSubscription {
  id: string;
  /** The client that subscribed: deliveries carry only what it may read. */
  owner: string;
  url: string;
  /** The event types delivered; empty for all of them. */
  types: string[];
  createdAt: string;
  /** The log position the subscription starts after. */
  startsAfter: number;
}

interface SubscriptionRecord extends WebhookSubscription {
  /** The Standard Webhooks secret (`whsec_…`), sealed under the door's key. */
  sealedSecret: string;
}

/** A change to the subscriptions, as {@link SubscriptionStore.watch} reports it. */
export type SubscriptionChange =
  { kind: 'put'; subscription: WebhookSubscription } | { kind: 'delete'; id: string };

/** Name of a door's subscriptions bucket. */
export function subscriptionsBucketName(door: string): string {
  return `door-${door}-webhooks`;
}

/** A subscription id: `whs-` and 32 hexadecimal digits (a NATS token and consumer name). */
export const SUBSCRIPTION_ID_PATTERN = /^whs-[0-9a-f]{32}$/;

/** A fresh subscription id. */
export function newSubscriptionId(): string {
  return `whs-${randomBytes(16).toString('hex')}`;
}

/**
 * A door's webhook subscriptions in a KV bucket. Each has a signing secret made by the door (Standard
 * Webhooks: `whsec_` and 32 random bytes in base64), shown once to the subscriber and kept sealed under
 * the door's key, since the door must read it back to sign every delivery.
 */
export class SubscriptionStore extends DoorStore {
  /** Name of a door's bucket of this store. */
  static readonly bucketName = subscriptionsBucketName;

  /** Records a subscription and returns it with its secret, the one time the secret is shown. */
  async create(input: {
    id: string;
    owner: string;
    url: string;
    types: readonly string[];
    startsAfter: number;
  }): Promise<{ subscription: WebhookSubscription; secret: string }> {
    const id = input.id;
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    const subscription: WebhookSubscription = {
      id,
      owner: input.owner,
      url: input.url,
      types: [...new Set(input.types)].sort(),
      createdAt: this.now().toISOString(),
      startsAfter: input.startsAfter,
    };
    const record: SubscriptionRecord = {
      ...subscription,
      sealedSecret: this.keys.seal(secret, `webhook\n${id}`),
    };
    await this.kv.create(id, JSON.stringify(record));
    return { subscription, secret };
  }

  private async record(id: string): Promise<SubscriptionRecord | undefined> {
    return (await this.read<SubscriptionRecord>(SUBSCRIPTION_ID_PATTERN, id))?.record;
  }

  /** A subscription of `owner`; `ERR_SUBSCRIPTION_NOT_FOUND` for another's, the same as for none. */
  async getOwned(id: string, owner: string): Promise<WebhookSubscription> {
    const record = await this.record(id);
    if (!record || record.owner !== owner) {
      throw new DoorError(
        'ERR_SUBSCRIPTION_NOT_FOUND',
        'No webhook subscription of this client has this id.',
        {
          details: { in: 'path', name: 'subscriptionId' },
        },
      );
    }
    return publicView(record);
  }

  /** A subscription by id, whoever owns it. */
  async get(id: string): Promise<WebhookSubscription | undefined> {
    const record = await this.record(id);
    return record ? publicView(record) : undefined;
  }

  /** The signing secret of a subscription (for the door's deliveries only). */
  async secretOf(id: string): Promise<string | undefined> {
    const record = await this.record(id);
    return record ? this.keys.open(record.sealedSecret, `webhook\n${id}`) : undefined;
  }

  /** Every subscription, or those of one owner, by creation time. */
  async list(owner?: string): Promise<WebhookSubscription[]> {
    const all = await Promise.all((await this.ids()).map((id) => this.get(id)));
    return all
      .filter((s): s is WebhookSubscription => s !== undefined && (owner === undefined || s.owner === owner))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Deletes a subscription. */
  async delete(id: string): Promise<void> {
    await this.kv.delete(id);
  }

  /** Every subscription now, then each change, until `signal` aborts. */
  async *watch(signal: AbortSignal): AsyncGenerator<SubscriptionChange> {
    const watcher = await this.kv.watch();
    const stop = (): void => watcher.stop();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const entry of watcher as AsyncIterable<KvWatchEntry>) {
        if (entry.operation === 'PUT')
          yield { kind: 'put', subscription: publicView(entry.json<SubscriptionRecord>()) };
        else yield { kind: 'delete', id: entry.key };
      }
    } finally {
      signal.removeEventListener('abort', stop);
      watcher.stop();
    }
  }
}

function publicView(record: SubscriptionRecord): WebhookSubscription {
  const { sealedSecret: _sealed, ...subscription } = record;
  return subscription;
}
