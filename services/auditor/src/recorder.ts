import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { type LedgerEntry, type LedgerWriter, receiptIntake, sha256Hex } from '@passerelle/audit';
import { StreamNames, Subjects, type Logger } from '@passerelle/exchange';
import { writeDeadLetter } from '@passerelle/exchange/internal';
import { PasserelleError } from '@passerelle/errors';
import { backoffDelay } from '@passerelle/nats';
import { AUDITOR_CONSUMER } from '@passerelle/contracts';
import { isWellFormedMetaField } from '@passerelle/envelope/internal';
import type { LedgerIndex } from './ledger-index.js';
import type { ReceiptWatch } from './receipt-watch.js';
import { ReplayWatch } from './replay-watch.js';

/** Default name of the auditor's durable consumer on EXCHANGE. */
export { AUDITOR_CONSUMER };

/** The participant id under which the auditor files dead letters (`pex.dlq.auditor`). */
export const AUDITOR_PARTICIPANT = 'auditor';

/** Envelope errors that may come from a directory not yet showing a new key: retried before dead-lettering. */
const KEY_LOOKUP_CODES = new Set(['ERR_UNKNOWN_SENDER', 'ERR_KEY_NOT_FOUND', 'ERR_KEY_NOT_VALID_AT']);

/** Deliveries of a message whose key is missing before it goes to DEADLETTER. */
const KEY_LOOKUP_ATTEMPTS = 5;

/** Counters of what the recorder did, for logs and tests. */
export interface RecorderStats {
  envelopes: number;
  receipts: number;
  /** Inputs already in the ledger (redelivered or re-published): acknowledged, not recorded again. */
  duplicates: number;
  /**
   * Of the duplicates, envelopes stored on EXCHANGE again after their receipt was recorded (a new copy,
   * not a redelivery): logged as errors, counted by recipient in {@link RecorderOptions.replays}.
   */
  replays: number;
  /** Inputs that failed their seal or signature check: copied to DEADLETTER with their code. */
  deadLettered: number;
  /** Transient failures (ledger or server unavailable): negatively acknowledged, retried later. */
  retried: number;
}

/** The running intake loop. */
export interface Recorder {
  readonly stats: RecorderStats;
  /** Stops pulling and waits for the message in hand. */
  stop(): Promise<void>;
}

/** Options of {@link startRecorder}. */
export interface RecorderOptions {
  js: JetStreamClient;
  jsm: JetStreamManager;
  writer: LedgerWriter;
  index: LedgerIndex;
  logger: Logger;
  consumerName?: string;
  /** Told of every envelope and receipt recorded (receipts overdue). */
  receipts?: ReceiptWatch;
  /** Told of every envelope stored again after its receipt was recorded (a new one when absent). */
  replays?: ReplayWatch;
  /**
   * Create the consumer when it is missing (default true); false on a secured server, where the operator
   * creates it with {@link auditorConsumerConfig} and the auditor may only read from it.
   */
  provision?: boolean;
}

/**
 * The auditor's consumer: every message of EXCHANGE (filter `pex.>`: envelopes and receipts alike),
 * explicit ack, no delivery limit — the server must never drop an input the ledger has not recorded.
 */
export function auditorConsumerConfig(name = AUDITOR_CONSUMER): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    description: 'The auditor: every envelope and receipt, recorded in LEDGER',
    filter_subject: 'pex.>',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_deliver: -1,
    ack_wait: 30_000 * 1_000_000,
    max_ack_pending: 256,
  };
}

interface Rejection {
  code: string;
  reason: string;
  keyLookup: boolean;
}

function rejectionOf(err: unknown): Rejection | undefined {
  const e = err as { code?: unknown; message?: unknown; details?: { cause?: unknown }; cause?: unknown };
  if (e?.code !== 'ERR_LEDGER_INPUT_REJECTED') return undefined;
  const causeCode =
    typeof e.details?.cause === 'string'
      ? e.details.cause
      : typeof (e.cause as { code?: unknown } | undefined)?.code === 'string'
        ? (e.cause as { code: string }).code
        : undefined;
  return {
    code: causeCode ?? 'ERR_LEDGER_INPUT_REJECTED',
    reason: typeof e.message === 'string' ? e.message : 'refused',
    keyLookup: causeCode !== undefined && KEY_LOOKUP_CODES.has(causeCode),
  };
}

/**
 * The message and dossier ids named by an envelope body, before the writer checks the seal: only well-formed
 * ids, since they go into logs, dead-letter headers and the lookup of what is already recorded.
 */
function envelopeIds(data: Uint8Array): { messageId: string; dossierId: string } | undefined {
  try {
    const meta = (
      JSON.parse(Buffer.from(data).toString('utf8')) as { meta?: { id?: unknown; dossierId?: unknown } }
    ).meta;
    const { id, dossierId } = meta ?? {};
    return isWellFormedMetaField('id', id) && isWellFormedMetaField('dossierId', dossierId)
      ? { messageId: id as string, dossierId: dossierId as string }
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts recording: creates (or reuses) the durable consumer and appends each envelope and receipt to the
 * ledger, one at a time, acknowledging only after the append is stored — a crash in between redelivers the
 * input, and the index makes the second append a no-op. An input whose seal or signature fails is copied
 * to DEADLETTER (`pex.dlq.auditor`, with its code and reason) before its ack: nothing is dropped silently.
 *
 * @example
 * ```ts
 * const recorder = await startRecorder({ js, jsm, writer, index, logger });
 * await recorder.stop();
 * ```
 */
export async function startRecorder(options: RecorderOptions): Promise<Recorder> {
  const { js, logger } = options;
  const name = options.consumerName ?? AUDITOR_CONSUMER;
  await ensureConsumer(options.jsm, name, options.provision !== false);
  const intake = new Intake(options);
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  const consumer = await js.consumers.get(StreamNames.exchange, name);
  // Short pull expiry: a pull left open by a killed client keeps waiting until it expires (DESIGN.md).
  messages = await consumer.consume({ max_messages: 64, expires: 5_000 });
  const loop = (async () => {
    for await (const msg of messages) {
      if (stopping) {
        msg.nak();
        continue;
      }
      // One at a time: ledger entries are chained, so appends cannot overlap anyway.
      await intake.handle(msg).catch((err: unknown) => {
        logger.error({ code: (err as { code?: unknown }).code }, 'recording failed');
        msg.nak(1_000);
      });
    }
  })();
  return {
    stats: intake.stats,
    async stop() {
      stopping = true;
      messages?.stop();
      await loop.catch(() => undefined);
      messages = undefined;
    },
  };
}

// The auditor reuses its durable consumer; it creates one only where it may, since a secured server's
// operator provisions it and a missing one must then say so rather than fail on permissions.
async function ensureConsumer(jsm: JetStreamManager, name: string, provision: boolean): Promise<void> {
  try {
    await jsm.consumers.info(StreamNames.exchange, name);
  } catch (cause) {
    if (!provision) {
      throw new PasserelleError(
        'ERR_NOT_PROVISIONED',
        `The auditor's consumer EXCHANGE/${name} is missing. Run the provisioning with operator credentials.`,
        { cause, details: { participant: AUDITOR_PARTICIPANT, missing: [`consumer EXCHANGE/${name}`] } },
      );
    }
    await jsm.consumers.add(StreamNames.exchange, auditorConsumerConfig(name));
  }
}

/** What the catch of {@link Intake.handle} needs to know of the input it was handling. */
interface InputSeen {
  messageId?: string;
}

/** Delays before a transient failure is retried: the project's backoff, without jitter. */
const RETRY_BACKOFF = { baseMs: 500, maxMs: 30_000, jitter: 0 } as const;

/**
 * Records one input: an envelope or a receipt is appended unless already recorded, anything else or
 * anything the writer refuses goes to DEADLETTER, and transient failures are retried; it keeps the counts.
 */
class Intake {
  readonly stats: RecorderStats = {
    envelopes: 0,
    receipts: 0,
    duplicates: 0,
    replays: 0,
    deadLettered: 0,
    retried: 0,
  };
  readonly #options: RecorderOptions;
  readonly #replays: ReplayWatch;

  constructor(options: RecorderOptions) {
    this.#options = options;
    this.#replays = options.replays ?? new ReplayWatch();
  }

  async handle(msg: JsMsg): Promise<void> {
    const { index, logger } = this.#options;
    const seen: InputSeen = {};
    try {
      // A redelivery may follow an append by another auditor instance sharing the consumer: look first.
      if (msg.info.redelivered) await index.refresh();
      let entry: LedgerEntry | undefined;
      if (msg.subject.startsWith(`${Subjects.message}.`)) {
        entry = await this.#envelope(msg, seen);
      } else if (msg.subject.startsWith(`${Subjects.receipt}.`)) {
        entry = await this.#receipt(msg, seen);
      } else {
        await this.#deadLetter(msg, {
          code: 'ERR_LEDGER_INPUT_REJECTED',
          reason: 'Neither an envelope nor a receipt subject.',
          keyLookup: false,
        });
      }
      // No entry: the input was a duplicate or refused, and is acknowledged already.
      if (!entry) return;
      await index.observe(entry);
      msg.ack();
      logger.debug({ seq: entry.seq, kind: entry.kind, messageId: seen.messageId }, 'recorded');
    } catch (err) {
      await this.#failed(msg, err, seen.messageId);
    }
  }

  // An envelope is appended once: a copy with the same bytes is acknowledged, one with other bytes is evidence.
  async #envelope(msg: JsMsg, seen: InputSeen): Promise<LedgerEntry | undefined> {
    const { index, writer, logger } = this.#options;
    const ids = envelopeIds(msg.data);
    const messageId = ids?.messageId;
    seen.messageId = messageId;
    const known = ids ? await index.recordedEnvelope(ids.dossierId, ids.messageId) : undefined;
    if (ids && known !== undefined) {
      if (known.envelopeSha256 === sha256Hex(msg.data)) {
        this.stats.duplicates++;
        await this.#checkStoredAgain(msg, ids, known);
        logger.debug({ messageId, streamSeq: msg.seq }, 'envelope already recorded');
        msg.ack();
        return undefined;
      }
      // Same id, other bytes: the ledger keeps the first; the second is evidence, kept in DEADLETTER.
      await this.#deadLetter(
        msg,
        {
          code: 'ERR_LEDGER_INPUT_REJECTED',
          reason: 'Another envelope with this id is already recorded.',
          keyLookup: false,
        },
        messageId,
      );
      return undefined;
    }
    const entry = await writer.appendEnvelope(msg.data);
    this.stats.envelopes++;
    if (entry.kind === 'envelope')
      this.#options.receipts?.envelope(entry.meta.id, Date.parse(entry.receivedAt));
    return entry;
  }

  // A receipt is appended once per receiver; a second copy is only acknowledged.
  async #receipt(msg: JsMsg, seen: InputSeen): Promise<LedgerEntry | undefined> {
    const { index, writer, logger } = this.#options;
    const { claims } = receiptIntake(msg.data);
    const messageId = claims.messageId;
    seen.messageId = messageId;
    if (await index.hasReceipt(claims.dossierId, claims.messageId, claims.receiver)) {
      this.stats.duplicates++;
      logger.debug({ messageId, streamSeq: msg.seq }, 'receipt already recorded');
      msg.ack();
      return undefined;
    }
    const entry = await writer.appendReceipt(msg.data);
    this.stats.receipts++;
    this.#options.receipts?.receipt(claims.messageId);
    return entry;
  }

  /**
   * A copy of a recorded envelope: flagged when the server stored it after the recipient's receipt was
   * recorded, which no redelivery of the first copy can be (replay-watch.ts). Ids and times only in the log.
   */
  async #checkStoredAgain(
    msg: JsMsg,
    ids: { messageId: string; dossierId: string },
    known: { sender: string; recipient: string },
  ): Promise<void> {
    const receiptAt = await this.#options.index.receiptRecordedAt(
      ids.dossierId,
      ids.messageId,
      known.recipient,
    );
    const storedAt = new Date(Math.floor(msg.info.timestampNanos / 1_000_000));
    if (!receiptAt || !this.#replays.isStoredAgain(storedAt, receiptAt)) return;
    this.stats.replays++;
    this.#replays.note(known.recipient);
    this.#options.logger.error(
      {
        code: 'ERR_LEDGER_ENVELOPE_STORED_AGAIN',
        messageId: ids.messageId,
        sender: known.sender,
        recipient: known.recipient,
        streamSeq: msg.seq,
        storedAt: storedAt.toISOString(),
        receiptRecordedAt: receiptAt.toISOString(),
      },
      "an envelope already receipted was stored again: the recipient's replay state may be lost",
    );
  }

  // A refusal is final only once a missing key has had time to appear in the directory; anything else
  // (ledger or server unavailable) is retried later with a growing delay.
  async #failed(msg: JsMsg, err: unknown, messageId: string | undefined): Promise<void> {
    const rejection = rejectionOf(err);
    if (rejection && !(rejection.keyLookup && msg.info.deliveryCount < KEY_LOOKUP_ATTEMPTS)) {
      await this.#deadLetter(msg, rejection, messageId);
      return;
    }
    this.stats.retried++;
    const delay = backoffDelay(msg.info.deliveryCount, RETRY_BACKOFF);
    this.#options.logger.error(
      {
        code: rejection?.code ?? (err as { code?: unknown }).code,
        subject: msg.subject,
        streamSeq: msg.seq,
        delayMs: delay,
      },
      'input not recorded yet: retried later',
    );
    msg.nak(delay);
  }

  async #deadLetter(msg: JsMsg, why: Rejection, messageId?: string): Promise<void> {
    await writeDeadLetter(this.#options.js, msg.data, {
      participant: AUDITOR_PARTICIPANT,
      code: why.code,
      reason: why.reason,
      originalSubject: msg.subject,
      originalSeq: msg.seq,
      deliveries: msg.info.deliveryCount,
      ...(messageId ? { messageId } : {}),
    });
    this.stats.deadLettered++;
    this.#options.logger.warn(
      { code: why.code, subject: msg.subject, streamSeq: msg.seq, messageId },
      'input refused by the ledger: kept in DEADLETTER',
    );
    msg.ack();
  }
}
