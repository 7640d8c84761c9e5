#!/usr/bin/env node
/**
 * Builds the two P-256 addons into `native/build/`, against the headers of the Node.js that runs this script
 * and the OpenSSL inside it, then loads each in a child process and checks its results against node:crypto
 * before marking it usable (`build/<name>.built-for.json`). Run by `pnpm install` (root `postinstall`).
 * - `p256-agreement.c`: ECDH agreements without Node's key-pair check on every call (public OpenSSL API).
 * - `p256-fixed.c`: verifications and agreements with keys used again and again, through a table of the
 *   key's multiples (OpenSSL's P-256 assembly, which the node binary exports on x86-64 and arm64).
 *
 * The addons are optimisations, not requirements: where there is no C compiler or no Node.js headers, or an
 * addon does not build or does not pass its check, this prints why and exits 0, and the node-crypto provider
 * does that work with node:crypto instead (same results, more CPU; BENCHMARKS.md). `--strict` makes any of
 * these exit 1 and turns compiler warnings into errors. Environment: `CC` (default `cc`),
 * `PASSERELLE_NODE_INCLUDE` (the directory holding `node_api.h` and `openssl/`; default
 * `<node prefix>/include/node`).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');
const out = join(here, 'build');
const say = (message) => console.log(`native: ${message}`);

// Each addon is loaded in a child: a symbol missing from this Node.js must not take this process (or a
// test) down, and the addon must give the results node:crypto gives.
const ADDONS = [
  {
    name: 'p256-agreement',
    without: 'ECDH agreements will use node:crypto (slower, same results)',
    check: `
const { createECDH } = require('node:crypto');
const native = require(process.argv[1]);
for (let i = 0; i < 16; i++) {
  const r = createECDH('prime256v1');
  const pub = r.generateKeys();
  const out = native.ephemeral(pub);
  if (!r.computeSecret(out.subarray(0, 65)).equals(out.subarray(65))) throw new Error('ephemeral Z differs');
  const d = r.getPrivateKey(); // leading zero bytes dropped: the addon takes 32
  const key = native.privateKey(Buffer.concat([Buffer.alloc(32 - d.length), d]), pub);
  const o = createECDH('prime256v1');
  if (!native.agree(key, o.generateKeys()).equals(o.computeSecret(pub))) throw new Error('agree Z differs');
}
let refused = false;
try { native.checkPoint(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)])); } catch { refused = true; }
if (!refused) throw new Error('a point off the curve was accepted');
`,
  },
  {
    name: 'p256-fixed',
    without: 'verifications and agreements with often-used keys will use node:crypto (slower, same results)',
    check: `
const { createECDH, createPrivateKey, randomBytes, sign, verify } = require('node:crypto');
const native = require(process.argv[1]);
for (let i = 0; i < 8; i++) {
  const r = createECDH('prime256v1');
  const pub = r.generateKeys();
  const key = native.key(pub);
  for (let j = 0; j < 8; j++) {
    const out = native.ephemeral(key);
    if (!r.computeSecret(out.subarray(0, 65)).equals(out.subarray(65))) throw new Error('ephemeral Z differs');
  }
  const d = r.getPrivateKey(); // leading zero bytes dropped: JWK spells 32
  const b64 = (b) => b.toString('base64url');
  const jwk = { kty: 'EC', crv: 'P-256', x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33)), d: b64(Buffer.concat([Buffer.alloc(32 - d.length), d])) };
  const priv = createPrivateKey({ key: jwk, format: 'jwk' });
  for (let j = 0; j < 32; j++) {
    const data = randomBytes(j * 5);
    const sig = sign('sha256', data, { key: priv, dsaEncoding: 'ieee-p1363' });
    if (j % 2) sig[j] ^= 1;
    const expected = verify('sha256', data, { key: priv, dsaEncoding: 'ieee-p1363' }, sig);
    if (native.verify(key, data, sig) !== expected) throw new Error('verification differs');
  }
}
let refused = false;
try { native.key(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)])); } catch { refused = true; }
if (!refused) throw new Error('a point off the curve was accepted');
`,
  },
];

/** Builds and checks one addon; the reason it is not usable, or undefined. */
function buildAddon({ name, check }, cc, ccArgs, flags, include) {
  const source = join(here, `${name}.c`);
  const target = join(out, `${name}.node`);
  const marker = join(out, `${name}.built-for.json`);
  rmSync(marker, { force: true });
  const partial = `${target}.partial`;
  try {
    execFileSync(cc, [...ccArgs, ...flags, `-I${include}`, '-o', partial, source], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  } catch (err) {
    rmSync(partial, { force: true });
    rmSync(target, { force: true });
    return err.code === 'ENOENT'
      ? `no C compiler (${cc})`
      : `${cc} failed: ${String(err.stderr || err.message).trim()}`;
  }
  renameSync(partial, target);
  try {
    execFileSync(process.execPath, ['-e', check, target], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } catch (err) {
    rmSync(target, { force: true });
    return `the built addon failed its check: ${
      String(err.stderr || err.message)
        .trim()
        .split('\n')[0]
    }`;
  }
  // what the loader compares: the OpenSSL of this Node.js and the sources the addon was built from (its C
  // file, then every header beside it in name order, hashed one after the other, as the loader does)
  const sources = [
    `${name}.c`,
    ...readdirSync(here)
      .filter((f) => f.endsWith('.h'))
      .sort(),
  ];
  const hash = createHash('sha256');
  for (const file of sources) hash.update(readFileSync(join(here, file)));
  const sourceSha256 = hash.digest('hex');
  writeFileSync(
    marker,
    `${JSON.stringify({ node: process.versions.node, openssl: process.versions.openssl, sources, sourceSha256 })}\n`,
  );
  say(`built ${target} (Node.js ${process.versions.node}, OpenSSL ${process.versions.openssl})`);
  return undefined;
}

/** Says why no addon is built, removes what an earlier build left, and stops. */
function giveUp(reason) {
  for (const { name, without } of ADDONS) {
    rmSync(join(out, `${name}.built-for.json`), { force: true });
    rmSync(join(out, `${name}.node`), { force: true });
    say(`${name}: ${reason}; ${without}.`);
  }
  process.exit(strict ? 1 : 0);
}

try {
  if (process.platform === 'win32') giveUp('no build for Windows');
  const includeCandidates = [
    process.env.PASSERELLE_NODE_INCLUDE,
    join(dirname(dirname(process.execPath)), 'include', 'node'),
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  ].filter(Boolean);
  const include = includeCandidates.find(
    (dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'openssl', 'ec.h')),
  );
  if (!include) giveUp(`no Node.js headers with OpenSSL found (looked in ${includeCandidates.join(', ')})`);

  // CC may carry arguments ("ccache gcc")
  const [cc, ...ccArgs] = (process.env.CC || 'cc').trim().split(/\s+/);
  const flags = ['-O2', '-Wall', '-Wextra', '-shared', '-fPIC', '-fvisibility=hidden'];
  if (strict) flags.push('-Werror');
  // the symbols of Node-API and OpenSSL are the node binary's own, resolved when the addon is loaded: all
  // of them at once (-z now), so that one this Node.js lacks fails the load, not a later call
  if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
  else flags.push('-Wl,-z,now');
  mkdirSync(out, { recursive: true });
  let failed = 0;
  for (const addon of ADDONS) {
    const reason = buildAddon(addon, cc, ccArgs, flags, include);
    if (reason !== undefined) {
      failed++;
      say(`${addon.name}: ${reason}; ${addon.without}.`);
    }
  }
  if (failed > 0 && strict) process.exit(1);
} catch (err) {
  giveUp(`build failed: ${err instanceof Error ? err.message : String(err)}`);
}
