/**
 * A refusal the viewer answers with its status and a sentence for the page (never request data), and the
 * headers it needs (`Retry-After` on a 429).
 *
 * @example
 * ```ts
 * throw new HttpProblem(404, 'No message with this id is in the ledger.');
 * ```
 */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}
