import {
  type BodyTable,
  type DossierRecord,
  type Refusal,
  type StepCommand,
  type StepContext,
  decideStep,
  isRefusal,
} from '@passerelle/procedure';

/** A step's refusal code, or `'decided'` when it was not refused. */
export function outcomeCode(outcome: unknown): string {
  return isRefusal(outcome) ? outcome.refusal.code : 'decided';
}

/** The outcome a test expects to be decided; a refusal is thrown, so that the test shows it. */
export function decided<T>(outcome: T | Refusal): T {
  if (isRefusal(outcome)) throw outcome.refusal;
  return outcome;
}

/**
 * Decides `command` on `base` put in each of `phases` in turn, with no facts: the code of each outcome
 * (see {@link outcomeCode}), to check where a step is out of sequence, a duplicate or too late.
 */
export function codesInPhases<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
  base: S,
  phases: readonly S['phase'][],
  command: StepCommand,
  ctx: StepContext,
): string[] {
  return phases.map((phase) => outcomeCode(decideStep(table, { ...base, phase }, command, ctx, {})));
}
