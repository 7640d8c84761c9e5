import { setTimeout as sleep } from 'node:timers/promises';
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { Contracts, DossierContext } from '@passerelle/contracts';
import { participantKind } from '@passerelle/directory';
import {
  type CryptoProvider,
  type EnvelopeMeta,
  type KeyResolver,
  type ParticipantKeys,
  deriveMessageId,
  newMessageId,
  sealEnvelope,
} from '@passerelle/envelope';
import { UUID_V7, sha256Hex } from '@passerelle/envelope/internal';
import { isPasserelleError } from '@passerelle/errors';
import type { PayloadSeal } from './dossier-keys.js';
import { ExchangeError } from './exchange-error.js';
import type { Logger } from './logger.js';
import type { ExchangeMetrics } from './metrics.js';
import { publishWithRetry } from './publish.js';
import { type Outbox, type OutboxRecord } from './receipts.js';
import { type RetryOptions, RetriesEnded, retrying } from '@passerelle/nats';
import { messageSubject } from './subjects.js';

/** Options of {@link Exchange.send}. */
export interface SendOptions {
  /** Recipient(s); without it the contract's recipients for the dossier context. */
  to?: string | readonly string[];
  dossierId: string;
  /** Defaults to the first message's id of a new conversation. */
  correlationId?: string;
  causationId?: string | null;
  /** Facts the contract needs to name the recipients (region, commune, post, first application or renewal). */
  context?: DossierContext;
  /** Schema version (default: the contract's latest). */
  schemaVersion?: number;
  /**
   * A stable id for this message (a UUID v7 the caller keeps with it). Without it the send makes one, which
   * its errors carry (`details.messageId`). Sending again under the same id is exactly-once — after a failure
   * part-way through a fan-out, an outcome left unknown, or a crash before the caller noted it sent: each
   * recipient's envelope gets an id derived from it, the same on every attempt (`deriveMessageId`), the
   * bytes first recorded are the ones published, the server drops a repeat within the stream's duplicate
   * window and the recipient's idempotency record one beyond it; a recipient whose receipt is already
   * recorded is not sent to again and is left out of the result. It is also the default correlation id.
   */
  messageId?: string;
}

/** One envelope published by {@link Exchange.send}. */
export interface SentMessage {
  id: string;
  recipient: string;
  subject: string;
  seq: number;
  duplicate: boolean;
  envelopeSha256: string;
}

/** Codes of {@link Exchange.send}'s refusals of a message, all raised before it publishes to any recipient. */
const REFUSED_BEFORE_PUBLISHING: ReadonlySet<string> = new Set([
  'ERR_CONTRACT_FORBIDDEN',
  'ERR_SCHEMA_INVALID',
  'ERR_DOSSIER_CONTEXT_INVALID',
  'ERR_NO_RECIPIENT',
  'ERR_MESSAGE_TOO_LARGE',
  'ERR_CONFIG_INVALID',
]);

/**
 * Whether `err`, thrown by {@link Exchange.send}, refused the message itself before anything was published
 * (the contract, the schema, the routing context, its size): nothing of it left, and sending it again as it
 * is would be refused again. Any other failure of `send` is `ERR_NOT_SENT` or `ERR_SEND_OUTCOME_UNKNOWN`.
 */
export function isRefusedBeforePublishing(err: unknown): boolean {
  return isPasserelleError(err) && REFUSED_BEFORE_PUBLISHING.has(err.code);
}

/**
 * Envelopes older than this are sealed anew when sent again: recipients refuse as stale an envelope the
 * server stores more than a day after its `issuedAt`, and an hour is left for clocks and retries.
 */
export const KEPT_ENVELOPE_MAX_AGE_MS = 23 * 60 * 60 * 1000;

/** What {@link Sender} needs of its exchange. */
export interface SenderContext {
  participant: string;
  keys: ParticipantKeys;
  directory: KeyResolver;
  contracts: Contracts;
  provider: CryptoProvider;
  maxBytes: number | undefined;
  js: JetStreamClient;
  outbox: Outbox;
  metrics: ExchangeMetrics;
  logger: Logger;
  /** Seals payloads under their dossier's key (`ExchangeOptions.payloadSeal`). */
  payloadSeal: PayloadSeal | undefined;
  /** The retries of every publish and outbox operation, ended by the exchange's closing. */
  retry: Readonly<RetryOptions>;
}

/** One recipient's envelope, ready to be recorded and published. */
interface Prepared {
  id: string;
  recipient: string;
  body: string;
  issuedAt: string;
  /** Bytes an earlier attempt recorded, published again as they are. */
  kept: boolean;
}

/** How far a send got, which decides what its failure may say. */
interface Progress {
  /** Some recipient may hold this message: an earlier attempt's record stood, or a publish may have landed. */
  mayBeStored: boolean;
  /** Outbox records this send wrote or tried to write, removed again when it fails with nothing stored. */
  created: OutboxRecord[];
}

/**
 * Sending, and the sender's outbox: the send contract of `packages/exchange/README.md` ("Sending"). Each
 * recipient's envelope is recorded in the outbox with its bytes before it is published, so a send that
 * reports `ERR_NOT_SENT` has published nothing that could be delivered later, and one that reports
 * `ERR_SEND_OUTCOME_UNKNOWN` can be sent again under its id, exactly once.
 */
export class Sender {
  constructor(private readonly ctx: SenderContext) {}

  /** Throws what {@link send} would throw about the message itself; returns recipients and schema version. */
  checked(
    type: string,
    payload: unknown,
    options: Omit<SendOptions, 'dossierId'>,
  ): { recipients: string[]; version: number } {
    const { contracts, participant } = this.ctx;
    const recipients =
      options.to === undefined
        ? contracts.recipientsOf(type, options.context ?? ({} satisfies DossierContext))
        : typeof options.to === 'string'
          ? [options.to]
          : [...options.to];
    if (recipients.length === 0) {
      throw new ExchangeError(
        'ERR_NO_RECIPIENT',
        `The contract names no recipient for ${type} in this dossier context.`,
        { details: { type } },
      );
    }
    for (const recipient of recipients) contracts.authorize(participant, type, recipient);
    const version = options.schemaVersion ?? contracts.latestVersion(type);
    contracts.validate(type, version, payload);
    if (options.messageId !== undefined && !UUID_V7.test(options.messageId)) {
      throw new ExchangeError('ERR_CONFIG_INVALID', 'The send option messageId must be a UUID v7.', {
        details: { setting: 'messageId' },
      });
    }
    return { recipients, version };
  }

  /** Sends a message to each recipient; see {@link Exchange.send}. */
  async send(type: string, payload: unknown, options: SendOptions): Promise<SentMessage[]> {
    const { recipients, version } = this.checked(type, payload, options);
    const messageId = options.messageId ?? newMessageId();
    const progress: Progress = { mayBeStored: false, created: [] };
    try {
      const prepared = await Promise.all(
        recipients.map((recipient) =>
          this.prepare(type, payload, options, { messageId, recipient, version, progress }),
        ),
      );
      for (const p of prepared) if (p === undefined) progress.mayBeStored = true;
      // the server removes the envelope when the contract's retention for its type has passed
      const ttl = `${this.ctx.contracts.retentionDays(type) * 24}h`;
      const sent: SentMessage[] = [];
      for (const p of prepared) {
        if (!p) continue;
        const one = await this.publishOne(type, options.dossierId, p, ttl, progress);
        if (one) sent.push(one);
      }
      return sent;
    } catch (err) {
      throw await this.failure(err, type, messageId, options.messageId !== undefined, progress);
    }
  }

  /** Seals one recipient's envelope, or takes the bytes an earlier attempt recorded; undefined once receipted. */
  private async prepare(
    type: string,
    payload: unknown,
    options: SendOptions,
    at: { messageId: string; recipient: string; version: number; progress: Progress },
  ): Promise<Prepared | undefined> {
    const { messageId, recipient, version } = at;
    const id = deriveMessageId(messageId, recipient);
    if (options.messageId !== undefined) {
      // Sent before under this id: acknowledged already (left out), or its very bytes sent again.
      const known = await this.outboxStep(() => this.ctx.outbox.get(id));
      if (known) at.progress.mayBeStored = true;
      if (known?.receipt) return undefined;
      // kept bytes go out again as they are while the recipients still take them as fresh
      if (known?.envelope && Date.now() - Date.parse(known.sentAt) < KEPT_ENVELOPE_MAX_AGE_MS) {
        return { id, recipient, body: known.envelope, issuedAt: known.sentAt, kept: true };
      }
    }
    const projected = this.ctx.contracts.project(type, participantKind(recipient), payload);
    const meta: EnvelopeMeta = {
      id,
      type,
      schemaVersion: version,
      sender: this.ctx.participant,
      recipient,
      dossierId: options.dossierId,
      issuedAt: new Date().toISOString(),
      correlationId: options.correlationId ?? messageId,
      causationId: options.causationId ?? null,
    };
    const recipientKey = await this.ctx.directory.resolve(recipient, 'enc', new Date());
    const envelope = await sealEnvelope({
      meta,
      payload: this.ctx.payloadSeal ? await this.ctx.payloadSeal.seal(meta, projected) : projected,
      sender: this.ctx.keys,
      recipientKey,
      provider: this.ctx.provider,
    });
    const body = JSON.stringify(envelope);
    const { maxBytes } = this.ctx;
    if (maxBytes !== undefined && Buffer.byteLength(body) > maxBytes) {
      throw new ExchangeError(
        'ERR_MESSAGE_TOO_LARGE',
        `The sealed ${type} envelope exceeds ${maxBytes} bytes.`,
        {
          details: { type, maxBytes },
        },
      );
    }
    return { id, recipient, body, issuedAt: meta.issuedAt, kept: false };
  }

  /**
   * Records one recipient's envelope (unless kept from an earlier attempt), then publishes the bytes that
   * stand; undefined when a receipt of it is recorded already.
   */
  private async publishOne(
    type: string,
    dossierId: string,
    p: Prepared,
    ttl: string,
    progress: Progress,
  ): Promise<SentMessage | undefined> {
    const { outbox, participant } = this.ctx;
    const subject = messageSubject(type, participant, p.recipient);
    const mine: OutboxRecord = {
      id: p.id,
      type,
      recipient: p.recipient,
      dossierId,
      subject,
      envelopeSha256: sha256Hex(p.body),
      sentAt: p.issuedAt,
      envelope: p.body,
    };
    let body = p.body;
    /** Set when an earlier record without usable bytes stands: its hash, which a duplicate's server copy has. */
    let replacing: string | undefined;
    if (!p.kept) {
      // Recorded with its bytes before it is published, so that every later attempt (this process after a
      // failure, another after a crash) publishes exactly these bytes, which the receipt names.
      // noted before the write: one whose answer is lost may still land, and must then be removed too
      progress.created.push(mine);
      const standing = await this.outboxStep(() => outbox.recordFirst(mine));
      if (standing.envelopeSha256 !== mine.envelopeSha256) {
        progress.created.pop();
        progress.mayBeStored = true;
        if (standing.receipt) return undefined;
        if (standing.envelope && Date.now() - Date.parse(standing.sentAt) < KEPT_ENVELOPE_MAX_AGE_MS) {
          // another attempt recorded its bytes first: those go out
          body = standing.envelope;
        } else {
          // An earlier attempt's record without usable bytes (an older release, or stale): these new bytes go
          // out, and the record follows them only if the server stored them, never over a receipt.
          replacing = standing.envelopeSha256;
        }
      }
    }
    const ack = await this.publish(subject, body, { msgID: p.id, ttl }, progress);
    if (replacing !== undefined && !ack.duplicate) {
      await this.outboxStep(() => outbox.replaceUnreceipted(mine));
    }
    this.ctx.metrics.sent.inc({ type });
    this.ctx.logger.debug({ id: p.id, type, recipient: p.recipient, seq: ack.seq }, 'sent');
    return {
      id: p.id,
      recipient: p.recipient,
      subject,
      seq: ack.seq,
      duplicate: ack.duplicate,
      // a duplicate of an earlier record's bytes: the server holds those, which the record names
      envelopeSha256: replacing !== undefined && ack.duplicate ? replacing : sha256Hex(body),
    };
  }

  private async publish(
    subject: string,
    body: string,
    options: { msgID: string; ttl: string },
    progress: Progress,
  ): Promise<PubAck> {
    try {
      return await publishWithRetry(this.ctx.js, subject, body, options, this.ctx.retry);
    } catch (err) {
      const stored = isPasserelleError(err)
        ? (err.details as { stored?: string } | undefined)?.stored
        : 'unknown';
      if (stored !== 'no') progress.mayBeStored = true;
      throw err;
    }
  }

  /**
   * An operation on the outbox, retried through elections with the publishes' backoff; its end becomes
   * `ERR_OUTBOX_UNAVAILABLE` (or `ERR_EXCHANGE_CLOSED` once the exchange closes).
   */
  private async outboxStep<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await retrying(op, this.ctx.retry);
    } catch (err) {
      if (!(err instanceof RetriesEnded)) throw err;
      const { attempts, failure, cause } = err.end;
      if (failure === 'closed' || failure === 'aborted') {
        throw new ExchangeError(
          'ERR_EXCHANGE_CLOSED',
          `The exchange of ${this.ctx.participant} closed while its outbox was being written.`,
          { cause, details: { attempts } },
        );
      }
      throw new ExchangeError(
        'ERR_OUTBOX_UNAVAILABLE',
        `The outbox of ${this.ctx.participant} did not answer after ${attempts} attempt(s) (${failure}).`,
        { cause, details: { attempts, failure } },
      );
    }
  }

  /**
   * Removes the outbox record of a message not sent once the outbox answers again, trying every few
   * seconds until the exchange stops; a process that stops first leaves it listed by `unreceipted()`.
   */
  private forgetLater(record: OutboxRecord, sole: boolean): void {
    const { signal } = this.ctx.retry;
    void (async () => {
      while (!signal?.aborted) {
        try {
          await retrying(() => this.ctx.outbox.forget(record, { sole }), { ...(signal ? { signal } : {}) });
          return;
        } catch {
          await sleep(5_000, undefined, { ...(signal ? { signal } : {}), ref: false }).catch(() => undefined);
        }
      }
      this.ctx.logger.warn({ id: record.id }, 'the outbox record of a message not sent stays');
    })();
  }

  /**
   * The error a failed send rejects with: a refusal of the message itself as it is; otherwise
   * `ERR_NOT_SENT` when no recipient can hold it (the records this send made are removed, in the background), or
   * `ERR_SEND_OUTCOME_UNKNOWN`. Both carry the message id and the cause.
   */
  private async failure(
    err: unknown,
    type: string,
    messageId: string,
    stable: boolean,
    progress: Progress,
  ): Promise<unknown> {
    if (isRefusedBeforePublishing(err)) return err;
    const cause = isPasserelleError(err) ? err.code : 'an unexpected error';
    if (!progress.mayBeStored) {
      // at once where the outbox answers; where it is what failed, in the background until it does
      const sole = !stable;
      for (const record of progress.created) {
        await this.ctx.outbox.forget(record, { sole }).catch(() => this.forgetLater(record, sole));
      }
      return new ExchangeError(
        'ERR_NOT_SENT',
        `The ${type} message ${messageId} was not sent (${cause}): no recipient has it or will get it; sending it again is safe.`,
        { cause: err, details: { messageId, type, cause } },
      );
    }
    return new ExchangeError(
      'ERR_SEND_OUTCOME_UNKNOWN',
      `The ${type} message ${messageId} may have reached some of its recipients (${cause}): send it again with messageId ${messageId}, which delivers it exactly once.`,
      { cause: err, details: { messageId, type, cause } },
    );
  }
}
