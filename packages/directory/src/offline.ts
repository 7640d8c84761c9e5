import { readFile, writeFile } from 'node:fs/promises';
import { type KeyResolver, type KeyUse, type PublicJwk, createStaticResolver } from '@passerelle/envelope';
import { DirectoryError } from './directory-error.js';
import { type ParticipantEntry, type SignedEntry, entryKeys, verifyEntry } from './entry.js';

/** `format` of a directory export file. */
export const DIRECTORY_EXPORT_FORMAT = 'passerelle-directory';

/**
 * A directory export: the anchor-signed entries as they are in the bucket. Each entry carries the
 * anchor's signature, so the file needs no other trust: copy it anywhere, check it with the anchor.
 */
export interface DirectoryExport {
  format: typeof DIRECTORY_EXPORT_FORMAT;
  version: 1;
  exportedAt: string;
  /** `kid` of the anchor the entries were checked against when exported. */
  anchorKid: string;
  entries: SignedEntry[];
}

/** A read-only directory loaded from an export, for offline tools and tests. */
export interface OfflineDirectory extends KeyResolver {
  get(id: string): ParticipantEntry | undefined;
  list(): ParticipantEntry[];
}

/**
 * Builds an export from signed entries (e.g. `client.signedEntries()`).
 *
 * @example
 * ```ts
 * await writeFile('directory.json', JSON.stringify(exportDirectory(client.signedEntries(), anchor), null, 2));
 * ```
 */
export function exportDirectory(
  entries: SignedEntry[],
  anchor: PublicJwk,
  now = new Date(),
): DirectoryExport {
  return {
    format: DIRECTORY_EXPORT_FORMAT,
    version: 1,
    exportedAt: now.toISOString(),
    anchorKid: anchor.kid,
    entries: [...entries],
  };
}

/** Writes an export as JSON. */
export async function writeDirectoryFile(path: string, data: DirectoryExport): Promise<void> {
  await writeFile(path, JSON.stringify(data, null, 2) + '\n');
}

/**
 * The entries of an export, each checked against the anchor (all or nothing: one bad entry, or one
 * participant twice, refuses the file), with their signed form.
 */
export async function verifyExport(
  data: unknown,
  anchor: PublicJwk,
  source: string,
): Promise<Map<string, { entry: ParticipantEntry; signed: SignedEntry }>> {
  const d = data as Partial<DirectoryExport> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    d.format !== DIRECTORY_EXPORT_FORMAT ||
    d.version !== 1 ||
    !Array.isArray(d.entries)
  ) {
    throw new DirectoryError(
      'ERR_DIRECTORY_FILE_INVALID',
      `${source} is not a Passerelle directory export (format ${DIRECTORY_EXPORT_FORMAT}, version 1).`,
    );
  }
  const byId = new Map<string, { entry: ParticipantEntry; signed: SignedEntry }>();
  for (const item of d.entries) {
    const signed = String(item);
    let entry: ParticipantEntry;
    try {
      entry = await verifyEntry(signed, anchor);
    } catch (cause) {
      throw new DirectoryError(
        'ERR_DIRECTORY_FILE_INVALID',
        `${source} holds an entry not signed by this trust anchor.`,
        { cause },
      );
    }
    if (byId.has(entry.id))
      throw new DirectoryError('ERR_DIRECTORY_FILE_INVALID', `${source} holds ${entry.id} twice.`);
    byId.set(entry.id, { entry, signed });
  }
  return byId;
}

/**
 * Checks every entry of an export against the anchor (all or nothing: one bad entry refuses the file)
 * and serves them as a {@link KeyResolver}.
 *
 * @example
 * ```ts
 * const directory = await parseDirectoryExport(JSON.parse(text), anchor);
 * await verifySeal(raw, { resolver: directory });
 * ```
 */
export async function parseDirectoryExport(
  data: unknown,
  anchor: PublicJwk,
  source = 'directory export',
): Promise<OfflineDirectory> {
  const byId = new Map([...(await verifyExport(data, anchor, source))].map(([id, v]) => [id, v.entry]));
  // The verified entries resolve keys exactly as any static set of public keys does.
  const keys = createStaticResolver([...byId.values()].map(entryKeys));
  return {
    resolve: (participantId: string, use: KeyUse, at: Date, kid?: string): Promise<PublicJwk> =>
      keys.resolve(participantId, use, at, kid),
    get: (id) => byId.get(id),
    list: () => [...byId.values()].sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/**
 * Loads an export file written by {@link writeDirectoryFile} (or `passerelle directory export`).
 *
 * @example
 * ```ts
 * const directory = await loadDirectoryFile('directory.json', await loadAnchor('anchor.public.json'));
 * ```
 */
export async function loadDirectoryFile(path: string, anchor: PublicJwk): Promise<OfflineDirectory> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new DirectoryError('ERR_DIRECTORY_FILE_INVALID', `${path} cannot be read as JSON.`, { cause });
  }
  return parseDirectoryExport(data, anchor, path);
}
