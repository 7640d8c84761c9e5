import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadContracts } from '@passerelle/contracts';
import { loadAnchorPrivateKey } from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';
import {
  type Approval,
  BODY_FILES,
  DEFAULT_ROTATION_OVERLAP_MS,
  type LifecycleOptions,
  type ParticipantStatus,
  type Revocation,
  acceptApproval,
  approveParticipant,
  finishRotation,
  listParticipants,
  openOperatorHome,
  readDeploymentFile,
  requestRegistration,
  revokeParticipant,
  rotateParticipant,
} from '@passerelle/operator';
import { LOCAL_STATE_DIR, positiveInteger } from '../context.js';
import { printJson } from '../print-json.js';

/** Where the operator's side finds its material; each defaults under `PASSERELLE_HOME` and the current folder. */
export interface OperatorOptions {
  /** The operator's folder (keys, credentials, registry); default `<home>/secure`. */
  operator?: string;
  /** The trust anchor's private key; default `<home>/keys/anchor.private.json`. */
  anchorKey?: string;
  /** The repository root: the contract and `infra/participants.json`; default the current folder. */
  root?: string;
  /** Server URLs, comma-separated; default the operator credentials' servers. */
  server?: string;
  /** Days the user JWT and certificate are valid. */
  validDays?: string;
}

function home(): string {
  return resolve(process.env['PASSERELLE_HOME'] ?? LOCAL_STATE_DIR);
}

async function lifecycle(opts: OperatorOptions): Promise<LifecycleOptions> {
  const root = resolve(opts.root ?? '.');
  return {
    home: await openOperatorHome({ dir: resolve(opts.operator ?? join(home(), 'secure')) }),
    deployment: readDeploymentFile(join(root, 'infra', 'participants.json')),
    contracts: await loadContracts({ root }),
    anchorKey: await loadAnchorPrivateKey(
      resolve(opts.anchorKey ?? join(home(), 'keys', 'anchor.private.json')),
    ),
    ...(opts.server ? { servers: opts.server.split(',') } : {}),
    ...(opts.validDays ? { validDays: positiveInteger(opts.validDays, '--valid-days') } : {}),
  };
}

async function readJson(file: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(resolve(file), 'utf8')) as unknown;
  } catch (cause) {
    throw new PasserelleError('ERR_CONFIG_INVALID', `${file} is not a readable ${what} (JSON).`, {
      details: { setting: what },
      cause,
    });
  }
}

/** A duration such as `90s`, `30m`, `24h` or `7d`, in milliseconds. */
export function parseDuration(value: string, what: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (!m) {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      `${what} must be a duration such as 90s, 30m, 24h or 7d.`,
      {
        details: { setting: what },
      },
    );
  }
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** `participants request`: a body's keys and its signed registration request, made locally. */
export async function participantsRequest(
  participant: string,
  opts: { name: string; out: string; rotate?: string; validDays?: string },
): Promise<{ file: string }> {
  const { file } = await requestRegistration({
    participant,
    name: opts.name,
    dir: opts.out,
    ...(opts.rotate ? { current: opts.rotate } : {}),
    ...(opts.validDays ? { validDays: positiveInteger(opts.validDays, '--valid-days') } : {}),
  });
  return { file };
}

async function writeApproval(approval: Approval, out: string | undefined): Promise<string> {
  const file = resolve(out ?? `${approval.participant}.approval.json`);
  await writeFile(file, JSON.stringify(approval, null, 2) + '\n');
  return file;
}

/** `participants approve <request>`: the operator onboards a body while the exchange runs. */
export async function participantsApprove(
  request: string,
  opts: OperatorOptions & { out?: string },
): Promise<{ approval: Approval; file: string }> {
  const approval = await approveParticipant(
    await readJson(request, 'registration request'),
    await lifecycle(opts),
  );
  return { approval, file: await writeApproval(approval, opts.out) };
}

/** `participants accept <approval>`: the body writes its credentials from the approval and its own keys. */
export async function participantsAccept(
  approval: string,
  opts: { dir: string },
): Promise<{ credentials: string }> {
  return acceptApproval((await readJson(approval, 'approval')) as Approval, opts.dir);
}

/** `participants rotate <id>`: starts a rotation from the body's request, or `--finish`es it. */
export async function participantsRotate(
  participant: string,
  opts: OperatorOptions & { request?: string; overlap?: string; finish?: boolean; out?: string },
): Promise<{ approval?: Approval; file?: string; revoked?: string[] }> {
  const options = await lifecycle(opts);
  if (opts.finish) return { revoked: await finishRotation(participant, options) };
  if (!opts.request) {
    throw new PasserelleError(
      'ERR_CONFIG_INVALID',
      'participants rotate needs --request <file> or --finish.',
      {
        details: { setting: '--request' },
      },
    );
  }
  const approval = await rotateParticipant(participant, await readJson(opts.request, 'rotation request'), {
    ...options,
    overlapMs: opts.overlap ? parseDuration(opts.overlap, '--overlap') : DEFAULT_ROTATION_OVERLAP_MS,
  });
  return { approval, file: await writeApproval(approval, opts.out) };
}

/** `participants revoke <id>`. */
export async function participantsRevoke(participant: string, opts: OperatorOptions): Promise<Revocation> {
  return revokeParticipant(participant, await lifecycle(opts));
}

/** `participants list`. */
export async function participantsList(opts: OperatorOptions): Promise<ParticipantStatus[]> {
  const root = resolve(opts.root ?? '.');
  return listParticipants(
    await openOperatorHome({ dir: resolve(opts.operator ?? join(home(), 'secure')) }),
    readDeploymentFile(join(root, 'infra', 'participants.json')),
  );
}

/** Registers `passerelle participants request|accept|approve|rotate|revoke|list`. */
export function registerParticipants(program: Command): void {
  const participants = program
    .command('participants')
    .description('onboard, rotate and revoke participants while the exchange runs (NATS operator mode)');
  const operator = (c: Command): Command =>
    c
      .option('--operator <dir>', "the operator's folder (default: $PASSERELLE_HOME/secure)")
      .option(
        '--anchor-key <file>',
        'the trust anchor private key (default: $PASSERELLE_HOME/keys/anchor.private.json)',
      )
      .option('--root <dir>', 'the folder of contracts/ and infra/participants.json (default: .)')
      .option('--server <urls>', "server URLs, comma-separated (default: the operator credentials' servers)");

  participants
    .command('request <participant>')
    .description(
      'on the body: make its keys here (no private key leaves the folder) and a signed registration request',
    )
    .requiredOption('--name <name>', 'name of the body (an administration)')
    .requiredOption('--out <dir>', 'a new folder for its keys and request.json')
    .option('--rotate <dir>', 'a rotation: the folder of the keys in use today')
    .option('--valid-days <n>', 'days its message keys are valid (default 365)')
    .action(
      async (
        participant: string,
        opts: { name: string; out: string; rotate?: string; validDays?: string },
      ) => {
        const r = await participantsRequest(participant, opts);
        console.log(`request  ${r.file} (send it to the operator; the keys stay in ${resolve(opts.out)})`);
      },
    );

  participants
    .command('accept <approval>')
    .description("on the body: write its credentials file from the operator's approval and its own keys")
    .requiredOption('--dir <dir>', 'the folder of its request')
    .action(async (approval: string, opts: { dir: string }) => {
      const r = await participantsAccept(approval, opts);
      console.log(`credentials  ${r.credentials} (loadCredentials; ${BODY_FILES.creds} is 0600)`);
    });

  operator(
    participants
      .command('approve <request>')
      .description('check a registration request, sign its account, user and directory entry, publish them')
      .option('--out <file>', 'where to write the approval (default: <participant>.approval.json)')
      .option('--valid-days <n>', 'days its user JWT and certificate are valid (default 365)'),
  ).action(async (request: string, opts: OperatorOptions & { out?: string }) => {
    const { approval, file } = await participantsApprove(request, opts);
    console.log(
      `approved ${approval.participant}: directory version ${approval.directoryVersion}, credentials until ${approval.expiresAt}`,
    );
    console.log(`approval ${file} (send it to the body: passerelle participants accept)`);
  });

  operator(
    participants
      .command('rotate <participant>')
      .description("start a rotation from the body's request (old keys valid for --overlap), or --finish it")
      .option('--request <file>', 'the rotation request (participants request --rotate)')
      .option('--overlap <duration>', 'how long the old keys stay valid (default 24h)')
      .option('--finish', 'revoke the NATS users older than the newest')
      .option('--out <file>', 'where to write the approval')
      .option('--valid-days <n>', 'days the new user JWT and certificate are valid (default 365)'),
  ).action(
    async (
      participant: string,
      opts: OperatorOptions & { request?: string; overlap?: string; finish?: boolean; out?: string },
    ) => {
      const r = await participantsRotate(participant, opts);
      if (r.revoked)
        console.log(`rotation of ${participant} finished: ${r.revoked.length} older user(s) revoked`);
      else console.log(`rotation of ${participant} started: approval ${r.file}`);
    },
  );

  operator(
    participants
      .command('revoke <participant>')
      .description('revoke a participant: every NATS user and every key'),
  ).action(async (participant: string, opts: OperatorOptions) => {
    const r = await participantsRevoke(participant, opts);
    console.log(`revoked ${r.participant} at ${r.revokedAt} (directory version ${r.directoryVersion})`);
  });

  participants
    .command('list')
    .description('participants: kind, state, expiries of credentials and keys')
    .option('--operator <dir>', "the operator's folder (default: $PASSERELLE_HOME/secure)")
    .option('--root <dir>', 'the folder of infra/participants.json (default: .)')
    .option('--json', 'print JSON')
    .action(async (opts: OperatorOptions & { json?: boolean }) => {
      const list = await participantsList(opts);
      if (opts.json) return printJson(list);
      for (const p of list) {
        console.log(
          [
            p.id.padEnd(22),
            p.kind.padEnd(18),
            p.state.padEnd(8),
            p.origin.padEnd(10),
            `credentials ${p.credentialsExpireAt ?? '-'}`,
            `keys ${p.keysExpireAt ?? '-'}`,
            p.expiringSoon ? 'EXPIRING WITHIN 30 DAYS' : '',
          ].join('  '),
        );
      }
    });
}
