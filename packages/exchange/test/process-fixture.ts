/**
 * The file a consumer in its own process (`consumer-process.ts`) is started from, and the start itself:
 * the crash and fault tests kill that process, so it cannot share the test's memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ParticipantKeys, type ParticipantPublicKeys, publicKeysOf } from '@passerelle/envelope';
import { type Fixture, repoRoot } from './fixtures.js';

/** What the consumer process reads: where to connect, as whom, and what to record. */
export interface ProcessFixture {
  server: string | string[];
  /** Stream and bucket replicas (3 on a cluster). */
  replicas?: number;
  root: string;
  participant: string;
  keys: ParticipantKeys;
  /** The public keys of every participant of the fixture, for the process's static resolver. */
  publics: ParticipantPublicKeys[];
  startedFile: string;
  effectsFile: string;
  ackWaitMs: number;
}

/** Writes the process fixture for `participant` of `fx` to `file`. */
export function writeProcessFixture(
  file: string,
  fx: Fixture,
  participant: string,
  rest: Omit<ProcessFixture, 'root' | 'participant' | 'keys' | 'publics'>,
): void {
  const fixture: ProcessFixture = {
    ...rest,
    root: repoRoot,
    participant,
    keys: fx.keys.get(participant)!,
    publics: [...fx.keys.values()].map(publicKeysOf),
  };
  writeFileSync(file, JSON.stringify(fixture));
}

/** Starts the consumer process on `file` in `mode`, resolving once it consumes (rejecting if it exits first). */
export async function startConsumerProcess(
  file: string,
  mode: 'hang' | 'normal' | 'traced',
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'consumer-process.ts'), file, mode],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('consuming') && resolve());
    child.once('exit', (code) =>
      reject(new Error(`the consumer process exited with ${code} before consuming`)),
    );
  });
  return child;
}
