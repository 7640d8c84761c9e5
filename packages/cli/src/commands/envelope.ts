import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  type OfflineDirectory,
  loadAnchor,
  loadDirectoryFile,
  loadParticipantKeys,
} from '@passerelle/directory';
import {
  type Envelope,
  type EnvelopeMeta,
  newMessageId,
  openEnvelope,
  sealEnvelope,
  verifySeal,
} from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import { printJson } from '../print-json.js';

/** Options naming the offline directory. */
export interface OfflineDirectoryOptions {
  directory: string;
  anchor: string;
}

async function offlineDirectory(opts: OfflineDirectoryOptions): Promise<OfflineDirectory> {
  return loadDirectoryFile(resolve(opts.directory), await loadAnchor(resolve(opts.anchor)));
}

async function readPayload(path: string): Promise<unknown> {
  const text = await readFile(resolve(path), 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PasserelleError('ERR_CONFIG_INVALID', `--payload ${path} is not JSON.`);
  }
}

/** Options of `passerelle envelope seal`. */
export interface SealCommandOptions extends OfflineDirectoryOptions {
  keys: string;
  to: string;
  type: string;
  dossier: string;
  payload: string;
  schemaVersion?: string;
  correlationId?: string;
  causationId?: string;
  issuedAt?: string;
}

/** Seals a payload file from the participant in `--keys` to `--to`, with the recipient key from the export. */
export async function envelopeSeal(opts: SealCommandOptions): Promise<Envelope> {
  const sender = await loadParticipantKeys(resolve(opts.keys));
  const directory = await offlineDirectory(opts);
  const issuedAt = opts.issuedAt ? new Date(opts.issuedAt) : new Date();
  const id = newMessageId();
  const meta: EnvelopeMeta = {
    id,
    type: opts.type,
    schemaVersion: Number(opts.schemaVersion ?? '1'),
    sender: sender.participantId,
    recipient: opts.to,
    dossierId: opts.dossier,
    issuedAt: issuedAt.toISOString(),
    correlationId: opts.correlationId ?? id,
    causationId: opts.causationId ?? null,
  };
  const recipientKey = await directory.resolve(opts.to, 'enc', issuedAt);
  return sealEnvelope({ meta, payload: await readPayload(opts.payload), sender, recipientKey });
}

/** Checks and opens an envelope file with the keys in `--keys`. */
export async function envelopeOpen(
  file: string,
  opts: OfflineDirectoryOptions & { keys: string; freshness?: string; anyTime?: boolean },
): Promise<{ meta: EnvelopeMeta; payload: unknown }> {
  const recipient = await loadParticipantKeys(resolve(opts.keys));
  const resolver = await offlineDirectory(opts);
  const freshnessMs = opts.anyTime ? Infinity : opts.freshness ? Number(opts.freshness) * 1000 : undefined;
  const { meta, payload } = await openEnvelope(await readFile(resolve(file)), {
    recipient,
    resolver,
    ...(freshnessMs !== undefined ? { freshnessMs } : {}),
  });
  return { meta, payload };
}

/** Checks an envelope file's seal without decrypting it. */
export async function envelopeVerifySeal(
  file: string,
  opts: OfflineDirectoryOptions,
): Promise<{ meta: EnvelopeMeta; kid: string; jweSha256: string }> {
  const { envelope, kid, jweSha256 } = await verifySeal(await readFile(resolve(file)), {
    resolver: await offlineDirectory(opts),
  });
  return { meta: envelope.meta, kid, jweSha256 };
}

/** Registers `passerelle envelope seal|open|verify-seal`. */
export function registerEnvelope(program: Command): void {
  const envelope = program
    .command('envelope')
    .description('seal, open and check one envelope by hand (files, offline directory)');
  const offline = (c: Command): Command =>
    c
      .requiredOption('--directory <file>', 'directory export (passerelle directory export)')
      .requiredOption('--anchor <file>', 'the anchor public key (anchor.public.json)');

  offline(
    envelope
      .command('seal')
      .description('sign, encrypt and seal a JSON payload file')
      .requiredOption('--keys <dir>', "the sender's key folder (keys generate --out)")
      .requiredOption('--to <participant>', 'recipient participant id')
      .requiredOption('--type <type>', 'message type, e.g. dossier-submitted')
      .requiredOption('--dossier <id>', 'pseudonymous dossier id')
      .requiredOption('--payload <file>', 'JSON payload file')
      .option('--schema-version <n>', 'schema version', '1')
      .option('--correlation-id <id>', 'correlation id (default: the message id)')
      .option('--causation-id <id>', 'id of the message that caused this one')
      .option('--issued-at <date>', 'RFC 3339 issuedAt (default: now)')
      .option('--out <file>', 'write the envelope here instead of stdout'),
  ).action(async (opts: SealCommandOptions & { out?: string }) => {
    const env = await envelopeSeal(opts);
    const text = JSON.stringify(env) + '\n';
    if (opts.out) {
      await writeFile(resolve(opts.out), text);
      console.log(`sealed ${env.meta.id} ${env.meta.sender} → ${env.meta.recipient} to ${opts.out}`);
    } else process.stdout.write(text);
  });

  offline(
    envelope
      .command('open <file>')
      .description('check and decrypt an envelope; prints { meta, payload }')
      .requiredOption('--keys <dir>', "the recipient's key folder")
      .option('--freshness <seconds>', 'freshness window around now (default 900)')
      .option('--any-time', 'skip the freshness check (old messages)'),
  ).action(
    async (
      file: string,
      opts: OfflineDirectoryOptions & { keys: string; freshness?: string; anyTime?: boolean },
    ) => {
      printJson(await envelopeOpen(file, opts));
    },
  );

  offline(
    envelope.command('verify-seal <file>').description('check origin and integrity without decrypting'),
  ).action(async (file: string, opts: OfflineDirectoryOptions) => {
    const r = await envelopeVerifySeal(file, opts);
    console.log(`seal ok  ${r.meta.id} ${r.meta.type} ${r.meta.sender} → ${r.meta.recipient}`);
    console.log(`kid      ${r.kid}`);
    console.log(`jwe      sha256 ${r.jweSha256}`);
  });
}
