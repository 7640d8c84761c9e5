export {
  PARTICIPANT_ID_PATTERN,
  ParticipantKinds,
  REGION_IDS,
  isParticipantId,
  participantKind,
} from './participant-id.js';
export type { ParticipantKind } from './participant-id.js';
export { DIRECTORY_BUCKET, DIRECTORY_HISTORY } from './bucket.js';
export { createDirectoryClient } from './client.js';
export type { DirectoryClient, DirectoryClientOptions, RejectedEntry } from './client.js';
export { publishNextEntry } from './publish.js';
export type { PublishedEntry } from './publish.js';
export { entryVersion, makeEntry, verifyEntry } from './entry.js';
export type { ParticipantEntry, SignedEntry } from './entry.js';
export {
  ANCHOR_FILES,
  KEY_FILES,
  loadAnchor,
  loadAnchorPrivateKey,
  loadParticipantKeys,
  loadPublicKeysFile,
  writeAnchor,
  writeParticipantKeys,
} from './key-files.js';
export type { ParticipantPublicFile } from './key-files.js';
export {
  STORAGE_KEY_FILE,
  ensureStorageKeys,
  generateStorageKeyring,
  loadStorageKeys,
  retireStorageKey,
  rotateStorageKey,
} from './storage-keys.js';
export type { StorageKey, StorageKeyring } from './storage-keys.js';
export {
  DIRECTORY_EXPORT_FORMAT,
  exportDirectory,
  loadDirectoryFile,
  writeDirectoryFile,
} from './offline.js';
export type { DirectoryExport, OfflineDirectory } from './offline.js';
