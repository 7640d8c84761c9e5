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
  return formatUuid(b);
}

function formatUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A UUID v7 in its canonical lower-case form (what envelope `meta.id` must be). */
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A UUID v7 derived from another and a label, the same every time: the base id's millisecond timestamp,
 * then 74 bits of SHA-256 over both. The exchange gives each recipient's envelope of a message sent under a
 * stable id such an id, so that sending the message again reaches each recipient under the same id.
 *
 * @example
 * ```ts
 * deriveMessageId('0193a2b4-…', 'post-ankara'); // same input, same id
 * ```
 */
export function deriveMessageId(base: string, label: string): string {
  const b = createHash('sha256').update(`${base}\n${label}`).digest().subarray(0, 16);
  Buffer.from(base.slice(0, 8) + base.slice(9, 13), 'hex').copy(b, 0);
  b[6] = 0x70 | ((b[6] as number) & 0x0f);
  b[8] = 0x80 | ((b[8] as number) & 0x3f);
  return formatUuid(b);
}
