import type { JsMsg } from '@nats-io/jetstream';
import { sha256Hex } from '@passerelle/envelope/internal';
import { isPasserelleError } from '@passerelle/errors';
import { DEFAULT_BACKOFF_MS, backoffDelay } from './consumers.js';
import type { ExchangeContext } from './context.js';
import { writeDeadLetter } from './dead-letters.js';
import { errorSummary } from './error-summary.js';
import { Subjects } from './streams.js';
import type { RejectionListener } from './types.js';

/** How one delivery is rejected. */
export interface Rejecting {
  deliveryCount: number;
  maxDeliver: number;
  /** The id of the message, once its envelope opened. */
  messageId?: string;
  /** The handler threw (rather than the checks before it). */
  fromHandler?: boolean;
  /** When the server first stored the message's bytes (an inbox message). */
  firstStored?: Date;
}

/**
 * Deliveries without an outcome (no handler result: a process that stopped, a store that failed), as a
 * multiple of `maxDeliver`, after which a message is dead-lettered as `ERR_DELIVERIES_EXHAUSTED`.
 */
export const EXHAUSTED_AFTER = 2;

/** Whether a failed delivery is tried again (nak with backoff) rather than dead-lettered. */
function retries(err: unknown, deliveryCount: number, maxDeliver: number): boolean {
  const retryable = isPasserelleError(err) ? err.retryable : true;
  return retryable && deliveryCount < maxDeliver;
}

/**
 * Rejects deliveries: a retry with backoff while one can still succeed, otherwise the raw message kept in
 * DEADLETTER with its code and reason, then terminated; listeners hear of each dead letter.
 */
export class Rejector {
  private readonly listeners = new Set<RejectionListener>();

  constructor(private readonly ctx: ExchangeContext) {}

  /**
   * What is left of an envelope's retention (its type's `retentionDays`, from when the server first stored
   * it): its dead letter goes then, as the original does from EXCHANGE. Receipts and subjects naming no
   * known type have none (DEADLETTER's age limit applies).
   */
  private retentionLeft(msg: JsMsg): number | undefined {
    if (!msg.subject.startsWith(`${Subjects.message}.`)) return undefined;
    const type = msg.subject.split('.')[2] ?? '';
    let days: number;
    try {
      days = this.ctx.options.contracts.retentionDays(type);
    } catch {
      return undefined;
    }
    const storedAt = Math.floor(msg.info.timestampNanos / 1_000_000);
    return storedAt + days * 86_400_000 - Date.now();
  }

  /** Calls `listener` for every message dead-lettered. */
  listen(listener: RejectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Dead-letters at once for a permanent error or after the last delivery; otherwise naks with backoff
   * ({@link retries}). Of a dead-lettered message it opened, the recipient notes the bytes and when they
   * were first stored, for its replay ({@link IdempotencyStore.noteDeadLetter}).
   */
  async reject(msg: JsMsg, err: unknown, how: Rejecting): Promise<void> {
    const { deliveryCount, maxDeliver, messageId, fromHandler = false } = how;
    const typed = isPasserelleError(err);
    if (retries(err, deliveryCount, maxDeliver)) {
      const delay = backoffDelay(deliveryCount, this.ctx.options.consumer?.backoffMs ?? DEFAULT_BACKOFF_MS);
      this.ctx.logger.warn(
        { code: typed ? err.code : undefined, seq: msg.info.streamSequence, deliveryCount, delay },
        'will retry',
      );
      msg.nak(delay);
      return;
    }
    const code: string = typed ? err.code : fromHandler ? 'ERR_HANDLER_FAILED' : 'ERR_INTERNAL';
    // Only catalogue messages are free of personal data by construction; a foreign error keeps its class name.
    const reason = typed
      ? err.message
      : `${fromHandler ? 'handler' : 'processing'} threw ${errorSummary(err)} on delivery ${deliveryCount} of ${maxDeliver}`;
    const ttlMs = this.retentionLeft(msg);
    await writeDeadLetter(this.ctx.js, msg.data, {
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      participant: this.ctx.participant,
      code,
      reason,
      originalSubject: msg.subject,
      originalSeq: msg.info.streamSequence,
      deliveries: deliveryCount,
      ...(messageId ? { messageId } : {}),
    });
    if (messageId && how.firstStored && msg.subject.startsWith(`${Subjects.message}.`)) {
      await this.ctx.idempotency.noteDeadLetter(messageId, sha256Hex(msg.data), how.firstStored);
    }
    // the reason reaches the server's MSG_TERMINATED advisory: operators' tooling sees the code too
    msg.term(code);
    this.ctx.metrics.rejected.inc({ code });
    this.ctx.logger.warn(
      { code, seq: msg.info.streamSequence, subject: msg.subject, messageId },
      'dead-lettered',
    );
    for (const listener of this.listeners) {
      listener({ code, reason, subject: msg.subject, ...(messageId ? { messageId } : {}) });
    }
  }
}
