import { join } from 'node:path';
import type { ParticipantKeys } from '@passerelle/envelope';
import { signEntry } from './entry.js';
import { entryOfKeys } from './entry-of-keys.js';
import { loadAnchorPrivateKey, writeAnchor } from './key-files.js';
import { exportDirectory, writeDirectoryFile } from './offline.js';

/**
 * A new trust anchor in `dir` and an offline directory export of `participants` signed by it: the two
 * files a command that checks signatures offline is given (`--anchor`, `--directory`).
 */
export async function writeTrustFiles(
  dir: string,
  participants: ParticipantKeys[],
): Promise<{ anchorPath: string; directoryPath: string }> {
  const anchor = await writeAnchor(join(dir, 'anchor'));
  const anchorKey = await loadAnchorPrivateKey(anchor.privatePath);
  const signed = await Promise.all(participants.map((p) => signEntry(entryOfKeys(p), anchorKey)));
  const directoryPath = join(dir, 'directory.json');
  await writeDirectoryFile(directoryPath, exportDirectory(signed, anchor.publicKey));
  return { anchorPath: anchor.publicPath, directoryPath };
}
