import { PasserelleError } from '@passerelle/errors';

/** Codes a {@link DirectoryError} carries. */
export type DirectoryErrorCode =
  | 'ERR_DIRECTORY_ENTRY_INVALID'
  | 'ERR_DIRECTORY_ROLLBACK'
  | 'ERR_DIRECTORY_FILE_INVALID'
  | 'ERR_KEY_FILE_INVALID';

/**
 * A directory entry, export file or key file that cannot be trusted or read. Messages name the
 * participant or the file, never key material.
 *
 * @example
 * ```ts
 * if (err instanceof DirectoryError && err.code === 'ERR_DIRECTORY_ENTRY_INVALID') alert(err.message);
 * ```
 */
export class DirectoryError extends PasserelleError<DirectoryErrorCode> {}
