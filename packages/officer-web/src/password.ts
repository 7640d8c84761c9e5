import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * scrypt's cost (N = 2^15, r = 8, p = 1: OWASP's minimum for scrypt, about 32 MiB and some tens of
 * milliseconds per hash), kept in each hash so that raising it later leaves older hashes readable.
 */
const COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
const PREFIX = 'scrypt';
/** The form of a stored hash: `scrypt$N=…,r=…,p=…$<salt>$<key>`, salt and key in base64url. */
const STORED = /^scrypt\$N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{43})$/;

function derive(password: string, salt: Buffer, cost: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_LENGTH,
      { ...cost, maxmem: 256 * cost.N * cost.r },
      (err, key) => (err ? reject(err) : resolve(key)),
    ),
  );
}

/**
 * A password's scrypt hash (node:crypto) with a random salt, in the self-describing form the accounts file
 * keeps. The password is NFC-normalised first, so that the same characters typed on two keyboards match.
 *
 * @example
 * ```ts
 * const stored = await hashPassword('correct horse battery staple');
 * await verifyPassword('correct horse battery staple', stored); // true
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await derive(password, salt, COST);
  return `${PREFIX}$N=${COST.N},r=${COST.r},p=${COST.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** Whether `stored` has the form {@link hashPassword} writes. */
export function isPasswordHash(stored: unknown): stored is string {
  return typeof stored === 'string' && STORED.test(stored);
}

/**
 * Whether `password` matches `stored`, compared in constant time. A malformed `stored` never matches, but
 * costs a hash all the same: the answer's timing does not tell an unknown account from a wrong password.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const m = stored === undefined ? null : STORED.exec(stored);
  if (!m) {
    await derive(password, Buffer.alloc(SALT_LENGTH), COST);
    return false;
  }
  const cost = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const expected = Buffer.from(m[5]!, 'base64url');
  // a cost scrypt refuses (N not a power of two) is a malformed hash: no match
  const key = await derive(password, Buffer.from(m[4]!, 'base64url'), cost).catch(() => undefined);
  return key !== undefined && key.length === expected.length && timingSafeEqual(key, expected);
}
