import {
  type BodyTable,
  type DossierRecord,
  type Facts,
  type Need,
  type Policy,
  type Refusal,
  type StepCommand,
  type StepContext,
  type StepOutcome,
  decideStep,
  stepNeeds,
} from '@passerelle/procedure';

/** One body's table as its tests drive it: every step on the same context unless a test says otherwise. */
export interface TableStepper<S extends DossierRecord> {
  /** The context a step is taken on by default. */
  readonly ctx: StepContext;
  /** Decides `command` on `state`: on {@link ctx}, with no facts and no policy unless told. */
  readonly step: (
    state: S | undefined,
    command: StepCommand,
    at?: StepContext,
    facts?: Facts,
    policy?: Policy<S>,
  ) => StepOutcome<S> | Refusal;
  /** What `command` on `state` must read before it decides, or its refusal: on {@link ctx} unless told. */
  readonly needs: (state: S | undefined, command: StepCommand, at?: StepContext) => Need[] | Refusal;
}

/** Steps `table` on `ctx`, as {@link decideStep} and {@link stepNeeds} do for the service host. */
export function tableStepper<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
  ctx: StepContext,
): TableStepper<S> {
  return {
    ctx,
    step: (state, command, at = ctx, facts = {}, policy) =>
      decideStep(table, state, command, at, facts, policy),
    needs: (state, command, at = ctx) => stepNeeds(table, state, command, at),
  };
}
