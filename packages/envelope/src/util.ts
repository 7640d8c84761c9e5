import { createHash, randomBytes } from 'node:crypto';

/**
 * SHA-256 of `data` (UTF-8 for strings) as lower-case hex.
 *
 * @example
 * ```ts
 * sha256Hex(envelope.jwe); // what the seal covers
 * ```
 */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

let lastMs = 0;
let seq = 0;

/**
 * A new UUID v7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter so ids minted in the same
 * millisecond by this process stay ordered, then 62 random bits.
 *
 * @example
 * ```ts
 * const id = newMessageId(); // '0193…-7…'
 * ```
 */
export function newMessageId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = randomBytes(2).readUInt16BE(0) & 0x1ff; // random start, room to count up
  } else {
    seq++;
    if (seq > 0xfff) {
      lastMs++;
      seq = 0;
    }
  }
  const b = randomBytes(16);
  const ms = lastMs;
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | ((seq >> 8) & 0x0f);
  b[7] = seq & 0xff;
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
