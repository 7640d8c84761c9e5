import { execFileSync } from 'node:child_process';
import { createECDH, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { createNodeCryptoProvider, nativeAgreement, toPublicJwk } from '../src/index.js';
import type { NativeAgreement } from '../src/native-agreement.js';
import { codeOf } from './fixtures.js';

const status = nativeAgreement();

// CI (PASSERELLE_REQUIRE_NATIVE=1) builds the addon at install: there it must load, so that it is tested
test.runIf(process.env['PASSERELLE_REQUIRE_NATIVE'] === '1')(
  'native agreement - the addon built at install is loaded',
  () => {
    expect(status.available ? 'loaded' : status.reason).toBe('loaded');
  },
);

function keyPair(): { d: Buffer; pub: Buffer; ecdh: ReturnType<typeof createECDH> } {
  const ecdh = createECDH('prime256v1');
  const pub = ecdh.generateKeys();
  // getPrivateKey drops leading zero bytes (one key in 256): the addon takes the 32-byte scalar
  const d = ecdh.getPrivateKey();
  return { d: Buffer.concat([Buffer.alloc(32 - d.length), d]), pub, ecdh };
}

describe.runIf(status.available)('native agreement', () => {
  const native = (status as { agreement: NativeAgreement }).agreement;

  test('native agreement - Z is the one node:crypto computes, both ways, for fresh key pairs', () => {
    for (let i = 0; i < 50; i++) {
      const recipient = keyPair();
      const out = native.ephemeral(recipient.pub);
      expect(out.length).toBe(97);
      const epk = out.subarray(0, 65);
      const z = out.subarray(65);
      expect(recipient.ecdh.computeSecret(epk).equals(z)).toBe(true);
      const key = native.privateKey(recipient.d, recipient.pub);
      expect(native.agree(key, epk).equals(z)).toBe(true);
      const other = keyPair();
      expect(native.agree(key, other.pub).equals(other.ecdh.computeSecret(recipient.pub))).toBe(true);
    }
  });

  test('native agreement - every ephemeral key is fresh', () => {
    const recipient = keyPair();
    const epks = new Set(
      Array.from({ length: 100 }, () => native.ephemeral(recipient.pub).subarray(0, 65).toString('hex')),
    );
    expect(epks.size).toBe(100);
  });

  test('native agreement - points that are not P-256 points are refused (invalid-curve attacks)', () => {
    const { d, pub } = keyPair();
    const key = native.privateKey(d, pub);
    const offCurve = Buffer.from(pub);
    offCurve[64] = offCurve[64]! ^ 1;
    const p = Buffer.from('ffffffff00000001000000000000000000000000ffffffffffffffffffffffff', 'hex');
    const bad: [string, Buffer][] = [
      ['off the curve', offCurve],
      ['compressed', Buffer.concat([Buffer.from([2]), pub.subarray(1, 33)])],
      ['too short', pub.subarray(0, 64)],
      ['too long', Buffer.concat([pub, Buffer.from([0])])],
      ['the point at infinity', Buffer.from([0])],
      ['zero coordinates', Buffer.concat([Buffer.from([4]), Buffer.alloc(64)])],
      ['x not below p', Buffer.concat([Buffer.from([4]), p, pub.subarray(33)])],
      ['wrong prefix', Buffer.concat([Buffer.from([6]), pub.subarray(1)])],
      ['random bytes', Buffer.concat([Buffer.from([4]), randomBytes(64)])],
    ];
    for (const [what, point] of bad) {
      expect([what, codeOf(() => native.agree(key, point))]).toEqual([what, 'ERR_P256_POINT']);
      expect([what, codeOf(() => native.ephemeral(point))]).toEqual([what, 'ERR_P256_POINT']);
      expect([what, codeOf(() => native.checkPoint(point))]).toEqual([what, 'ERR_P256_POINT']);
    }
    expect(codeOf(() => native.checkPoint(pub))).toBe('no error');
  });

  test('native agreement - a private key must be 32 bytes and match its public point', () => {
    const { d, pub } = keyPair();
    expect(codeOf(() => native.privateKey(keyPair().d, pub))).toBe('ERR_P256_KEY');
    expect(codeOf(() => native.privateKey(d.subarray(1), pub))).toBe('ERR_P256_KEY');
    expect(codeOf(() => native.privateKey(Buffer.alloc(32), pub))).toBe('ERR_P256_KEY');
    expect(codeOf(() => native.privateKey(d, keyPair().pub))).toBe('ERR_P256_KEY');
    // the message says what is wrong, never the key
    try {
      native.privateKey(d, keyPair().pub);
    } catch (err) {
      expect((err as Error).message).not.toContain(d.toString('hex'));
      expect((err as Error).message).not.toContain(d.toString('base64url'));
    }
  });

  test('native agreement - arguments of the wrong kind are refused, not read', () => {
    const { pub } = keyPair();
    const call = native as unknown as Record<string, (...args: unknown[]) => unknown>;
    expect(codeOf(() => call['agree']!({}, pub))).toBe('ERR_P256_ARGUMENT');
    expect(codeOf(() => call['agree']!(pub))).toBe('ERR_P256_ARGUMENT');
    expect(codeOf(() => call['ephemeral']!('04'))).toBe('ERR_P256_POINT');
    expect(codeOf(() => call['privateKey']!('d', pub))).toBe('ERR_P256_KEY');
  });
});

describe.runIf(status.available)('native agreement - loader', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const pkg = join(here, '..');

  /** The loader's verdict in a fresh process on a copy of the package's addon files, after `edit`. */
  function verdict(
    edit: (dir: string) => void,
    env: Record<string, string> = {},
  ): { available: boolean; reason?: string } {
    const dir = mkdtempSync(join(tmpdir(), 'pex-native-'));
    try {
      mkdirSync(join(dir, 'src'));
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
      for (const file of ['native-agreement.ts', 'native-addon.ts'])
        cpSync(join(pkg, 'src', file), join(dir, 'src', file));
      cpSync(join(pkg, 'native'), join(dir, 'native'), { recursive: true });
      edit(dir);
      const out = execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          '-e',
          `import(${JSON.stringify(join(dir, 'src', 'native-agreement.ts'))}).then((m) => { const s = m.nativeAgreement(); console.log(JSON.stringify({ available: s.available, reason: s.reason })); })`,
        ],
        { cwd: pkg, env: { ...process.env, PASSERELLE_NATIVE_CRYPTO: '', ...env }, encoding: 'utf8' },
      );
      return JSON.parse(out.trim().split('\n').pop()!) as { available: boolean; reason?: string };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('native agreement - the loader takes only a build of this source for this OpenSSL, and can be turned off', () => {
    expect(verdict(() => undefined)).toEqual({ available: true });
    expect(verdict(() => undefined, { PASSERELLE_NATIVE_CRYPTO: 'off' }).reason).toMatch(/turned off/);
    // the C source changed since the build (a pull without pnpm install): the old build is not used
    expect(
      verdict((dir) => appendFileSync(join(dir, 'native', 'p256-agreement.c'), '\n/* changed */\n')).reason,
    ).toMatch(/another version of p256-agreement\.c and napi-common\.h/);
    // so did the header both addons include
    expect(
      verdict((dir) => appendFileSync(join(dir, 'native', 'napi-common.h'), '\n/* changed */\n')).reason,
    ).toMatch(/another version of p256-agreement\.c and napi-common\.h/);
    const marker = (dir: string): string => join(dir, 'native', 'build', 'p256-agreement.built-for.json');
    expect(
      verdict((dir) => {
        const built = JSON.parse(readFileSync(marker(dir), 'utf8')) as Record<string, unknown>;
        writeFileSync(marker(dir), JSON.stringify({ ...built, openssl: '1.1.1w' }));
      }).reason,
    ).toMatch(/built for OpenSSL 1\.1\.1w/);
    expect(verdict((dir) => writeFileSync(marker(dir), 'null')).reason).toMatch(/not built/);
    expect(verdict((dir) => rmSync(marker(dir))).reason).toMatch(/not built/);
  });
});

test('native agreement - without a C compiler the build says so and leaves no addon, without failing the install', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pex-native-build-'));
  try {
    const native = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
    for (const file of ['p256-agreement.c', 'p256-fixed.c', 'napi-common.h', 'build.mjs'])
      cpSync(join(native, file), join(dir, file));
    const env = { ...process.env, CC: join(dir, 'no-such-compiler') };
    const out = execFileSync(process.execPath, [join(dir, 'build.mjs')], { env, encoding: 'utf8' });
    // (a machine without Node.js headers stops one step earlier, for that reason)
    expect(out).toMatch(
      /p256-agreement: (no C compiler|no Node\.js headers).*ECDH agreements will use node:crypto/,
    );
    expect(out).toMatch(
      /p256-fixed: (no C compiler|no Node\.js headers).*often-used keys will use node:crypto/,
    );
    expect(existsSync(join(dir, 'build', 'p256-agreement.built-for.json'))).toBe(false);
    expect(existsSync(join(dir, 'build', 'p256-fixed.built-for.json'))).toBe(false);
    // --strict (how CI or a packager insists on the addon) fails instead
    expect(() =>
      execFileSync(process.execPath, [join(dir, 'build.mjs'), '--strict'], { env, stdio: 'pipe' }),
    ).toThrow();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('node-crypto provider - a private JWK whose d lost its leading zero bytes still decrypts, both agreement ways', async () => {
  // one key in 256 has a leading zero byte; some encoders then write d in 31 bytes
  let ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  while (ecdh.getPrivateKey().length === 32) {
    ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
  }
  const pub = ecdh.getPublicKey();
  const b64 = (b: Buffer): string => b.toString('base64url');
  const jwk = {
    kty: 'EC' as const,
    crv: 'P-256' as const,
    kid: 'short-d',
    use: 'enc' as const,
    alg: 'ECDH-ES+A256KW' as const,
    x: b64(pub.subarray(1, 33)),
    y: b64(pub.subarray(33)),
    d: b64(ecdh.getPrivateKey()),
  };
  for (const provider of [createNodeCryptoProvider(), createNodeCryptoProvider({ agreement: 'node' })]) {
    const jwe = await provider.encrypt(new TextEncoder().encode('short d'), toPublicJwk(jwk));
    expect(Buffer.from(await provider.decrypt(jwe, jwk as never)).toString()).toBe('short d');
  }
});
