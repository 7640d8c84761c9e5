/**
 * Envelopes stored on EXCHANGE again after their receipt was recorded: a new copy (a new stream sequence),
 * not a redelivery of the first one. A recipient's idempotency record is what keeps it from handling a
 * copy twice; one that was deleted (by whoever controls the server) lets a re-published envelope through
 * within the freshness window, and this is where that loss shows.
 *
 * Copies are told apart by time: the first copy was stored before its recipient received it, so before the
 * receipt was recorded; a copy the server stored after that is a new one. The two clocks compared are the
 * server's (storage) and the auditor's (recording): `clockSkewMs` is how far they may disagree, and a copy
 * stored within it after the receipt's recording is not told from the first.
 */
export class ReplayWatch {
  readonly #clockSkewMs: number;
  readonly #byRecipient = new Map<string, number>();

  constructor(options: { clockSkewMs?: number } = {}) {
    this.#clockSkewMs = options.clockSkewMs ?? DEFAULT_REPLAY_CLOCK_SKEW_MS;
  }

  /** Whether a copy the server stored at `storedAt` came after the receipt recorded at `receiptRecordedAt`. */
  isStoredAgain(storedAt: Date, receiptRecordedAt: Date): boolean {
    return storedAt.getTime() > receiptRecordedAt.getTime() + this.#clockSkewMs;
  }

  /** Counts one envelope to `recipient` stored again. */
  note(recipient: string): void {
    this.#byRecipient.set(recipient, (this.#byRecipient.get(recipient) ?? 0) + 1);
  }

  /** Envelopes stored again since the start, by recipient. */
  get byRecipient(): ReadonlyMap<string, number> {
    return this.#byRecipient;
  }
}

/** How far the server's and the auditor's clocks may disagree by default (ms). */
export const DEFAULT_REPLAY_CLOCK_SKEW_MS = 1_000;
