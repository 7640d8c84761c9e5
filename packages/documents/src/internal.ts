// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to documents's users.
export { DECISIONS_BUCKET } from './decision-archive.js';
