import type { EnvelopeMeta } from '@passerelle/envelope';
import { signCompact, verifyCompact } from '@passerelle/envelope';
import { RECEIPT_MAX_DELIVER, receiptConsumerName } from './consumers.js';
import type { ExchangeContext } from './context.js';
import { errorSummary } from './error-summary.js';
import { ExchangeError } from './exchange-error.js';
import type { Health } from './health.js';
import { publishWithRetry } from './publish.js';
import { runPullLoop } from './pull-loop.js';
import { RECEIPT_TYP, type ReceiptClaims, assertReceiptClaims } from './receipts.js';
import type { Rejector } from './rejection.js';
import { receiptSubject } from './subjects.js';
import type { Subscription } from './types.js';

/** The unverified payload of a compact JWS, to find the key that verifies it; a malformed one is refused. */
function decodeJwsPayload(jws: string): ReceiptClaims {
  const part = jws.split('.')[1] ?? '';
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new ExchangeError('ERR_RECEIPT_INVALID', 'The receipt payload is not JSON.', { cause });
  }
  const claims = payload as Partial<ReceiptClaims> | null;
  if (typeof claims?.receiver !== 'string' || typeof claims.receivedAt !== 'string') {
    throw new ExchangeError('ERR_RECEIPT_INVALID', 'The receipt names no receiver or time of receipt.');
  }
  return claims as ReceiptClaims;
}

/** A caller of {@link ReceiptDesk.awaitReceipt} waiting for one message's receipt. */
interface ReceiptWaiter {
  resolve(claims: ReceiptClaims): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Receipts, both ways: the signed receipt this participant sends for each message it handled, and the
 * receipts of what it sent — verified, recorded in its outbox, and handed to the callers waiting for them.
 */
export class ReceiptDesk {
  /** Callers of {@link awaitReceipt} by message id: settled by the receipt, their time-out or a stop. */
  private readonly waiters = new Map<string, Set<ReceiptWaiter>>();

  constructor(
    private readonly ctx: ExchangeContext,
    private readonly rejector: Rejector,
  ) {}

  /** Signs this participant's receipt of a message it handled and publishes it to the message's sender. */
  async send(meta: EnvelopeMeta, envelopeSha256: string): Promise<void> {
    const claims: ReceiptClaims = {
      messageId: meta.id,
      type: meta.type,
      dossierId: meta.dossierId,
      sender: meta.sender,
      receiver: this.ctx.participant,
      envelopeSha256,
      receivedAt: new Date().toISOString(),
      status: 'accepted',
    };
    const jws = await signCompact(
      claims,
      this.ctx.options.keys.signing,
      { typ: RECEIPT_TYP },
      this.ctx.provider,
    );
    await publishWithRetry(
      this.ctx.js,
      receiptSubject(this.ctx.participant, meta.sender),
      jws,
      { msgID: `rcpt-${meta.id}` },
      this.ctx.retry,
    );
  }

  /** Verifies a receipt's signature against the receiver's key valid at its `receivedAt`. */
  async verify(jws: string): Promise<ReceiptClaims> {
    let claimed: ReceiptClaims | undefined;
    const { payload } = await verifyCompact(
      jws,
      async (kid, header) => {
        // The receiver and time are read from the unverified payload only to find the key; the signature
        // check that follows is what makes them trustworthy.
        claimed = decodeJwsPayload(jws);
        if ((header as { typ?: string }).typ !== RECEIPT_TYP) {
          throw new ExchangeError('ERR_RECEIPT_INVALID', 'The receipt has the wrong JWS type.');
        }
        return this.ctx.options.directory.resolve(claimed.receiver, 'sig', new Date(claimed.receivedAt), kid);
      },
      this.ctx.provider,
    );
    const claims = payload as ReceiptClaims;
    if (!claimed || claims.messageId !== claimed.messageId) {
      throw new ExchangeError('ERR_RECEIPT_INVALID', 'The receipt payload changed during verification.');
    }
    // Receipts have a schema in the catalogue like every other message; and what the outbox records is
    // what the ledger accepts (exactly the claims of an accepted receipt, identifiers only).
    this.ctx.options.contracts.validate(
      'receipt',
      this.ctx.options.contracts.latestVersion('receipt'),
      claims,
    );
    return assertReceiptClaims(claims);
  }

  /**
   * Pulls this participant's receipts: each verified (signature, parties, subject) and attached to its sent
   * message in the outbox, settling the callers waiting for it; a refusal is dead-lettered.
   */
  consume(health: Health, subscriptions: Set<Subscription>): Subscription {
    const receipts = runPullLoop(this.ctx, {
      consumerName: receiptConsumerName(this.ctx.participant),
      concurrency: 64,
      maxDeliver: RECEIPT_MAX_DELIVER,
      health,
      subscriptions,
      process: async (msg, limit) => {
        const jws = new TextDecoder().decode(msg.data);
        let claims: ReceiptClaims;
        try {
          claims = await this.verify(jws);
          if (claims.sender !== this.ctx.participant) {
            throw new ExchangeError('ERR_RECEIPT_INVALID', `The receipt is addressed to ${claims.sender}.`);
          }
          if (msg.subject !== receiptSubject(claims.receiver, claims.sender)) {
            throw new ExchangeError(
              'ERR_RECEIPT_INVALID',
              `Subject ${msg.subject} does not match the receipt's parties.`,
            );
          }
        } catch (err) {
          // A refusal (bad signature, wrong parties, malformed) is final; anything else (a directory or
          // store time-out) is retried with backoff, and dead-lettered after `limit` deliveries.
          await this.rejector.reject(msg, err, { deliveryCount: msg.info.deliveryCount, maxDeliver: limit });
          return;
        }
        const outcome = await this.ctx.outbox.recordReceipt(claims, jws);
        if (outcome.kind !== 'recorded' && msg.info.deliveryCount < 5) {
          // the outbox record may still be on its way, or about to follow bytes sent again under its id
          msg.nak(250 * msg.info.deliveryCount);
          return;
        }
        if (outcome.kind !== 'recorded') {
          const why =
            outcome.kind === 'mismatch'
              ? `The receipt for ${claims.messageId} does not match the message sent: its ${outcome.field} differs.`
              : `The receipt names message ${claims.messageId}, which ${this.ctx.participant} never sent.`;
          await this.rejector.reject(msg, new ExchangeError('ERR_RECEIPT_INVALID', why), {
            deliveryCount: msg.info.deliveryCount,
            maxDeliver: 1,
          });
          return;
        }
        this.ctx.metrics.receiptsReceived.inc();
        msg.ack();
        this.settleWaiters(claims.messageId, (w) => w.resolve(claims));
      },
    });
    // the loop's end is this exchange's failure (readiness, onFailure), not an unhandled rejection
    receipts.closed.catch((err: unknown) =>
      this.ctx.logger.error({ err: errorSummary(err) }, 'the receipts loop ended'),
    );
    return receipts;
  }

  /** Settles every {@link awaitReceipt} caller of a message id. */
  settleWaiters(messageId: string, settle: (waiter: ReceiptWaiter) => void): void {
    const waiters = this.waiters.get(messageId);
    this.waiters.delete(messageId);
    for (const w of waiters ?? []) {
      clearTimeout(w.timer);
      settle(w);
    }
  }

  /**
   * Resolves with the verified receipt of a sent message, or fails with `ERR_RECEIPT_TIMEOUT`.
   *
   * @example
   * ```ts
   * const [sent] = await exchange.send('visa-issued', payload, { dossierId, to: 'immigration-office' });
   * const receipt = await exchange.awaitReceipt(sent.id, 10_000);
   * ```
   */
  async awaitReceipt(messageId: string, timeoutMs: number): Promise<ReceiptClaims> {
    if (this.ctx.retry.signal?.aborted) {
      throw new ExchangeError('ERR_EXCHANGE_CLOSED', `The exchange of ${this.ctx.participant} is closed.`, {
        details: { messageId },
      });
    }
    let waiter: ReceiptWaiter | undefined;
    const waiting = new Promise<ReceiptClaims>((resolve, reject) => {
      const set = this.waiters.get(messageId) ?? new Set<ReceiptWaiter>();
      const w: ReceiptWaiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(w);
          if (set.size === 0 && this.waiters.get(messageId) === set) this.waiters.delete(messageId);
          reject(
            new ExchangeError(
              'ERR_RECEIPT_TIMEOUT',
              `No receipt for message ${messageId} within ${timeoutMs} ms.`,
              { details: { messageId, timeoutMs } },
            ),
          );
        }, timeoutMs),
      };
      waiter = w;
      set.add(w);
      this.waiters.set(messageId, set);
    });
    // The time-out may fire while the outbox is read below, before the caller holds `waiting`: it is
    // handled here, and the caller still sees it when it awaits.
    waiting.catch(() => undefined);
    try {
      // The receipt may have arrived before the call.
      const record = await this.ctx.outbox.get(messageId);
      if (record?.receipt) {
        const claims = await this.verify(record.receipt.jws);
        this.settleWaiters(messageId, (w) => w.resolve(claims));
      }
    } catch (err) {
      // this caller gets the error; its waiter goes, so that no time-out rejects later with no one to see it
      const set = this.waiters.get(messageId);
      if (waiter) {
        clearTimeout(waiter.timer);
        set?.delete(waiter);
      }
      if (set?.size === 0) this.waiters.delete(messageId);
      throw err;
    }
    return waiting;
  }

  /** Rejects every waiting caller: the exchange stops, and no receipt is consumed any more. */
  rejectAll(): void {
    for (const messageId of [...this.waiters.keys()]) {
      this.settleWaiters(messageId, (w) =>
        w.reject(
          new ExchangeError(
            'ERR_EXCHANGE_CLOSED',
            `The exchange of ${this.ctx.participant} closed before the receipt of ${messageId} arrived.`,
            { details: { messageId } },
          ),
        ),
      );
    }
  }
}
