// What tests and the repository's scenarios use beside the public API (index.ts): not promised to the
// CLI's users.
export { runCliCaptured } from './capture.js';
export type { CliRun } from './capture.js';
