#!/usr/bin/env node
/**
 * Builds the P-256 agreement addon (`p256-agreement.c`) into `native/build/`, against the headers of the
 * Node.js that runs this script and the OpenSSL inside it, then loads it in a child process and checks its
 * agreements against `crypto.createECDH` before marking it usable (`built-for.json`). Run by
 * `pnpm install` (root `postinstall`).
 *
 * The addon is an optimisation, not a requirement: where there is no C compiler or no Node.js headers, or
 * the result does not pass the check, this prints why and exits 0, and the node-crypto provider does its
 * agreements with `crypto.createECDH` instead (same results, more CPU; BENCHMARKS.md). `--strict` makes
 * any of these exit 1 and turns compiler warnings into errors. Environment: `CC` (default `cc`),
 * `PASSERELLE_NODE_INCLUDE` (the directory holding `node_api.h` and `openssl/`; default
 * `<node prefix>/include/node`).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');
const source = join(here, 'p256-agreement.c');
const out = join(here, 'build');
const target = join(out, 'p256-agreement.node');
const marker = join(out, 'built-for.json');
const say = (message) => console.log(`native: ${message}`);

function giveUp(reason) {
  try {
    rmSync(marker, { force: true });
    rmSync(target, { force: true });
  } catch {
    // what is left cannot load without its marker
  }
  say(`${reason}; ECDH agreements will use node:crypto (slower, same results).`);
  process.exit(strict ? 1 : 0);
}

// Loaded in a child: a symbol missing from this Node.js must not take this process (or a test) down, and
// the addon must give the bytes node:crypto gives.
const CHECK = `
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
`;

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
  rmSync(marker, { force: true });
  const partial = `${target}.partial`;
  try {
    execFileSync(cc, [...ccArgs, ...flags, `-I${include}`, '-o', partial, source], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  } catch (err) {
    rmSync(partial, { force: true });
    giveUp(
      err.code === 'ENOENT'
        ? `no C compiler (${cc})`
        : `${cc} failed: ${String(err.stderr || err.message).trim()}`,
    );
  }
  renameSync(partial, target);
  try {
    execFileSync(process.execPath, ['-e', CHECK, target], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  } catch (err) {
    giveUp(
      `the built addon failed its check: ${
        String(err.stderr || err.message)
          .trim()
          .split('\n')[0]
      }`,
    );
  }
  // what the loader compares: the OpenSSL of this Node.js and the source the addon was built from
  const sourceSha256 = createHash('sha256').update(readFileSync(source)).digest('hex');
  writeFileSync(
    marker,
    `${JSON.stringify({ node: process.versions.node, openssl: process.versions.openssl, sourceSha256 })}\n`,
  );
  say(`built ${target} (Node.js ${process.versions.node}, OpenSSL ${process.versions.openssl})`);
} catch (err) {
  giveUp(`build failed: ${err instanceof Error ? err.message : String(err)}`);
}
