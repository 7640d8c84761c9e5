/**
 * Envelopes recorded without their recipient's receipt yet, to count those past a deadline. It holds an id
 * and a time per envelope in flight (at most `capacity`; beyond, the oldest are let go and counted), so the
 * auditor's memory follows the traffic waiting for receipts, not the ledger's history.
 */
export class ReceiptWatch {
  readonly #deadlineMs: number;
  readonly #capacity: number;
  // insertion order is recording order: the oldest first
  readonly #waiting = new Map<string, number>();
  readonly #early = new Set<string>();
  #dropped = 0;

  constructor(options: { deadlineMs: number; capacity?: number }) {
    this.#deadlineMs = options.deadlineMs;
    this.#capacity = options.capacity ?? 100_000;
  }

  /** An envelope `messageId` was recorded at `at` (ms since the epoch). */
  envelope(messageId: string, at: number): void {
    // a receipt may be recorded before its envelope: the two come on different subjects
    if (this.#early.delete(messageId)) return;
    this.#waiting.set(messageId, at);
    if (this.#waiting.size > this.#capacity) {
      this.#waiting.delete(this.#waiting.keys().next().value as string);
      this.#dropped++;
    }
  }

  /** The receipt of `messageId` was recorded. */
  receipt(messageId: string): void {
    if (this.#waiting.delete(messageId)) return;
    this.#early.add(messageId);
    if (this.#early.size > this.#capacity) this.#early.delete(this.#early.values().next().value as string);
  }

  /** Envelopes whose receipt is more than the deadline late at `now`. */
  overdue(now: number): number {
    let n = 0;
    for (const at of this.#waiting.values()) {
      if (now - at <= this.#deadlineMs) break;
      n++;
    }
    return n;
  }

  /** Envelopes waiting for a receipt. */
  get waiting(): number {
    return this.#waiting.size;
  }

  /** Envelopes let go unreceipted because more than `capacity` were waiting. */
  get dropped(): number {
    return this.#dropped;
  }
}
