// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to settings's users.
export { renderSettingsTable } from './settings-table.js';
