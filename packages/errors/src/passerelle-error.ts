import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

/**
 * Base class of every error Passerelle throws on purpose. `code` is stable and listed in
 * {@link ERROR_CATALOGUE}; `message` is for people and never carries personal data or key material.
 *
 * @example
 * ```ts
 * try { … } catch (err) {
 *   if (err instanceof PasserelleError && err.code === 'ERR_SEAL_INVALID') deadLetter(err);
 * }
 * ```
 */
export class PasserelleError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  /** Extra machine-readable facts (paths, ids); never personal data. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: C, message: string, options?: ErrorOptions & { details?: Record<string, unknown> }) {
    super(message, options);
    this.name = this.constructor.name;
    this.code = code;
    this.details = options?.details;
  }

  /** Whether retrying the same input can succeed (from the catalogue). */
  get retryable(): boolean {
    return ERROR_CATALOGUE[this.code].retryable;
  }

  /** A JSON form safe to log or to store with a dead letter. */
  toJSON(): { name: string; code: C; message: string; details?: Readonly<Record<string, unknown>> } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Whether `err` is a {@link PasserelleError}, optionally of one code. */
export function isPasserelleError<C extends ErrorCode>(err: unknown, code?: C): err is PasserelleError<C> {
  return err instanceof PasserelleError && (code === undefined || err.code === code);
}
