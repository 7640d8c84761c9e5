import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  DIRECTORY_BUCKET,
  type ParticipantEntry,
  type RejectedEntry,
  createDirectoryClient,
  exportDirectory,
  loadAnchor,
  loadAnchorPrivateKey,
  loadPublicKeysFile,
  entryVersion,
  makeEntry,
  publishNextEntry,
  writeDirectoryFile,
} from '@passerelle/directory';
import { PasserelleError } from '@passerelle/errors';
import { type ServerOptions, credentialsOption, serverOption, withJetStream } from '../context.js';

/** Options shared by the `directory` commands. */
export interface DirectoryOptions extends ServerOptions {
  bucket?: string;
}

/**
 * Signs each `public.json` with the anchor key under the participant's next version (one more than the
 * highest the bucket holds for it) and puts it in the directory bucket.
 */
export async function directoryPublish(
  files: string[],
  opts: DirectoryOptions & { anchorKey: string; name?: string },
): Promise<{ id: string; version: number; revision: number }[]> {
  if (opts.name !== undefined && files.length !== 1) {
    throw new PasserelleError('ERR_CONFIG_INVALID', '--name applies to one public key file at a time.');
  }
  const anchorKey = await loadAnchorPrivateKey(resolve(opts.anchorKey));
  const entries: ParticipantEntry[] = [];
  for (const file of files) {
    const pub = await loadPublicKeysFile(resolve(file));
    entries.push(makeEntry(pub.participantId, opts.name ?? pub.participantId, pub.signing, pub.encryption));
  }
  return withJetStream(opts, async (nc) => {
    const out: { id: string; version: number; revision: number }[] = [];
    for (const entry of entries) {
      const { id, version, revision } = await publishNextEntry(nc, entry, anchorKey, {
        bucket: opts.bucket ?? DIRECTORY_BUCKET,
      });
      out.push({ id, version, revision });
    }
    return out;
  });
}

/** Reads the directory as a client would: entries checked against the anchor, and those refused. */
export async function directoryList(
  opts: DirectoryOptions & { anchor: string },
): Promise<{ entries: ParticipantEntry[]; rejected: RejectedEntry[] }> {
  const anchor = await loadAnchor(resolve(opts.anchor));
  return withJetStream(opts, async (nc) => {
    const client = await createDirectoryClient({ nc, anchor, bucket: opts.bucket ?? DIRECTORY_BUCKET });
    try {
      return { entries: client.list(), rejected: client.rejected() };
    } finally {
      await client.close();
    }
  });
}

/** Writes the anchor-checked entries to a signed export file for offline use. */
export async function directoryExport(
  opts: DirectoryOptions & { anchor: string; out: string },
): Promise<{ path: string; entries: number; rejected: number }> {
  const anchor = await loadAnchor(resolve(opts.anchor));
  return withJetStream(opts, async (nc) => {
    const client = await createDirectoryClient({ nc, anchor, bucket: opts.bucket ?? DIRECTORY_BUCKET });
    try {
      const path = resolve(opts.out);
      const entries = client.signedEntries();
      await writeDirectoryFile(path, exportDirectory(entries, anchor));
      return { path, entries: entries.length, rejected: client.rejected().length };
    } finally {
      await client.close();
    }
  });
}

function window(k: { notBefore?: string; notAfter?: string }): string {
  return k.notBefore || k.notAfter ? ` [${k.notBefore ?? '…'} → ${k.notAfter ?? '…'}]` : '';
}

/** Registers `passerelle directory publish|list|export`. */
export function registerDirectory(program: Command): void {
  const directory = program.command('directory').description('the signed participant directory (KV bucket)');
  const common = (c: Command): Command =>
    c
      .addOption(serverOption())
      .addOption(credentialsOption())
      .option('--bucket <name>', 'directory KV bucket', DIRECTORY_BUCKET);

  common(
    directory
      .command('publish <public-json...>')
      .description('sign participant entries with the anchor key and publish them')
      .requiredOption('--anchor-key <file>', 'the anchor private key (anchor.private.json)')
      .option('--name <name>', 'display name of the body (one file only; default: the participant id)'),
  ).action(async (files: string[], opts: DirectoryOptions & { anchorKey: string; name?: string }) => {
    for (const r of await directoryPublish(files, opts))
      console.log(`published ${r.id} version ${r.version} (revision ${r.revision})`);
  });

  common(
    directory
      .command('list')
      .description('list the entries signed by the anchor, and those refused')
      .requiredOption('--anchor <file>', 'the anchor public key (anchor.public.json)')
      .option('--json', 'print JSON'),
  ).action(async (opts: DirectoryOptions & { anchor: string; json?: boolean }) => {
    const { entries, rejected } = await directoryList(opts);
    if (opts.json) {
      console.log(
        JSON.stringify(
          {
            entries,
            rejected: rejected.map((r) => ({ key: r.key, revision: r.revision, error: r.error.message })),
          },
          null,
          2,
        ),
      );
      return;
    }
    for (const e of entries) {
      console.log(`${e.id}  ${e.kind}  ${e.name}  version ${entryVersion(e)}`);
      for (const k of e.signing) console.log(`  sig ${k.kid}${window(k)}`);
      for (const k of e.encryption) console.log(`  enc ${k.kid}${window(k)}`);
    }
    for (const r of rejected) console.log(`refused ${r.key} (revision ${r.revision}): ${r.error.message}`);
    if (rejected.length) process.exitCode = 1;
  });

  common(
    directory
      .command('export')
      .description(
        'write the anchor-signed entries to a file for offline use (--directory of envelope commands)',
      )
      .requiredOption('--anchor <file>', 'the anchor public key (anchor.public.json)')
      .requiredOption('--out <file>', 'export file to write'),
  ).action(async (opts: DirectoryOptions & { anchor: string; out: string }) => {
    const r = await directoryExport(opts);
    console.log(
      `exported ${r.entries} entries to ${r.path}${r.rejected ? ` (${r.rejected} refused entries left out)` : ''}`,
    );
  });
}
