// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to cli's users.
export { readStatus, versionWarning } from './commands/status.js';
export {
  participantsAccept,
  participantsApprove,
  participantsList,
  participantsRequest,
  participantsRevoke,
  participantsRotate,
} from './commands/participants.js';
// What tests and the repository's scenarios use beside the public API (index.ts): not promised to the
// CLI's users.
export { runCliCaptured } from './capture.js';
export type { CliRun } from './capture.js';
