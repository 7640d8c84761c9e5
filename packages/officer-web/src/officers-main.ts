import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isPasserelleError } from '@passerelle/errors';
import { OfficerAccounts } from './officer-accounts.js';

const USAGE = `Provisions the case officers' accounts of one body's page (a JSON file, mode 0600).

  officers add      --file <officers.json> --participant <id> [--participant <id>…] [--officer <id>] [--password-stdin]
  officers passwd   --file <officers.json> --officer <id> [--password-stdin]
  officers disable  --file <officers.json> --officer <id>
  officers remove   --file <officers.json> --officer <id>
  officers list     --file <officers.json>

An officer id is pseudonymous (off- and 16 hexadecimal digits unless --officer gives one): keep the table
from ids to staff outside Passerelle. Without --password-stdin a random password is printed once; with it,
the first line of standard input is the password (at least 12 characters).`;

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '').trimEnd();
}

/** Runs the `officers` command with its arguments; returns the exit code. */
export async function runOfficersCommand(argv: readonly string[], out = console.log): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      file: { type: 'string' },
      participant: { type: 'string', multiple: true },
      officer: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (values.help || !command || !values.file) {
    out(USAGE);
    return values.help ? 0 : 2;
  }
  const accounts = new OfficerAccounts(resolve(values.file));
  const password = async (): Promise<{ password: string; generated: boolean }> =>
    values['password-stdin']
      ? { password: await readStdinLine(), generated: false }
      : { password: randomBytes(18).toString('base64url'), generated: true };
  const officer = (): string => {
    if (!values.officer) throw new Error('--officer is required');
    return values.officer;
  };
  switch (command) {
    case 'add': {
      const officerId = values.officer ?? `off-${randomBytes(8).toString('hex')}`;
      const { password: secret, generated } = await password();
      const account = await accounts.add(officerId, values.participant ?? [], secret);
      out(`officer ${account.officerId} added for ${account.participants.join(', ')} in ${accounts.file}`);
      if (generated) out(`password (shown once): ${secret}`);
      return 0;
    }
    case 'passwd': {
      const { password: secret, generated } = await password();
      await accounts.setPassword(officer(), secret);
      out(`officer ${officer()} has a new password`);
      if (generated) out(`password (shown once): ${secret}`);
      return 0;
    }
    case 'disable':
      await accounts.disable(officer());
      out(`officer ${officer()} disabled: signs in no more, its sessions end at their next request`);
      return 0;
    case 'remove':
      await accounts.remove(officer());
      out(`officer ${officer()} removed`);
      return 0;
    case 'list':
      for (const a of await accounts.list())
        out(`${a.officerId}\t${a.participants.join(',')}${a.disabled ? '\tdisabled' : ''}`);
      return 0;
    default:
      out(USAGE);
      return 2;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${resolve(process.argv[1])}`).href) {
  runOfficersCommand(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(isPasserelleError(err) ? `${err.code}: ${err.message}` : (err as Error).message);
      process.exitCode = 1;
    },
  );
}
