import { createHash } from 'node:crypto';

/** Hex SHA-256 of UTF-8 text or bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash every chain starts from (no entry before seq 1). */
export const GENESIS_HASH = '0'.repeat(64);
