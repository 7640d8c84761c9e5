import { openBucket, putStream } from '@passerelle/nats';
import {
  type JetStreamClient,
  type JetStreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  JetStreamError,
  type StoredMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type KV } from '@nats-io/kv';
import { nanos } from '@nats-io/nats-core';
import type { NatsConnection } from '@nats-io/transport-node';
import { type DoorEvent, type DoorEventInput, buildDoorEvent, checkDoorEvent } from './cloud-event.js';
import { DoorError } from './door-error.js';

/** An event and its position in the door's log (the stream sequence: it only grows). */
export interface LoggedEvent {
  position: number;
  event: DoorEvent;
}

/** Options of {@link EventLog.open}. */
export interface EventLogOptions {
  /** The door's name (a NATS token: lower-case letters, digits, hyphens). */
  door: string;
  /** CloudEvents `service`: `<reverse-DNS name>.v<major>`. */
  service: string;
  /** CloudEvents `source`: a URN naming this door. */
  source: string;
  replicas?: number;
  /** How long events are kept (default: for ever). */
  maxAgeMs?: number;
  /** How long a repeated event id is recognised and not logged again (default 2 minutes). */
  duplicateWindowMs?: number;
  /** `false`: the stream and bucket exist already (provisioned by an operator). */
  create?: boolean;
  now?: () => Date;
}

/** Name of a door's event stream. */
export function eventStreamName(door: string): string {
  return `door-${door}-events`;
}

/** Name of the bucket keeping each subject's last counter. */
export function eventHeadsBucketName(door: string): string {
  return `door-${door}-heads`;
}

/**
 * A door's event log: CloudEvents in a JetStream stream (file storage, durable, replayable), one NATS
 * subject per event subject. Appending gives each event its subject's next counter: the counter is read
 * from the subject's last event and the append is conditional on that event still being the last
 * (`Nats-Expected-Last-Subject-Sequence`), so that two appends to one subject cannot take the same
 * number and the log's order is the counter's order. A bucket keeps each subject's highest counter too, so
 * that numbering goes on where it was after the stream's retention drops a quiet subject's events.
 */
export class EventLog {
  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly heads: KV,
    private readonly options: EventLogOptions,
  ) {}

  /**
   * Opens (or creates) the stream and the bucket.
   *
   * @example
   * ```ts
   * const log = await EventLog.open(nc, {
   *   door: 'region-bruxelles',
   *   service: 'be.passerelle.regionalAuthority.v1',
   *   source: 'urn:passerelle:door:region-bruxelles',
   * });
   * ```
   */
  static async open(nc: NatsConnection, options: EventLogOptions): Promise<EventLog> {
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    const name = eventStreamName(options.door);
    if (options.create !== false) {
      const config = {
        name,
        subjects: [`door.${options.door}.events.>`],
        storage: 'file' as const,
        num_replicas: options.replicas ?? 1,
        max_age: nanos(options.maxAgeMs ?? 0),
        duplicate_window: nanos(options.duplicateWindowMs ?? 120_000),
        allow_direct: true,
      };
      await putStream(jsm, config);
    }
    const heads = await openBucket(nc, eventHeadsBucketName(options.door), {
      create: options.create !== false,
      replicas: options.replicas ?? 1,
    });
    return new EventLog(nc, jetstream(nc, { timeout: 30_000 }), jsm, heads, options);
  }

  /** The stream's name. */
  get stream(): string {
    return eventStreamName(this.options.door);
  }

  /** The NATS subject of an event subject's events, or of them all. */
  subjectOf(subject?: string): string {
    return `door.${this.options.door}.events.${subject ?? '*'}`;
  }

  /** The CloudEvents `service` and `source` of this door. */
  get origin(): { service: string; source: string } {
    return { service: this.options.service, source: this.options.source };
  }

  /**
   * Appends an event with its subject's next counter. An event whose id the log has seen within the
   * duplicate window is not logged again: the first one is returned.
   *
   * @example
   * ```ts
   * const { event, position } = await log.append({
   *   resourceType: 'dossiers', happened: 'decided', subject: dossierId, data: { outcome: 'granted' },
   * });
   * ```
   */
  async append(input: DoorEventInput): Promise<LoggedEvent> {
    const subject = this.subjectOf(input.subject);
    // built once for the checks and the id; numbered again on each attempt
    const draft = buildDoorEvent(this.origin, input, 1, this.options.now);
    for (let attempt = 1; attempt <= 50; attempt++) {
      const last = await this.jsm.direct.getMessage(this.stream, { last_by_subj: subject });
      const head = await this.heads.get(input.subject);
      const floor = head?.operation === 'PUT' ? Number(head.string()) : 0;
      const lastCounter = last ? checkDoorEvent(last.json()).subjectseq : 0;
      const event: DoorEvent = { ...draft, subjectseq: Math.max(lastCounter, floor) + 1 };
      let ack;
      try {
        ack = await this.js.publish(subject, JSON.stringify(event), {
          msgID: event.id,
          expect: { lastSubjectSequence: last?.seq ?? 0 },
        });
      } catch (err) {
        // another append to this subject came first: number again after it
        if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence)
          continue;
        throw err;
      }
      if (ack.duplicate) {
        const first = await this.read(ack.seq);
        if (first) return first;
      }
      await this.raiseHead(input.subject, event.subjectseq);
      return { position: ack.seq, event };
    }
    throw new DoorError('ERR_EVENT_LOG_CONFLICT', 'Other appends to this subject kept coming first.', {
      details: { subject: input.subject },
    });
  }

  /** Keeps the subject's highest counter (compare-and-set: it never goes down). */
  private async raiseHead(subject: string, counter: number): Promise<void> {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const head = await this.heads.get(subject);
      if (head?.operation === 'PUT' && Number(head.string()) >= counter) return;
      try {
        if (head) await this.heads.update(subject, String(counter), head.revision);
        else await this.heads.create(subject, String(counter));
        return;
      } catch {
        // another append raised it meanwhile: look again
      }
    }
  }

  /** The event at a position, or `undefined` if there is none (never, or no longer). */
  async read(position: number): Promise<LoggedEvent | undefined> {
    if (!Number.isSafeInteger(position) || position < 1) return undefined;
    const msg = await this.jsm.direct.getMessage(this.stream, { seq: position });
    return msg ? toLogged(msg) : undefined;
  }

  /**
   * Up to `limit` events after `after` (a position; `0` from the start) or from `since` (a time), of one
   * subject or all, in the log's order.
   */
  async page(options: {
    after?: number;
    since?: Date;
    subject?: string;
    limit: number;
  }): Promise<LoggedEvent[]> {
    const limit = Math.max(1, Math.min(options.limit, 1_000));
    const filter = this.subjectOf(options.subject);
    const start =
      options.since !== undefined
        ? { start_time: options.since }
        : { seq: Math.max(1, (options.after ?? 0) + 1) };
    const events: LoggedEvent[] = [];
    const batch = await this.jsm.direct.getBatch(this.stream, {
      ...start,
      batch: limit,
      next_by_subj: filter,
    });
    try {
      for await (const msg of batch) events.push(toLogged(msg));
    } catch (err) {
      if (!isNothingFound(err)) throw err;
    }
    return events;
  }

  /** The position of the last event logged (0 when none). */
  async lastPosition(): Promise<number> {
    return (await this.jsm.streams.info(this.stream)).state.last_seq;
  }

  /** The NATS connection the log uses (for the consumers of webhooks and streams). */
  get connection(): NatsConnection {
    return this.nc;
  }
}

function toLogged(msg: StoredMsg): LoggedEvent {
  return { position: msg.seq, event: checkDoorEvent(msg.json()) };
}

/**
 * Whether a batch read failed only because nothing is at or after its start: the server answers with a 404
 * status, which the client raises as a status error (a `JetStreamError` with that code).
 */
export function isNothingFound(err: unknown): boolean {
  return err instanceof JetStreamError && (err as { code?: unknown }).code === 404;
}
