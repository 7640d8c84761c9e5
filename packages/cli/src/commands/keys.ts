import { resolve } from 'node:path';
import type { Command } from 'commander';
import { participantKind, writeAnchor, writeParticipantKeys } from '@passerelle/directory';
import { generateParticipantKeys } from '@passerelle/envelope';

/** Options of `passerelle keys generate`. */
export interface KeysGenerateOptions {
  out: string;
  notBefore?: string;
  notAfter?: string;
  force?: boolean;
}

/**
 * `passerelle keys generate <participant> --out <dir>`: a signing and an encryption key pair (EC P-256),
 * `private.json` written 0600 and `public.json` for `directory publish`. Prints paths and kids only.
 */
export async function keysGenerate(
  participant: string,
  opts: KeysGenerateOptions,
): Promise<{ privatePath: string; publicPath: string; kids: string[] }> {
  participantKind(participant); // refuses a malformed id before any key is made
  const validity: { notBefore?: string; notAfter?: string } = {};
  if (opts.notBefore) validity.notBefore = new Date(opts.notBefore).toISOString();
  if (opts.notAfter) validity.notAfter = new Date(opts.notAfter).toISOString();
  const keys = await generateParticipantKeys(participant, validity);
  const paths = await writeParticipantKeys(resolve(opts.out), keys, { force: opts.force ?? false });
  return { ...paths, kids: [keys.signing.kid, ...keys.encryption.map((k) => k.kid)] };
}

/** Registers `passerelle keys generate` and `passerelle anchor generate`. */
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
      console.log(`kids     ${r.kids.join(' ')}`);
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
