#!/usr/bin/env node
/**
 * Builds the P-256 agreement addon (`p256-agreement.c`) into `native/build/`, against the headers of the
 * Node.js that runs this script and the OpenSSL inside it. Run by `pnpm install` (root `postinstall`).
 *
 * The addon is an optimisation, not a requirement: where there is no C compiler or no Node.js headers, this
 * prints why and exits 0, and the node-crypto provider does its agreements with `crypto.createECDH`
 * instead (same results, about twice the CPU; BENCHMARKS.md). `--strict` makes a failed build exit 1.
 * Environment: `CC` (default `cc`), `PASSERELLE_NODE_INCLUDE` (the directory holding `node_api.h` and
 * `openssl/`; default `<node prefix>/include/node`).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const strict = process.argv.includes('--strict');
const out = join(here, 'build');
const target = join(out, 'p256-agreement.node');
const say = (message) => console.log(`native: ${message}`);

function giveUp(reason) {
  rmSync(target, { force: true });
  rmSync(join(out, 'built-for.json'), { force: true });
  say(`${reason}; ECDH agreements will use node:crypto (slower, same results).`);
  process.exit(strict ? 1 : 0);
}

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

const cc = process.env.CC || 'cc';
const flags = ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-fvisibility=hidden'];
// the symbols of Node-API and OpenSSL are the node binary's own, resolved when the addon is loaded
if (process.platform === 'darwin') flags.push('-undefined', 'dynamic_lookup');
mkdirSync(out, { recursive: true });
const partial = `${target}.partial`;
try {
  execFileSync(cc, [...flags, `-I${include}`, '-o', partial, join(here, 'p256-agreement.c')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
} catch (err) {
  rmSync(partial, { force: true });
  const detail =
    err.code === 'ENOENT'
      ? `no C compiler (${cc})`
      : `${cc} failed: ${String(err.stderr ?? err.message).trim()}`;
  giveUp(detail);
}
renameSync(partial, target);
// the OpenSSL the addon was compiled against: the loader refuses it under any other
writeFileSync(
  join(out, 'built-for.json'),
  `${JSON.stringify({ node: process.versions.node, openssl: process.versions.openssl, napi: process.versions.napi })}\n`,
);
say(`built ${target} (Node.js ${process.versions.node}, OpenSSL ${process.versions.openssl})`);
