export { createProgram } from './program.js';
export { runCli } from './run.js';
export { readStatus, versionWarning } from './commands/status.js';
export type { ExchangeStatus, StreamStatus } from './commands/status.js';
export { LOCAL_STATE_DIR, resolveServer, withJetStream } from './context.js';
export type { ServerOptions } from './context.js';
export {
  parseDuration,
  participantsAccept,
  participantsApprove,
  participantsList,
  participantsRequest,
  participantsRevoke,
  participantsRotate,
} from './commands/participants.js';
export type { OperatorOptions } from './commands/participants.js';
