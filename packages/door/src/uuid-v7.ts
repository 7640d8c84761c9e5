import { randomBytes } from 'node:crypto';

/**
 * A UUID v7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then random bits. A run id made this way can
 * serve as the base of an exchange message id (which must be a UUID v7) and sorts by creation time.
 */
export function uuidV7(at: Date = new Date()): string {
  const b = randomBytes(16);
  b.writeUIntBE(Math.max(0, Math.floor(at.getTime())), 0, 6);
  b[6] = 0x70 | ((b[6] as number) & 0x0f);
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
