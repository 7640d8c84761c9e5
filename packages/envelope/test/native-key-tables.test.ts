import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { createNodeCryptoProvider, isPublicJwk, nativeKeyTables } from '../src/index.js';
import { createKeyTableCache, type NativeKeyTable, type NativeKeyTables } from '../src/native-key-tables.js';
import { codeOf } from './fixtures.js';

const status = nativeKeyTables();

// CI (PASSERELLE_REQUIRE_NATIVE=1) builds the addon at install: there it must load, so that it is tested
test.runIf(process.env['PASSERELLE_REQUIRE_NATIVE'] === '1')(
  'native key tables - the addon built at install is loaded',
  () => {
    expect(status.available ? 'loaded' : status.reason).toBe('loaded');
  },
);

// P-256 in plain BigInt arithmetic: slow and obviously correct, to build the signatures that reach the
// rare cases of verification (which random signatures never do)
const p = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const b = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
const G = {
  x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
  y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
};
type Point = { x: bigint; y: bigint } | null; // null: the point at infinity
const mod = (a: bigint, m: bigint): bigint => ((a % m) + m) % m;
function power(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let x = mod(base, m);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * x) % m;
    x = (x * x) % m;
  }
  return result;
}
const inverse = (a: bigint, m: bigint): bigint => power(a, m - 2n, m);
function add(P: Point, Q: Point): Point {
  if (!P) return Q;
  if (!Q) return P;
  if (P.x === Q.x && mod(P.y + Q.y, p) === 0n) return null;
  const slope =
    P.x === Q.x
      ? mod(3n * P.x * P.x - 3n, p) * inverse(2n * P.y, p)
      : mod(Q.y - P.y, p) * inverse(Q.x - P.x, p);
  const x = mod(slope * slope - P.x - Q.x, p);
  return { x, y: mod(slope * (P.x - x) - P.y, p) };
}
function multiply(k: bigint, P: Point): Point {
  let result: Point = null;
  let addend = P;
  for (let e = mod(k, n); e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}
const hex32 = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
const encode = (P: { x: bigint; y: bigint }): Buffer =>
  Buffer.concat([Buffer.from([4]), hex32(P.x), hex32(P.y)]);
const digestOf = (data: Buffer): bigint => BigInt(`0x${createHash('sha256').update(data).digest('hex')}`);
const publicKeyOf = (point: Buffer): ReturnType<typeof createPublicKey> =>
  createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
const nodeVerifies = (point: Buffer, data: Buffer, signature: Buffer): boolean =>
  verify('sha256', data, { key: publicKeyOf(point), dsaEncoding: 'ieee-p1363' }, signature);

function keyPair(): {
  point: Buffer;
  privateKey: ReturnType<typeof createPrivateKey>;
  ecdh: ReturnType<typeof createECDH>;
} {
  const ecdh = createECDH('prime256v1');
  const point = ecdh.generateKeys();
  const d = ecdh.getPrivateKey();
  const privateKey = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
      d: Buffer.concat([Buffer.alloc(32 - d.length), d]).toString('base64url'),
    },
    format: 'jwk',
  });
  return { point, privateKey, ecdh };
}

describe.runIf(status.available)('native key tables', () => {
  const native = (status as { tables: NativeKeyTables }).tables;

  test('native key tables - every verification agrees with node:crypto: valid, tampered, high-s, out of range, random', async () => {
    let accepted = 0;
    let refused = 0;
    for (let k = 0; k < 12; k++) {
      const { point, privateKey } = keyPair();
      const table = native.key(point);
      for (let i = 0; i < 40; i++) {
        const data = randomBytes(i * 13);
        const signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const r = signature.subarray(0, 32);
        const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
        const flipped = Buffer.from(signature);
        flipped[i % 64]! ^= 1 << (i % 8);
        const variants = [
          signature,
          flipped,
          Buffer.concat([r, hex32(n - s)]), // the same signature with the other s: valid for both
          Buffer.concat([r, Buffer.alloc(32)]),
          Buffer.concat([Buffer.alloc(32), signature.subarray(32)]),
          Buffer.concat([hex32(n), signature.subarray(32)]),
          Buffer.concat([r, hex32(n)]),
          Buffer.concat([hex32(BigInt(`0x${r.toString('hex')}`) + n), signature.subarray(32)]).subarray(-64),
          Buffer.alloc(64, 0xff),
          randomBytes(64),
        ];
        for (const candidate of variants) {
          const expected = nodeVerifies(point, data, candidate);
          expect(native.verify(table, data, candidate)).toBe(expected);
          if (i % 8 === 0) expect(await native.verifyOnPool(table, data, candidate)).toBe(expected);
          if (expected) accepted++;
          else refused++;
        }
        expect(native.verify(table, Buffer.concat([data, Buffer.from([0])]), signature)).toBe(false);
        expect(native.verify(table, data, signature.subarray(0, 63))).toBe(false);
        if (i === 0) expect(await native.verifyOnPool(table, data, signature.subarray(0, 63))).toBe(false);
        expect(native.verify(native.key(keyPair().point), data, signature)).toBe(false);
      }
    }
    expect(accepted).toBe(12 * 40 * 2);
    expect(refused).toBe(12 * 40 * 8);
  });

  test('native key tables - the rare cases of verification agree with node:crypto (sum at infinity, a doubling, x(R) at or above n)', () => {
    const data = Buffer.from('a message whose signature reaches a rare case');
    const e = mod(digestOf(data), n);
    const s = 0x1234567890abcdefn;
    const check = (Q: Point, r: bigint, expected: boolean): void => {
      if (!Q) throw new Error('the key is infinity');
      const point = encode(Q);
      const signature = Buffer.concat([hex32(r), hex32(s)]);
      expect(nodeVerifies(point, data, signature)).toBe(expected);
      expect(native.verify(native.key(point), data, signature)).toBe(expected);
      // and one bit off is refused by both
      const other = Buffer.concat([hex32(r ^ 1n), hex32(s)]);
      expect([nodeVerifies(point, data, other), native.verify(native.key(point), data, other)]).toEqual([
        false,
        false,
      ]);
    };
    // (e/s) G + (r/s) Q = infinity when Q = -(e/r) G: no x to compare, refused
    const r1 = 0x42n;
    check(multiply(mod(-e * inverse(r1, n), n), G), r1, false);
    // (e/s) G = (r/s) Q when Q = (e/r) G: the sum is a doubling, 2 (e/s) G; r is its x
    const R2 = multiply(mod(2n * e * inverse(s, n), n), G)!;
    const r2 = mod(R2.x, n);
    check(multiply(mod(e * inverse(r2, n), n), G), r2, true);
    // x(R) in [n, p): r = x(R) - n is valid too. Take such an R on the curve, then the key that makes the
    // signature (r, s) land on it: Q = (R - (e/s) G) (s/r)
    let R3: Point = null;
    for (let x = n; !R3; x++) {
      const y2 = mod(x * x * x - 3n * x + b, p);
      const y = power(y2, (p + 1n) / 4n, p);
      if ((y * y) % p === y2) R3 = { x, y };
    }
    const r3 = R3.x - n;
    const Q3 = multiply(mod(s * inverse(r3, n), n), add(R3, multiply(mod(-e * inverse(s, n), n), G)));
    check(Q3, r3, true);
  });

  test('native key tables - Z of every ephemeral agreement is the one node:crypto computes, with a fresh key each time', () => {
    for (let k = 0; k < 8; k++) {
      const { point, ecdh } = keyPair();
      const table = native.key(point);
      const seen = new Set<string>();
      for (let i = 0; i < 25; i++) {
        const out = native.ephemeral(table);
        expect(out.length).toBe(97);
        const epk = out.subarray(0, 65);
        expect(ecdh.computeSecret(epk).equals(out.subarray(65))).toBe(true);
        seen.add(epk.toString('hex'));
      }
      expect(seen.size).toBe(25);
    }
  });

  test('native key tables - points that are not P-256 points and arguments of the wrong kind are refused', () => {
    const { point } = keyPair();
    const offCurve = Buffer.from(point);
    offCurve[64]! ^= 1;
    for (const [what, candidate] of [
      ['off the curve', offCurve],
      ['compressed', Buffer.concat([Buffer.from([2]), point.subarray(1, 33)])],
      ['infinity', Buffer.from([0])],
      ['too long', Buffer.concat([point, Buffer.from([0])])],
      ['coordinates above p', Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0xff)])],
      ['not a buffer', point.toString('hex')],
    ] as const) {
      expect([what, codeOf(() => native.key(candidate as Buffer))]).toEqual([what, 'ERR_P256_POINT']);
    }
    const call = native as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(codeOf(() => call['verify']!({}, Buffer.alloc(1), Buffer.alloc(64)))).toBe('ERR_P256_ARGUMENT');
    expect(codeOf(() => call['verify']!(native.key(point), 'data', Buffer.alloc(64)))).toBe(
      'ERR_P256_ARGUMENT',
    );
    expect(codeOf(() => call['verifyOnPool']!({}, Buffer.alloc(1), Buffer.alloc(64)))).toBe(
      'ERR_P256_ARGUMENT',
    );
    expect(codeOf(() => call['verifyOnPool']!(native.key(point), Buffer.alloc(1)))).toBe('ERR_P256_ARGUMENT');
    expect(codeOf(() => call['ephemeral']!(point))).toBe('ERR_P256_ARGUMENT');
    expect(codeOf(() => call['ephemeral']!())).toBe('ERR_P256_ARGUMENT');
  });

  test("native key tables - the cache builds a key's table at its nth use, keeps the most recently used, and skips a bad key", () => {
    const built: Buffer[] = [];
    const counting: NativeKeyTables = {
      key: (point) => {
        built.push(point);
        return native.key(point);
      },
      verify: (key, data, signature) => native.verify(key, data, signature),
      verifyOnPool: (key, data, signature) => native.verifyOnPool(key, data, signature),
      ephemeral: (key) => native.ephemeral(key),
    };
    const cache = createKeyTableCache(counting, 3, 2);
    const keys = [keyPair().point, keyPair().point, keyPair().point];
    const use = (i: number): NativeKeyTable | undefined => cache.lookup(`k${i}`, () => keys[i]!);
    expect([use(0), use(0)]).toEqual([undefined, undefined]);
    const first = use(0);
    expect(first).toBeDefined();
    expect(use(0)).toBe(first);
    expect(built).toHaveLength(1);
    for (let i = 0; i < 3; i++) use(1);
    use(0); // 0 is now the most recently used: 2 pushes 1 out
    for (let i = 0; i < 3; i++) use(2);
    expect(built).toHaveLength(3);
    expect(use(0)).toBe(first);
    expect(use(1)).toBeUndefined(); // counted again from the start
    // a point that is not on the curve: no table, and not tried again
    const bad = createKeyTableCache(counting, 1);
    const before = built.length;
    expect(bad.lookup('bad', () => Buffer.alloc(65, 4))).toBeUndefined();
    expect(bad.lookup('bad', () => Buffer.alloc(65, 4))).toBeUndefined();
    expect(built.length).toBe(before + 1);
  });

  test('native key tables - the provider verifies and encrypts with tables and interoperates with the provider without them', async () => {
    const withTables = createNodeCryptoProvider({ keyTables: 'native', signatures: 'inline' });
    const onPool = createNodeCryptoProvider({ keyTables: 'native', signatures: 'thread-pool' });
    const without = createNodeCryptoProvider({ keyTables: 'node' });
    const signer = keyPair();
    const jwk = signer.privateKey.export({ format: 'jwk' }) as { x: string; y: string; d: string };
    const privateJwk = { kty: 'EC' as const, crv: 'P-256' as const, kid: 'k1', x: jwk.x, y: jwk.y, d: jwk.d };
    const publicJwk = { kty: 'EC' as const, crv: 'P-256' as const, kid: 'k1', x: jwk.x, y: jwk.y };
    const payload = new TextEncoder().encode('{"a":1}');
    for (const [from, to] of [
      [withTables, without],
      [without, withTables],
      [withTables, withTables],
      [withTables, onPool],
      [onPool, without],
    ] as const) {
      const jws = await from.sign(payload, privateJwk);
      expect(await to.verify(jws, publicJwk)).toEqual(payload);
      const [h, body, sig] = jws.split('.') as [string, string, string];
      const other = Buffer.from(sig, 'base64url');
      other[5]! ^= 1;
      await expect(to.verify(`${h}.${body}.${other.toString('base64url')}`, publicJwk)).rejects.toThrow();
      const jwe = await from.encrypt(payload, publicJwk);
      expect(await to.decrypt(jwe, privateJwk)).toEqual(payload);
    }
    expect(withTables.name).toMatch(/key tables from the first use/);
  });
});

test('keys - coordinates are taken only in their one canonical spelling: two spellings cannot name one key, one cannot hide another', async () => {
  const { point, privateKey } = keyPair();
  const x = point.subarray(1, 33).toString('base64url');
  const y = point.subarray(33).toString('base64url');
  const negatedY = hex32(p - BigInt(`0x${point.subarray(33).toString('hex')}`)).toString('base64url');
  // decoders stop at '=' and skip '.': A decodes to -Q and B to Q, and `${x}.${y}` is the same string for both
  const a = { kty: 'EC' as const, crv: 'P-256' as const, kid: 'a', x: `${x}=`, y: `${negatedY}=.${y}` };
  const b = { kty: 'EC' as const, crv: 'P-256' as const, kid: 'b', x: `${x}=.${negatedY}=`, y };
  // the last character's two spare bits set: the same bytes, another string
  const last = x.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const spare = {
    kty: 'EC' as const,
    crv: 'P-256' as const,
    kid: 's',
    x: `${x.slice(0, -1)}${alphabet[alphabet.indexOf(last) | 1]}`,
    y,
  };
  expect(Buffer.from(spare.x, 'base64url').equals(point.subarray(1, 33))).toBe(true);
  const good = { kty: 'EC' as const, crv: 'P-256' as const, kid: 'q', x, y };
  expect(spare.x).not.toBe(x); // a 32-byte value's last character has its two low bits clear
  expect([isPublicJwk(a), isPublicJwk(b), isPublicJwk(spare), isPublicJwk(good)]).toEqual([
    false,
    false,
    false,
    true,
  ]);
  const providers = [createNodeCryptoProvider({ keyTables: 'node' })];
  if (status.available) providers.push(createNodeCryptoProvider({ keyTables: 'native' }));
  const signer = { ...good, d: (privateKey.export({ format: 'jwk' }) as { d: string }).d };
  for (const provider of providers) {
    const jws = await provider.sign(new TextEncoder().encode('{}'), signer);
    await expect(provider.verify(jws, good)).resolves.toBeDefined();
    // B first (which would have built the table of Q under the shared name), then A
    for (const jwk of [b, a, spare]) {
      await expect(provider.verify(jws, jwk)).rejects.toThrow(/canonical base64url/);
      await expect(provider.encrypt(new Uint8Array(1), jwk)).rejects.toThrow(/canonical base64url/);
    }
  }
});

test('createNodeCryptoProvider - keyTables native without the addon is a configuration error', () => {
  if (status.available) {
    expect(createNodeCryptoProvider({ keyTables: 'native' }).name).toMatch(/key tables/);
  } else {
    expect(() => createNodeCryptoProvider({ keyTables: 'native' })).toThrow(/key-table addon is unavailable/);
  }
});
