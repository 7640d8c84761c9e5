import { CommanderError } from 'commander';
import { PasserelleError } from '@passerelle/errors';
import { createProgram } from './program.js';

/**
 * Runs the CLI with `argv` (without node and script), printing typed errors as `error <CODE>: <message>`.
 * Resolves to the exit code.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof PasserelleError) {
      console.error(`error ${err.code}: ${err.message}`);
      return 1;
    }
    const e = err as { code?: string; message?: string };
    console.error(`error${e.code ? ` ${e.code}` : ''}: ${e.message ?? String(err)}`);
    return 1;
  }
}
