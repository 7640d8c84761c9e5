import { readFile, stat } from 'node:fs/promises';
import type { PublicJwk } from '@passerelle/envelope';
import { writeFileAtomic } from './atomic-write.js';
import { DirectoryError } from './directory-error.js';
import type { VerifiedEntry } from './newest-entry.js';
import { exportDirectory, verifyExport } from './offline.js';

/**
 * A host's directory state file: the entries it has accepted, in the directory export format (each
 * signed by the anchor, so the file needs no other trust). Loaded at start, it is the floor below which no
 * entry the bucket offers is accepted; a missing file is a first start (nothing accepted yet). The file is
 * refused when group or others may write it (whoever can write it can lower that floor) or when an entry
 * does not check against the anchor (another anchor's state, or an altered file).
 */
export async function loadDirectoryState(
  path: string,
  anchor: PublicJwk,
): Promise<Map<string, Omit<VerifiedEntry, 'revision'>>> {
  let mode: number;
  try {
    ({ mode } = await stat(path));
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ENOENT') return new Map();
    throw new DirectoryError('ERR_DIRECTORY_FILE_INVALID', `Directory state ${path} cannot be read.`, {
      cause,
    });
  }
  if (process.platform !== 'win32' && (mode & 0o022) !== 0) {
    throw new DirectoryError(
      'ERR_DIRECTORY_FILE_INVALID',
      `Directory state ${path} is writable by others (mode ${(mode & 0o777).toString(8)}); chmod 600 it.`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new DirectoryError('ERR_DIRECTORY_FILE_INVALID', `Directory state ${path} is not JSON.`, {
      cause,
    });
  }
  return verifyExport(data, anchor, `Directory state ${path}`);
}

/** Writes the accepted entries to the state file, atomically and with mode 0600. */
export async function saveDirectoryState(
  path: string,
  entries: readonly VerifiedEntry[] | readonly Omit<VerifiedEntry, 'revision'>[],
  anchor: PublicJwk,
): Promise<void> {
  const signed = [...entries].sort((a, b) => a.entry.id.localeCompare(b.entry.id)).map((e) => e.signed);
  try {
    await writeFileAtomic(path, JSON.stringify(exportDirectory(signed, anchor), null, 2) + '\n', 0o600);
  } catch (cause) {
    throw new DirectoryError('ERR_DIRECTORY_FILE_INVALID', `Directory state ${path} cannot be written.`, {
      cause,
    });
  }
}
