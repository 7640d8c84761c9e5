import { Command } from 'commander';
import { registerAudit } from './commands/audit.js';
import { registerDirectory } from './commands/directory.js';
import { registerDlq } from './commands/dlq.js';
import { registerDossier } from './commands/dossier.js';
import { registerEnvelope } from './commands/envelope.js';
import { registerKeys } from './commands/keys.js';
import { registerParticipants } from './commands/participants.js';
import { registerStatus } from './commands/status.js';
import { registerStorage } from './commands/storage.js';
import { registerTail } from './commands/tail.js';

/**
 * Builds the `passerelle` command line. Each command group lives in `commands/<group>.ts` and registers
 * itself here, so tests can run the program in-process.
 */
export function createProgram(): Command {
  const program = new Command('passerelle')
    .description('Passerelle: secure message exchange for single-permit dossiers')
    .showHelpAfterError()
    .exitOverride();
  registerStatus(program);
  registerKeys(program);
  registerStorage(program);
  registerDirectory(program);
  registerEnvelope(program);
  registerDlq(program);
  registerDossier(program);
  registerTail(program);
  registerAudit(program);
  registerParticipants(program);
  return program;
}
