import { JetStreamApiError } from '@nats-io/jetstream';
import type { ExchangeContext } from './context.js';
import { errorSummary } from './error-summary.js';
import { JetStreamApiCodes, StreamNames } from './streams.js';
import type { Readiness } from './types.js';

/**
 * Whether an exchange can work: its readiness for a probe, and its failure — a connection closed for good or
 * a pull loop ended without a stop — reported once to its listeners, so that a process can stop and be
 * started again by its supervisor.
 */
export class Health {
  /** Consumers whose pull loop ended without being asked to. */
  private readonly loopsEnded = new Set<string>();
  private readonly listeners = new Set<(reason: string) => void>();
  private reported = false;
  /** Set as a stop begins: not ready, and no failure, from then on. */
  stopping = false;

  constructor(
    private readonly ctx: ExchangeContext,
    /** The consumers this exchange pulls from now (its receipts, and its inbox while subscribed). */
    private readonly pulled: () => string[],
  ) {
    void ctx.nc.closed().then(() => this.report());
  }

  /** A pull loop on `consumer` starts (again): whatever ended before is over. */
  loopStarted(consumer: string): void {
    this.loopsEnded.delete(consumer);
  }

  /** A pull loop ended by itself (`failed`) or because it was stopped. */
  loopEnded(consumer: string, failed: boolean): void {
    if (failed) {
      this.loopsEnded.add(consumer);
      this.report();
    } else {
      this.loopsEnded.delete(consumer);
    }
  }

  /** Calls `listener` once, with the reason, when the exchange can no longer work. */
  onFailure(listener: (reason: string) => void): () => void {
    this.listeners.add(listener);
    // failed already, before this listener came (e.g. while its owner was still starting): told at once
    if (this.reported) {
      queueMicrotask(() => {
        const reason = this.failure();
        if (reason !== undefined && this.listeners.has(listener)) this.tell(listener, reason);
      });
    }
    return () => this.listeners.delete(listener);
  }

  private report(): void {
    const reason = this.failure();
    if (reason === undefined || this.reported) return;
    this.reported = true;
    this.ctx.logger.error({ reason }, 'the exchange can no longer work');
    for (const listener of this.listeners) this.tell(listener, reason);
  }

  private tell(listener: (reason: string) => void, reason: string): void {
    try {
      listener(reason);
    } catch (err) {
      this.ctx.logger.error({ err: errorSummary(err) }, 'a failure listener threw');
    }
  }

  /**
   * Why the exchange can no longer work and will not recover by itself, without having been stopped: its
   * connection closed (its reconnection attempts ran out, or its owner closed it), or one of its pull loops
   * ended; `undefined` while it works or once a stop began.
   */
  failure(): string | undefined {
    if (this.stopping || this.ctx.retry.signal?.aborted) return undefined;
    if (this.ctx.nc.isClosed()) return 'connection closed';
    const ended = [...this.loopsEnded][0];
    return ended ? `consumer ${ended} is no longer pulled` : undefined;
  }

  /**
   * Not stopped, its connection open and connected, and JetStream answering within `timeoutMs` for the
   * consumers it pulls from, whose loops still run. Never throws: a failing part is the `reason`, one of a
   * few fixed phrases (never a message, a dossier or a person).
   */
  async readiness(timeoutMs: number): Promise<Readiness> {
    const { participant, nc, jsm } = this.ctx;
    const notReady = (reason: string): Readiness => ({ participant, ready: false, reason });
    if (this.ctx.retry.signal?.aborted) return notReady('exchange stopped');
    if (this.stopping) return notReady('exchange stopping');
    const failure = this.failure();
    if (failure) return notReady(failure);
    const consumers = this.pulled();
    const probe = async (): Promise<string | undefined> => {
      try {
        // fails at once while the client is disconnected (a request would wait for the reconnection)
        await nc.rtt();
      } catch {
        return 'not connected to NATS';
      }
      for (const consumer of consumers) {
        try {
          await jsm.consumers.info(StreamNames.exchange, consumer);
        } catch (err) {
          if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)
            return `consumer ${consumer} not found`;
          return `JetStream did not answer for consumer ${consumer}`;
        }
      }
      return undefined;
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`JetStream did not answer within ${timeoutMs} ms`), timeoutMs);
    });
    try {
      const reason = await Promise.race([probe(), late]);
      return reason === undefined ? { participant, ready: true } : notReady(reason);
    } finally {
      clearTimeout(timer);
    }
  }
}
