import { randomUUID } from 'node:crypto';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { assertJetStreamApiLevel, connectNats } from './connection.js';
import {
  DEFAULT_ACK_WAIT_MS,
  type InboxConsumerOptions,
  ensureConsumers,
  inboxConsumerName,
  receiptConsumerName,
} from './consumers.js';
import { Exchange } from './exchange.js';
import { ExchangeError } from './exchange-error.js';
import { IdempotencyStore, idempotencyBucketName } from './idempotency.js';
import { Outbox, outboxBucketName } from './receipts.js';
import { RetriesEnded, classifyNatsFailure, openBucket, retrying } from '@passerelle/nats';
import { StreamNames, provisionStreams } from './streams.js';
import type { ExchangeOptions } from './types.js';

/**
 * Connects a participant to the exchange: checks the server version, provisions (or checks) the streams,
 * creates the participant's durable consumers, opens its idempotency and outbox buckets.
 *
 * @example
 * ```ts
 * const exchange = await connectExchange({ participant: 'immigration-office', keys, directory, contracts, servers });
 * await exchange.subscribe({ 'application-submitted': async (m) => { … } });
 * await exchange.send('residence-decided', payload, { dossierId, context });
 * ```
 */
export async function connectExchange(options: ExchangeOptions): Promise<Exchange> {
  const owned = !options.nc;
  const nc =
    options.nc ??
    (await connectNats({
      name: options.participant,
      // Every JetStream publish and KV operation is a request; capturing a stack for each costs ~8% of the
      // runtime's CPU. Errors still carry their message and code.
      noAsyncTraces: true,
      ...options.connection,
      ...(options.servers ? { servers: options.servers } : {}),
    }));
  try {
    // Stream creation right after a restart can exceed the default 5 s on two cores.
    const jsm = await retrying(() =>
      jetstreamManager(nc, {
        timeout: 30_000,
        ...(options.exchangeApiPrefix ? { apiPrefix: options.exchangeApiPrefix, checkAPI: false } : {}),
      }),
    );
    // The API level is the server's: a participant with an account of its own asks its own JetStream.
    const own = options.exchangeApiPrefix
      ? await retrying(() => jetstreamManager(nc, { timeout: 30_000, checkAPI: false }))
      : jsm;
    // every step rides out an election (a cluster restarting with the service): a service process starts
    await retrying(() => assertJetStreamApiLevel(own));
    const provision = options.provision !== false;
    if (provision) {
      await retrying(() => provisionStreams(jsm, { replicas: options.replicas ?? 1 }));
      await retrying(() => ensureConsumers(jsm, options.participant, options.consumer));
    } else {
      await retrying(() => assertProvisioned(jsm, nc, options.participant));
    }
    const instanceId = options.instanceId ?? `${options.participant}/${randomUUID().slice(0, 8)}`;
    const idempotency = await retrying(() =>
      IdempotencyStore.open(nc, options.participant, {
        owner: instanceId,
        replicas: options.replicas ?? 1,
        // A lease outlives no more than one ack_wait: the server redelivers only after it passed unrenewed.
        leaseMs: options.consumer?.ackWaitMs ?? DEFAULT_ACK_WAIT_MS,
        create: provision,
      }),
    );
    const outbox = await retrying(() =>
      Outbox.open(nc, options.participant, {
        replicas: options.replicas ?? 1,
        create: provision,
      }),
    );
    return new Exchange(options, nc, owned, jsm, idempotency, outbox);
  } catch (err) {
    if (owned) await nc.close();
    // the caller sees what failed last, not the retries around it
    throw err instanceof RetriesEnded ? err.end.cause : err;
  }
}

/**
 * Provisions, with administrative credentials, everything a participant needs: the streams, its durable
 * consumers, its idempotency and outbox buckets. Idempotent.
 */
export async function provisionParticipant(
  nc: NatsConnection,
  participant: string,
  options: { replicas?: number; consumer?: InboxConsumerOptions } = {},
): Promise<void> {
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  await provisionStreams(jsm, { replicas: options.replicas ?? 1 });
  await ensureConsumers(jsm, participant, options.consumer);
  await IdempotencyStore.open(nc, participant, { owner: 'provisioning', replicas: options.replicas ?? 1 });
  await Outbox.open(nc, participant, { replicas: options.replicas ?? 1 });
}

/** Fails with ERR_NOT_PROVISIONED naming what the operator has not created for a participant. */
async function assertProvisioned(
  jsm: JetStreamManager,
  nc: NatsConnection,
  participant: string,
): Promise<void> {
  const missing: string[] = [];
  // not found, or not readable with these credentials: missing; anything passing is thrown, to be retried
  const orMissing =
    (what: string) =>
    (err: unknown): void => {
      if (classifyNatsFailure(err) !== 'refused') throw err;
      missing.push(what);
    };
  for (const name of [inboxConsumerName(participant), receiptConsumerName(participant)]) {
    await jsm.consumers.info(StreamNames.exchange, name).catch(orMissing(`consumer EXCHANGE/${name}`));
  }
  for (const bucket of [idempotencyBucketName(participant), outboxBucketName(participant)]) {
    await openBucket(nc, bucket, { create: false })
      .then((kv) => kv.status())
      .catch(orMissing(`bucket ${bucket}`));
  }
  if (missing.length) {
    throw new ExchangeError(
      'ERR_NOT_PROVISIONED',
      `${participant} is not provisioned: missing ${missing.join(', ')}. Run the provisioning with operator credentials.`,
      { details: { participant, missing } },
    );
  }
}
