import { type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { ExchangeError } from './exchange-error.js';
import { StreamNames, Subjects } from './streams.js';
import { deadLetterSubject } from './subjects.js';

/** Headers a dead letter carries beside the raw original bytes. */
export const DeadLetterHeaders = {
  code: 'Pex-Error-Code',
  reason: 'Pex-Error-Reason',
  originalSubject: 'Pex-Original-Subject',
  originalSeq: 'Pex-Original-Stream-Seq',
  participant: 'Pex-Participant',
  deadAt: 'Pex-Dead-At',
  deliveries: 'Pex-Deliveries',
  messageId: 'Pex-Message-Id',
} as const;

/**
 * Header of a message published again by {@link replayDeadLetter}: the dead letter's sequence. The
 * recipient then checks freshness against the time the message was first stored, which it recorded when
 * it dead-lettered it (a replay weeks later would otherwise be refused as stale).
 */
export const REPLAY_HEADER = 'Pex-Replay-Of';

/** Why and where a message was rejected. */
export interface DeadLetterReason {
  participant: string;
  code: string;
  /** Clear reason, free of personal data (error messages of the catalogue are). */
  reason: string;
  originalSubject: string;
  originalSeq?: number;
  deliveries?: number;
  messageId?: string;
  /**
   * How long the copy may stay (the time left of its original's retention): the server drops it then
   * (`Nats-TTL`, at least one second). Without it, DEADLETTER's age limit applies.
   */
  ttlMs?: number;
}

/** A dead letter as read back from the DEADLETTER stream. */
export interface DeadLetter extends DeadLetterReason {
  /** Sequence in DEADLETTER. */
  seq: number;
  deadAt: string;
  /** The raw original message body. */
  data: Uint8Array;
}

/**
 * Keeps a rejected message: its raw bytes with the reason, in DEADLETTER, before the original is
 * terminated or acknowledged. The server's termination advisory names the code but not the bytes, and
 * EXCHANGE forgets them at its retention: this copy is what operators list and replay.
 */
export async function writeDeadLetter(
  js: JetStreamClient,
  data: Uint8Array,
  why: DeadLetterReason,
): Promise<number> {
  const h = natsHeaders();
  h.set(DeadLetterHeaders.code, why.code);
  h.set(DeadLetterHeaders.reason, oneLine(why.reason));
  h.set(DeadLetterHeaders.originalSubject, why.originalSubject);
  h.set(DeadLetterHeaders.participant, why.participant);
  h.set(DeadLetterHeaders.deadAt, new Date().toISOString());
  if (why.originalSeq !== undefined) h.set(DeadLetterHeaders.originalSeq, String(why.originalSeq));
  if (why.deliveries !== undefined) h.set(DeadLetterHeaders.deliveries, String(why.deliveries));
  if (why.messageId) h.set(DeadLetterHeaders.messageId, why.messageId);
  // One dead letter per original delivery: a crash between this write and the ack must not store it twice.
  const msgID = why.originalSeq !== undefined ? `dlq-${why.participant}-${why.originalSeq}` : undefined;
  const ack = await js.publish(deadLetterSubject(why.participant), data, {
    headers: h,
    ...(msgID ? { msgID } : {}),
    ...(why.ttlMs !== undefined ? { ttl: `${Math.max(1, Math.ceil(why.ttlMs / 1000))}s` } : {}),
  });
  return ack.seq;
}

function oneLine(s: string): string {
  // Header values cannot hold line breaks; keep them short.
  return s.replace(/[\r\n]+/g, ' ').slice(0, 1_000);
}

/** Reads one dead letter by its DEADLETTER sequence. */
export async function getDeadLetter(jsm: JetStreamManager, seq: number): Promise<DeadLetter> {
  // null when there is no such message; a time-out or lost connection is thrown as it is, not taken for "none"
  const stored = await jsm.streams.getMessage(StreamNames.deadLetter, { seq });
  if (!stored)
    throw new ExchangeError('ERR_DEAD_LETTER_NOT_FOUND', `No dead letter with sequence ${seq}.`, {
      details: { seq },
    });
  return toDeadLetter(stored);
}

function toDeadLetter(m: StoredMsg): DeadLetter {
  const h = (k: string): string => m.header?.get(k) ?? '';
  const originalSeq = Number(h(DeadLetterHeaders.originalSeq));
  const deliveries = Number(h(DeadLetterHeaders.deliveries));
  return {
    seq: m.seq,
    participant: h(DeadLetterHeaders.participant) || m.subject.slice(Subjects.deadLetter.length + 1),
    code: h(DeadLetterHeaders.code),
    reason: h(DeadLetterHeaders.reason),
    originalSubject: h(DeadLetterHeaders.originalSubject),
    ...(originalSeq ? { originalSeq } : {}),
    ...(deliveries ? { deliveries } : {}),
    ...(h(DeadLetterHeaders.messageId) ? { messageId: h(DeadLetterHeaders.messageId) } : {}),
    deadAt: h(DeadLetterHeaders.deadAt),
    data: m.data,
  };
}

/** Lists dead letters, oldest first, optionally of one participant. */
export async function listDeadLetters(
  jsm: JetStreamManager,
  options: { participant?: string; limit?: number } = {},
): Promise<DeadLetter[]> {
  const info = await jsm.streams.info(StreamNames.deadLetter);
  const out: DeadLetter[] = [];
  const limit = options.limit ?? 1_000;
  // an empty stream reports sequence 0, which is no message's (the server refuses to look it up)
  const first = Math.max(1, info.state.first_seq);
  for (let seq = first; info.state.messages > 0 && seq <= info.state.last_seq && out.length < limit; seq++) {
    // null: removed after replay, or expired; any other failure ends the listing rather than shortening it
    const stored = await jsm.streams.getMessage(StreamNames.deadLetter, { seq });
    if (!stored) continue;
    const dl = toDeadLetter(stored);
    if (!options.participant || dl.participant === options.participant) out.push(dl);
  }
  return out;
}

/**
 * Publishes a dead letter's original bytes again on its original subject, once the cause is fixed, then
 * removes it from DEADLETTER. The new copy gets a fresh `Nats-Msg-Id`, so the server's duplicate window
 * does not drop it; the consumer's idempotency record (absent for a message that never succeeded) lets
 * the handler run once.
 */
export async function replayDeadLetter(
  js: JetStreamClient,
  jsm: JetStreamManager,
  seq: number,
): Promise<{ seq: number; subject: string }> {
  const dl = await getDeadLetter(jsm, seq);
  if (
    !dl.originalSubject.startsWith(`${Subjects.message}.`) &&
    !dl.originalSubject.startsWith(`${Subjects.receipt}.`)
  ) {
    throw new ExchangeError(
      'ERR_DEAD_LETTER_NOT_REPLAYABLE',
      `Dead letter ${seq} has no replayable original subject.`,
      {
        details: { seq },
      },
    );
  }
  const h = natsHeaders();
  h.set(REPLAY_HEADER, String(seq));
  const ack = await js.publish(dl.originalSubject, dl.data, {
    msgID: `replay-${dl.messageId ?? 'unknown'}-${seq}`,
    headers: h,
  });
  await jsm.streams.deleteMessage(StreamNames.deadLetter, seq, false);
  return { seq: ack.seq, subject: dl.originalSubject };
}
