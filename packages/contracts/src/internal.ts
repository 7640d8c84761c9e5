// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to contracts's users.
export { ContractError } from './contract-error.js';
export { SCHEMA_FILE_PATTERN } from './load-contracts.js';
export { parsePointer, pick, pointerCovers } from './pointer.js';
