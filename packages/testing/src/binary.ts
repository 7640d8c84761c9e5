import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { HarnessError } from './errors.js';
import semver from 'semver';

const run = promisify(execFile);

/** The pinned release (`nats-server.json` beside this package): what setup installs and the tests run. */
interface NatsServerPin {
  module: string;
  version: string;
  minimum: string;
}

const pin = JSON.parse(
  readFileSync(new URL('../nats-server.json', import.meta.url), 'utf8'),
) as NatsServerPin;

/** The nats-server release Passerelle is tested on; `scripts/setup.sh` installs exactly this one. */
export const PINNED_NATS_SERVER_VERSION: string = pin.version;
/** The oldest nats-server release the harness runs (the exchange refuses older servers too). */
export const MIN_NATS_SERVER_VERSION: string = pin.minimum;

const INSTALL_HINT =
  `Run \`bash scripts/setup.sh\`, which builds nats-server ${pin.version} with Go ` +
  `(\`go install ${pin.module}@v${pin.version}\`), or point PASSERELLE_NATS_SERVER at a nats-server ` +
  `${pin.minimum} or newer.`;

/**
 * Where `scripts/setup.sh` installs the pinned release: `$PASSERELLE_TOOLS_DIR` (default
 * `$XDG_DATA_HOME/passerelle`, or `~/.local/share/passerelle`), then `nats-server/v<version>/nats-server`.
 * Kept outside the checkout, so that every clone on the machine shares one build.
 */
export function pinnedNatsServerPath(env: NodeJS.ProcessEnv = process.env): string {
  const tools =
    env['PASSERELLE_TOOLS_DIR'] ||
    join(env['XDG_DATA_HOME'] || join(env['HOME'] || homedir(), '.local', 'share'), 'passerelle');
  return join(tools, 'nats-server', `v${pin.version}`, 'nats-server');
}

/**
 * Finds a nats-server binary no older than {@link MIN_NATS_SERVER_VERSION}: `PASSERELLE_NATS_SERVER`
 * (which must be recent enough), then the pinned release where setup installs it, then the PATH. A server
 * found only in an older release is refused with `ERR_NATS_SERVER_TOO_OLD`, naming it.
 */
export async function findNatsServerBinary(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const explicit = env['PASSERELLE_NATS_SERVER'];
  if (explicit) {
    if (!(await isExecutable(explicit))) {
      throw new HarnessError(
        'ERR_NATS_SERVER_NOT_FOUND',
        `PASSERELLE_NATS_SERVER=${explicit} is not an executable file. ${INSTALL_HINT}`,
      );
    }
    await assertRecentEnough(explicit);
    return explicit;
  }
  const candidates = [
    pinnedNatsServerPath(env),
    ...(env['PATH'] ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'nats-server')),
  ];
  let tooOld: { binary: string; version: string } | undefined;
  for (const candidate of candidates) {
    if (!(await isExecutable(candidate))) continue;
    const version = await natsServerBinaryVersion(candidate);
    if (versionAtLeast(version, pin.minimum)) return candidate;
    tooOld ??= { binary: candidate, version };
  }
  if (tooOld) throw tooOldError(tooOld.binary, tooOld.version);
  throw new HarnessError('ERR_NATS_SERVER_NOT_FOUND', `No nats-server binary found. ${INSTALL_HINT}`, {
    details: { minimum: pin.minimum, pinned: pin.version },
  });
}

/** Throws `ERR_NATS_SERVER_TOO_OLD` when `binary` reports a release older than the minimum. */
export async function assertRecentEnough(binary: string): Promise<string> {
  const version = await natsServerBinaryVersion(binary);
  if (!versionAtLeast(version, pin.minimum)) throw tooOldError(binary, version);
  return version;
}

function tooOldError(binary: string, version: string): HarnessError {
  return new HarnessError(
    'ERR_NATS_SERVER_TOO_OLD',
    `${binary} is nats-server ${version}; Passerelle needs ${pin.minimum} or newer (it is tested on ${pin.version}). ${INSTALL_HINT}`,
    { details: { version, minimum: pin.minimum, pinned: pin.version } },
  );
}

/** Whether dotted version `a` is at least `b` (major, minor, patch; a pre-release counts as its release). */
export function versionAtLeast(a: string, b: string): boolean {
  return semver.gte(semver.coerce(a) ?? '0.0.0', semver.coerce(b) ?? '0.0.0');
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Reads the version a nats-server binary reports (`nats-server --version`), e.g. `2.15.3`. */
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
