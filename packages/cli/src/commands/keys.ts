import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { join } from 'node:path';
import {
  KEY_FILES,
  ensureStorageKeys,
  loadParticipantKeys,
  loadPublicKeysFile,
  loadStorageKeys,
  participantKind,
  retireStorageKey,
  rotateStorageKey,
  writeAnchor,
  writeParticipantKeys,
} from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';
import { generateParticipantKeys, toPublicJwk } from '@passerelle/envelope';

/** Options of `passerelle keys generate`. */
export interface KeysGenerateOptions {
  out: string;
  notBefore?: string;
  notAfter?: string;
  force?: boolean;
}

/**
 * `passerelle keys generate <participant> --out <dir>`: a signing and an encryption key pair (EC P-256),
 * `private.json` written 0600 and `public.json` for `directory publish`, and the storage keyring
 * `storage.json` (0600) when the folder has none (`--force` replaces the key pairs, never the storage
 * keys: the records sealed under them stay readable). Prints paths and kids only.
 */
export async function keysGenerate(
  participant: string,
  opts: KeysGenerateOptions,
): Promise<{ privatePath: string; publicPath: string; storagePath: string; kids: string[] }> {
  participantKind(participant); // refuses a malformed id before any key is made
  const validity: { notBefore?: string; notAfter?: string } = {};
  if (opts.notBefore) validity.notBefore = new Date(opts.notBefore).toISOString();
  if (opts.notAfter) validity.notAfter = new Date(opts.notAfter).toISOString();
  const keys = await generateParticipantKeys(participant, validity);
  const paths = await writeParticipantKeys(resolve(opts.out), keys, { force: opts.force ?? false });
  return { ...paths, kids: [keys.signing.kid, ...keys.encryption.map((k) => k.kid)] };
}

/**
 * `passerelle keys signing <dir> --out <file> [--public]`: the signing key of a participant's key folder
 * alone, as one JWK — private (mode 0600, e.g. the auditor's `PASSERELLE_AUDITOR_KEY`, which refuses a file
 * that also holds encryption keys) or, with `--public`, its public half (`--auditor-key` of `audit verify`
 * and `audit check-proof`). Never overwrites a file. Returns the path and the kid.
 */
export async function keysSigning(
  dir: string,
  opts: { out: string; public?: boolean },
): Promise<{ path: string; kid: string }> {
  const { signing } = await loadParticipantKeys(resolve(dir));
  const jwk = opts.public ? toPublicJwk(signing) : signing;
  const path = resolve(opts.out);
  await writeFile(path, JSON.stringify(jwk, null, 2) + '\n', {
    mode: opts.public ? 0o644 : 0o600,
    flag: 'wx',
  });
  return { path, kid: signing.kid };
}

/**
 * `passerelle keys storage <dir>`: the participant's storage keyring — created when missing (the id from
 * `--participant` or the folder's `public.json`), rotated with `rotate` (a new current key; older ones kept
 * to read), an older key removed with `retire` once `passerelle storage reseal` has sealed its records
 * again. Prints the path and kids, never a key.
 */
export async function keysStorage(
  dir: string,
  opts: { participant?: string; rotate?: boolean; retire?: string },
): Promise<{ path: string; created: boolean; current: string; kids: string[] }> {
  const folder = resolve(dir);
  if (opts.rotate && opts.retire) {
    throw new PasserelleError('ERR_CONFIG_INVALID', '--rotate and --retire are separate steps.', {
      details: { setting: '--retire' },
    });
  }
  const participant =
    opts.participant ?? (await loadPublicKeysFile(join(folder, KEY_FILES.public))).participantId;
  participantKind(participant);
  const { path, created } = await ensureStorageKeys(folder, participant);
  if (opts.rotate) await rotateStorageKey(folder);
  if (opts.retire) await retireStorageKey(folder, opts.retire);
  const ring = await loadStorageKeys(folder, participant);
  return { path, created, current: ring.current, kids: ring.keys.map((k) => k.kid) };
}

/** Registers `passerelle keys generate|signing|storage` and `passerelle anchor generate`. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('participant key pairs');
  keys
    .command('generate <participant>')
    .description('generate a participant signing and encryption key pair (private.json 0600, public.json)')
    .requiredOption('--out <dir>', 'folder to write private.json and public.json to')
    .option('--not-before <date>', 'keys valid from this RFC 3339 date-time')
    .option('--not-after <date>', 'keys valid until this RFC 3339 date-time')
    .option('--force', 'overwrite existing key files')
    .action(async (participant: string, opts: KeysGenerateOptions) => {
      const r = await keysGenerate(participant, opts);
      console.log(`private  ${r.privatePath} (mode 0600: keep it secret)`);
      console.log(`public   ${r.publicPath}`);
      console.log(
        `storage  ${r.storagePath} (mode 0600: keep it secret; kept when --force replaces the keys)`,
      );
      console.log(`kids     ${r.kids.join(' ')}`);
    });

  keys
    .command('storage <dir>')
    .description(
      "a participant's storage keyring (storage.json, 0600): created when missing; --rotate, --retire <kid>",
    )
    .option('--participant <id>', "participant id (default: the folder's public.json)")
    .option('--rotate', 'make a new key current; older keys are kept to read what they sealed')
    .option(
      '--retire <kid>',
      'remove an older key, once passerelle storage reseal has sealed its records again',
    )
    .action(async (dir: string, opts: { participant?: string; rotate?: boolean; retire?: string }) => {
      const r = await keysStorage(dir, opts);
      console.log(`storage  ${r.path}${r.created ? ' (created, mode 0600: keep it secret)' : ''}`);
      console.log(`current  ${r.current}`);
      console.log(`kids     ${r.kids.join(' ')}`);
    });

  keys
    .command('signing <dir>')
    .description(
      "write a key folder's signing key alone as one JWK: private (0600, e.g. the auditor's PASSERELLE_AUDITOR_KEY) or --public",
    )
    .requiredOption('--out <file>', 'file to write (never overwritten)')
    .option('--public', 'write the public half (for --auditor-key)')
    .action(async (dir: string, opts: { out: string; public?: boolean }) => {
      const r = await keysSigning(dir, opts);
      console.log(
        `${opts.public ? 'public ' : 'private'}  ${r.path}${opts.public ? '' : ' (mode 0600: keep it secret)'}`,
      );
      console.log(`kid      ${r.kid}`);
    });

  const anchor = program.command('anchor').description('the trust anchor that signs directory entries');
  anchor
    .command('generate')
    .description('generate the trust anchor key pair (anchor.private.json 0600, anchor.public.json)')
    .requiredOption('--out <dir>', 'folder to write the anchor files to')
    .option('--force', 'overwrite existing anchor files')
    .action(async (opts: { out: string; force?: boolean }) => {
      const r = await writeAnchor(resolve(opts.out), { force: opts.force ?? false });
      console.log(`private  ${r.privatePath} (mode 0600: keep it offline, it signs the directory)`);
      console.log(`public   ${r.publicPath} (distribute to every participant out of band)`);
      console.log(`kid      ${r.publicKey.kid}`);
    });
}
