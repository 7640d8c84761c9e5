import type { JsMsg } from '@nats-io/jetstream';
import { type EnvelopeMeta, openEnvelope } from '@passerelle/envelope';
import { isWellFormedMetaField, sha256Hex } from '@passerelle/envelope/internal';
import type { ExchangeContext } from './context.js';
import { REPLAY_HEADER } from './dead-letters.js';
import { ExchangeError } from './exchange-error.js';
import type { ReceiptDesk } from './receipt-desk.js';
import { EXHAUSTED_AFTER, type Rejector } from './rejection.js';
import type { SendOptions, SentMessage } from './send.js';
import { parseMessageSubject } from './subjects.js';
import type { Handlers, MessageHandler } from './types.js';

/**
 * How far `issuedAt` may be from when the server stored a message: the time from sealing to storing, which
 * a send keeps under a day (kept bytes older than 23 hours are sealed anew, send.ts). A
 * replay of captured bytes is refused past it, whatever the idempotency records say (SECURITY.md).
 */
export const DEFAULT_FRESHNESS_MS = 24 * 60 * 60 * 1000;

/** How a delivery is rejected: its count against the limit, and when its bytes were first stored. */
interface RejectAs {
  deliveryCount: number;
  maxDeliver: number;
  firstStored: Date;
}

/** A message that passed every check, with the handler for its type. */
interface Checked {
  meta: EnvelopeMeta;
  payload: unknown;
  handler: MessageHandler;
}

/** A delivery whose idempotency record this instance holds. */
interface Claimed {
  envelopeSha256: string;
  revision: number;
  rejectAs: RejectAs;
  abandoned: AbortSignal;
}

/** What a participant does with each message of its inbox, from the envelope's checks to its receipt. */
export class Inbound {
  constructor(
    private readonly ctx: ExchangeContext,
    private readonly rejector: Rejector,
    private readonly receipts: ReceiptDesk,
    /** Sends a handler's reply (the exchange's `send`). */
    private readonly send: (type: string, payload: unknown, options: SendOptions) => Promise<SentMessage[]>,
  ) {}

  /**
   * Handles one delivery of this participant's inbox: every envelope check, sender allowed by the contract,
   * schema, idempotency (a record per id, so the handler completes at most once), handler, signed receipt,
   * ack. A handler error naks with backoff; after `maxDeliver`, or at once for a permanent error, the raw
   * message goes to DEADLETTER with its code and reason.
   */
  async handle(msg: JsMsg, handlers: Handlers, maxDeliver: number, abandoned: AbortSignal): Promise<void> {
    const deliveryCount = msg.info.deliveryCount;
    if (deliveryCount > 1) this.ctx.metrics.redeliveries.inc();
    // when the server stored it; a replayed dead letter, when the server first stored its bytes
    const firstStored = await this.firstStored(msg);
    const rejectAs: RejectAs = { deliveryCount, maxDeliver, firstStored };
    const checked = await this.check(msg, handlers, rejectAs);
    if (!checked) return;
    const { meta } = checked;
    const envelopeSha256 = sha256Hex(msg.data);
    const claim = await this.ctx.idempotency.claim(meta.id);
    if (claim.kind === 'busy') {
      msg.nak(claim.retryInMs);
      return;
    }
    if (claim.kind === 'done') {
      this.ctx.metrics.duplicates.inc();
      await this.receipts.send(meta, envelopeSha256);
      msg.ack();
      return;
    }
    if (deliveryCount > EXHAUSTED_AFTER * maxDeliver) {
      // Delivered far more often than handler failures allow and still without an outcome: the processes
      // handling it stopped part-way, or its idempotency record or receipt could not be written for long.
      // Kept in DEADLETTER, where it can be replayed, rather than tried for ever.
      await this.ctx.idempotency.release(meta.id, claim.revision).catch(() => undefined);
      await this.rejector.reject(
        msg,
        new ExchangeError(
          'ERR_DELIVERIES_EXHAUSTED',
          `Message ${meta.id} was delivered ${deliveryCount} times without an outcome.`,
          { details: { messageId: meta.id, deliveries: deliveryCount, maxDeliver } },
        ),
        { ...rejectAs, messageId: meta.id },
      );
      return;
    }
    await this.run(msg, checked, { envelopeSha256, revision: claim.revision, rejectAs, abandoned });
  }

  /**
   * Every check before a handler may see the message: the envelope (signature, decryption, freshness, keys
   * valid when stored), its subject against its meta, the contract's sender and schema, a handler for its
   * type. A message that fails one is rejected here and `undefined` returned.
   */
  private async check(msg: JsMsg, handlers: Handlers, rejectAs: RejectAs): Promise<Checked | undefined> {
    const { contracts, directory, keys } = this.ctx.options;
    let openedId: string | undefined;
    try {
      const subjectTokens = parseMessageSubject(msg.subject);
      const opened = await openEnvelope(msg.data, {
        recipient: keys,
        resolver: directory,
        now: rejectAs.firstStored,
        freshnessMs: this.ctx.options.freshnessMs ?? DEFAULT_FRESHNESS_MS,
        // a key revoked since signs nothing the server stored after: the storage time, never later than now
        keyValidAt: new Date(Math.min(rejectAs.firstStored.getTime(), Date.now())),
        provider: this.ctx.provider,
        ...(this.ctx.options.maxBytes !== undefined ? { maxBytes: this.ctx.options.maxBytes } : {}),
      });
      const { meta } = opened;
      openedId = meta.id;
      if (
        !subjectTokens ||
        subjectTokens.type !== meta.type ||
        subjectTokens.sender !== meta.sender ||
        subjectTokens.recipient !== meta.recipient
      ) {
        throw new ExchangeError(
          'ERR_SUBJECT_MISMATCH',
          `Subject ${msg.subject} does not match the envelope's meta.`,
          {
            details: { subject: msg.subject, messageId: meta.id },
          },
        );
      }
      contracts.authorize(meta.sender, meta.type, this.ctx.participant);
      const { payloadSeal } = this.ctx.options;
      const payload = payloadSeal ? await payloadSeal.open(meta, opened.payload) : opened.payload;
      contracts.validate(meta.type, meta.schemaVersion, payload);
      const handler = typeof handlers === 'function' ? handlers : handlers[meta.type];
      if (!handler) {
        throw new ExchangeError(
          'ERR_NO_HANDLER',
          `${this.ctx.participant} has no handler for ${meta.type}.`,
          {
            details: { type: meta.type, messageId: meta.id },
          },
        );
      }
      return { meta, payload, handler };
    } catch (err) {
      await this.rejector.reject(msg, err, { ...rejectAs, ...(openedId ? { messageId: openedId } : {}) });
      return undefined;
    }
  }

  /**
   * Runs the handler of a claimed message, telling the server and the idempotency lease it is being worked
   * on; then records the outcome, sends the receipt and acks, or rejects what the handler threw.
   */
  private async run(msg: JsMsg, { meta, payload, handler }: Checked, claimed: Claimed): Promise<void> {
    const { envelopeSha256, rejectAs, abandoned } = claimed;
    const started = performance.now();
    // Tell the server the message is being worked on, and renew the idempotency lease, well within ack_wait.
    let revision = claimed.revision;
    const working = setInterval(() => {
      // abandoned by a stop: no longer extended, so the message and its lease go to another delivery
      if (abandoned.aborted) {
        clearInterval(working);
        return;
      }
      msg.working();
      this.ctx.idempotency.renew(meta.id, revision).then(
        (r) => (revision = r),
        () => undefined,
      );
    }, this.ctx.ackWaitMs / 3);
    try {
      await handler({
        meta,
        payload,
        envelopeSha256,
        streamSeq: msg.info.streamSequence,
        deliveryCount: msg.info.deliveryCount,
        signal: abandoned,
        reply: (type, replyPayload, replyOptions) =>
          this.send(type, replyPayload, {
            ...replyOptions,
            dossierId: meta.dossierId,
            correlationId: meta.correlationId,
            causationId: meta.id,
          }),
      });
    } catch (err) {
      clearInterval(working);
      if (abandoned.aborted) return this.leaveAbandoned(meta, 'threw');
      // the lease goes back first (if still this delivery's): a next delivery, or a replay of the dead
      // letter, claims it at once
      await this.ctx.idempotency.release(meta.id, revision).catch(() => undefined);
      await this.rejector.reject(msg, err, { ...rejectAs, messageId: meta.id, fromHandler: true });
      return;
    }
    clearInterval(working);
    if (abandoned.aborted) return this.leaveAbandoned(meta, 'returned');
    this.ctx.metrics.handlerSeconds.observe({ type: meta.type }, (performance.now() - started) / 1000);
    await this.ctx.idempotency.complete(meta.id, revision);
    await this.receipts.send(meta, envelopeSha256);
    msg.ack();
    this.ctx.metrics.received.inc({ type: meta.type });
    this.ctx.logger.debug(
      { id: meta.id, type: meta.type, sender: meta.sender, seq: msg.info.streamSequence },
      'handled',
    );
  }

  /**
   * A handler that settled after a stop abandoned it: whatever it did, its outcome is not recorded, no
   * receipt goes out and the message is not acknowledged, so it is delivered again (to another instance,
   * or after the restart) once its ack wait and lease have expired. Returning early on the signal thus
   * loses nothing; a handler that finished its work late runs again, which one keyed by the message id
   * (as the service host's dossier steps are) absorbs.
   */
  private leaveAbandoned(meta: EnvelopeMeta, how: 'returned' | 'threw'): void {
    this.ctx.logger.warn(
      { id: meta.id, type: meta.type, how },
      'an abandoned handler ended after the stop: its message is left for another delivery',
    );
  }

  /**
   * The time an envelope's freshness is measured against: when the server stored it; for a replay of a
   * dead letter, when the server first stored those very bytes, as this recipient noted when it
   * dead-lettered them (the id read here unchecked only finds the note; the bytes must be the same).
   */
  private async firstStored(msg: JsMsg): Promise<Date> {
    const storedAt = new Date(Math.floor(msg.info.timestampNanos / 1_000_000));
    if (!msg.headers?.get(REPLAY_HEADER)) return storedAt;
    let id: unknown;
    try {
      id = (JSON.parse(new TextDecoder().decode(msg.data)) as { meta?: { id?: unknown } }).meta?.id;
    } catch {
      return storedAt; // the envelope checks refuse it
    }
    if (!isWellFormedMetaField('id', id)) return storedAt;
    const note = await this.ctx.idempotency.deadLetterNote(id as string);
    return note && note.envelopeSha256 === sha256Hex(msg.data) ? new Date(note.storedAt) : storedAt;
  }
}
