// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to directory's users.
export { openDirectoryBucket } from './bucket.js';
export { publishEntry } from './publish.js';
export { signEntry } from './entry.js';
export { writeStorageKeys } from './storage-keys.js';
export { entryOfKeys } from './entry-of-keys.js';
export { writeTrustFiles } from './trust-files.js';
