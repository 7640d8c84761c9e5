import { putStream } from '@passerelle/nats';
import {
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/transport-node';
import { isNothingFound } from './event-log.js';

/** One attempt to deliver an event to a subscription. */
export interface DeliveryAttempt {
  subscriptionId: string;
  eventId: string;
  /** The event's position in the door's log. */
  position: number;
  type: string;
  subject: string;
  /** 1 for the first attempt of a delivery (a replay starts again at 1). */
  attempt: number;
  at: string;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  /** Why no answer came (`timeout`, `connection refused`, `address refused`…), when none did. */
  error?: string;
  durationMs: number;
  /** `delivered` (2xx), `retrying` (another attempt is due), `dead` (attempts spent), `failed` (a replay's attempt). */
  outcome: 'delivered' | 'retrying' | 'dead' | 'failed';
  /** When the next attempt is due, for `retrying`. */
  nextAttemptAt?: string;
  /** `true` for an attempt a replay asked for. */
  replay?: boolean;
}

/** A delivery whose attempts were spent: kept until it is replayed with success, or until the log's retention. */
export interface DeadLetter {
  subscriptionId: string;
  eventId: string;
  position: number;
  type: string;
  subject: string;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  at: string;
}

/** An entry and its position in the delivery log (the cursor of its pages). */
export interface Positioned<T> {
  logPosition: number;
  entry: T;
}

/** Name of a door's delivery log stream. */
export function deliveryLogStreamName(door: string): string {
  return `door-${door}-deliveries`;
}

/**
 * A door's webhook delivery log in a JetStream stream: every attempt under
 * `door.<door>.wh.log.<subscription>.<event id>` and every dead letter under
 * `door.<door>.wh.dead.<subscription>.<event id>`, so that a subscription's attempts and dead letters are
 * read in pages by subject, and one event's last attempt or dead letter is found directly by its subject.
 */
export class DeliveryLog {
  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly door: string,
  ) {}

  /** Opens (or creates) the stream; entries are kept `maxAgeMs` (default 30 days). */
  static async open(
    nc: NatsConnection,
    door: string,
    options: { maxAgeMs?: number; replicas?: number; create?: boolean } = {},
  ): Promise<DeliveryLog> {
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    const name = deliveryLogStreamName(door);
    if (options.create !== false) {
      const config = {
        name,
        subjects: [`door.${door}.wh.>`],
        storage: 'file' as const,
        num_replicas: options.replicas ?? 1,
        max_age: nanos(options.maxAgeMs ?? 30 * 24 * 3_600_000),
        allow_direct: true,
      };
      await putStream(jsm, config);
    }
    return new DeliveryLog(jetstream(nc, { timeout: 30_000 }), jsm, door);
  }

  private get stream(): string {
    return deliveryLogStreamName(this.door);
  }

  private subject(kind: 'log' | 'dead', subscriptionId: string, eventId?: string): string {
    return `door.${this.door}.wh.${kind}.${subscriptionId}.${eventId ?? '*'}`;
  }

  /** Appends an attempt. */
  async record(attempt: DeliveryAttempt): Promise<void> {
    await this.js.publish(
      this.subject('log', attempt.subscriptionId, attempt.eventId),
      JSON.stringify(attempt),
    );
  }

  /** Adds a dead letter. */
  async deadLetter(letter: DeadLetter): Promise<void> {
    await this.js.publish(
      this.subject('dead', letter.subscriptionId, letter.eventId),
      JSON.stringify(letter),
    );
  }

  /** Removes an event's dead letters (once a replay delivered it). */
  async clearDeadLetter(subscriptionId: string, eventId: string): Promise<void> {
    await this.jsm.streams.purge(this.stream, { filter: this.subject('dead', subscriptionId, eventId) });
  }

  /** The last attempt to deliver an event to a subscription, if the log still has one. */
  async lastAttempt(subscriptionId: string, eventId: string): Promise<DeliveryAttempt | undefined> {
    const msg = await this.jsm.direct.getMessage(this.stream, {
      last_by_subj: this.subject('log', subscriptionId, eventId),
    });
    return msg ? msg.json<DeliveryAttempt>() : undefined;
  }

  /** The dead letter of an event for a subscription, if there is one. */
  async deadLetterOf(subscriptionId: string, eventId: string): Promise<DeadLetter | undefined> {
    const msg = await this.jsm.direct.getMessage(this.stream, {
      last_by_subj: this.subject('dead', subscriptionId, eventId),
    });
    return msg ? msg.json<DeadLetter>() : undefined;
  }

  /** A page of a subscription's attempts, oldest first, after a log position. */
  attempts(subscriptionId: string, after: number, limit: number): Promise<Positioned<DeliveryAttempt>[]> {
    return this.page<DeliveryAttempt>(this.subject('log', subscriptionId), after, limit);
  }

  /** A page of a subscription's dead letters, oldest first, after a log position. */
  deadLetters(subscriptionId: string, after: number, limit: number): Promise<Positioned<DeadLetter>[]> {
    return this.page<DeadLetter>(this.subject('dead', subscriptionId), after, limit);
  }

  private async page<T>(filter: string, after: number, limit: number): Promise<Positioned<T>[]> {
    const found: Positioned<T>[] = [];
    const batch = await this.jsm.direct.getBatch(this.stream, {
      seq: Math.max(1, after + 1),
      batch: Math.max(1, Math.min(limit, 1_000)),
      next_by_subj: filter,
    });
    try {
      for await (const msg of batch as AsyncIterable<StoredMsg>) {
        found.push({ logPosition: msg.seq, entry: msg.json<T>() });
      }
    } catch (err) {
      if (!isNothingFound(err)) throw err;
    }
    return found;
  }
}
