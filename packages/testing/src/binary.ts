import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { HarnessError } from './errors.js';

const run = promisify(execFile);

const INSTALL_HINT =
  'Install it with `sudo apt-get install -y nats-server` (Debian/Ubuntu), run `bash scripts/setup.sh`, ' +
  'or point PASSERELLE_NATS_SERVER at the binary.';

/**
 * Finds the nats-server binary: `PASSERELLE_NATS_SERVER`, then the PATH, then the usual system folders
 * (Debian installs it in /usr/sbin, which is not on every user's PATH).
 */
export async function findNatsServerBinary(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const explicit = env['PASSERELLE_NATS_SERVER'];
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new HarnessError(
      'ERR_NATS_SERVER_NOT_FOUND',
      `PASSERELLE_NATS_SERVER=${explicit} is not an executable file. ${INSTALL_HINT}`,
    );
  }
  const dirs = [
    ...(env['PATH'] ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/bin',
  ];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'nats-server');
    if (await isExecutable(candidate)) return candidate;
  }
  throw new HarnessError('ERR_NATS_SERVER_NOT_FOUND', `No nats-server binary found. ${INSTALL_HINT}`);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Reads the version a nats-server binary reports (`nats-server --version`), e.g. `2.9.10`. */
export async function natsServerBinaryVersion(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['--version']);
  const match = /v?(\d+\.\d+\.\d+)/.exec(stdout);
  if (!match?.[1]) {
    throw new HarnessError(
      'ERR_NATS_SERVER_START_FAILED',
      `Cannot read the version of ${binary}: "${stdout.trim()}"`,
    );
  }
  return match[1];
}
