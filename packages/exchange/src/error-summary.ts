import { type ErrorCode, PasserelleError } from '@passerelle/errors';

/**
 * What may be logged of an error whose message could carry anything: its class, and its code when it is a
 * catalogue error (whose messages are free of personal data by construction).
 */
export function errorSummary(err: unknown): string {
  if (err instanceof PasserelleError) return `${err.name}(${err.code as ErrorCode})`;
  if (err instanceof Error) return err.name;
  return typeof err;
}
