import { runCli } from './run.js';

/** What {@link runCliCaptured} saw: the exit code and the lines printed on stdout and stderr. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs the CLI in-process with `argv` and returns what it printed instead of printing it: for tests and
 * for the scenarios that drive the CLI as an operator would.
 */
export async function runCliCaptured(argv: readonly string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    process.exitCode = 0;
    const code = await runCli(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
    process.exitCode = 0;
  }
}
