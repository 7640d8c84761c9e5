import type { StepCommand } from '@passerelle/procedure';

/** The officer a sample action is taken by. */
export interface SampleActor {
  readonly clientId: string;
  readonly officerId: string;
}

/** A message step: `payload` of `type`, as `sender` sent it. */
export function messageFrom(sender: string, type: string, payload: unknown): StepCommand {
  return { kind: 'message', type, payload, sender };
}

/** An action step: `action` with `input`, taken by `actor`, as its first step of that name. */
export function actionBy(actor: SampleActor, action: string, input: unknown = {}): StepCommand {
  return { kind: 'action', action, input, actor, stepId: `${action}:1` };
}
