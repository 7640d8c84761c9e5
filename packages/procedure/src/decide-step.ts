import type {
  ActionContext,
  ActionStep,
  BodyTable,
  Decided,
  DossierRecord,
  Facts,
  JsonSchema,
  MessageContext,
  Need,
  Owed,
  Policy,
  Refusal,
  StepCommand,
  StepContext,
  StepOutcome,
  TakenAction,
} from './decider.js';
import { type IsoDate, dayNumber } from './dates.js';
import { workingDaysBetween } from './calendar.js';
import { isRefusal, refuse } from './refusal.js';
import { phasesAccepting, stepRefusal } from './state-machine.js';

/** The step of a table by name, never an inherited member (`constructor`): names come from requests. */
function own<T>(steps: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(steps, name) ? steps[name] : undefined;
}

/** Folds `events` into `state` with the table's `evolve`. */
export function fold<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
  state: S | undefined,
  events: readonly E[],
): S | undefined {
  return events.reduce<S | undefined>((s, e) => table.evolve(s, e), state);
}

function unknownAction(action: string, ctx: StepContext): Refusal {
  return refuse('ERR_UNKNOWN_ACTION', `No action ${action.slice(0, 64)} at this body.`, {
    dossierId: ctx.dossierId,
    action: action.slice(0, 64),
  });
}

/**
 * What a step must have read before it decides, or its refusal when the dossier's phase does not accept
 * it (or the step's own preconditions fail): the service host reads the needs, then calls
 * {@link decideStep} with the facts.
 */
export function stepNeeds<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
  state: S | undefined,
  command: StepCommand,
  ctx: StepContext,
): Need[] | Refusal {
  switch (command.kind) {
    case 'message': {
      const step = own(table.messages, command.type);
      if (!step) {
        return refuse('ERR_OUT_OF_SEQUENCE', `No ${command.type.slice(0, 64)} step at the ${table.body}.`, {
          dossierId: ctx.dossierId,
          step: command.type.slice(0, 64),
        });
      }
      const refused = stepRefusal(table.body, state?.phase, command.type, ctx.dossierId);
      if (refused) return { refusal: refused };
      return step.needs?.(state, command.payload, { ...ctx, sender: command.sender }) ?? [];
    }
    case 'action': {
      const step = own(table.actions, command.action);
      if (!step) return unknownAction(command.action, ctx);
      const refused = stepRefusal(table.body, state?.phase, command.action, ctx.dossierId);
      if (refused) return { refusal: refused };
      return step.needs?.(state, command.input, actionContext(ctx, command.actor)) ?? [];
    }
    case 'deadline':
      return [];
  }
}

function actionContext(ctx: StepContext, actor: ActionContext['actor']): ActionContext {
  return actor ? { ...ctx, actor } : { ...ctx };
}

/**
 * Decides a step, purely: the phase check of the body's machine, the step's decision (with the facts its
 * needs gave), the fold of its events, the record of a person's action in the state, then the automatic
 * actions `policy` takes on what the dossier now owes. Returns the outcome or the step's refusal; a rule
 * never throws for an input its schema accepts.
 *
 * @example
 * ```ts
 * const out = decideStep(regionTable(), state, { kind: 'action', action: 'decide-work', input, actor, stepId }, ctx, {});
 * if (isRefusal(out)) throw out.refusal;
 * ```
 */
export function decideStep<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
  state: S | undefined,
  command: StepCommand,
  ctx: StepContext,
  facts: Facts,
  policy?: Policy<S>,
): StepOutcome<S> | Refusal {
  let decided: Decided<E>;
  let taken: TakenAction | undefined;
  switch (command.kind) {
    case 'message': {
      const step = own(table.messages, command.type);
      const refused = stepNeeds(table, state, command, ctx);
      if (isRefusal(refused)) return refused;
      const mctx: MessageContext = { ...ctx, sender: command.sender };
      const decision = step!.decide(state, command.payload, mctx, facts);
      if (isRefusal(decision)) return decision;
      decided = decision;
      break;
    }
    case 'action': {
      const step = own(table.actions, command.action);
      const refused = stepNeeds(table, state, command, ctx);
      if (isRefusal(refused)) return refused;
      const decision = step!.decide(state, command.input, actionContext(ctx, command.actor), facts);
      if (isRefusal(decision)) return decision;
      // what the person's action sends names who took it (kept in the outbox record)
      const actor = command.actor;
      decided = actor ? { ...decision, send: decision.send?.map((m) => ({ ...m, actor })) } : decision;
      taken = {
        action: command.action,
        stepId: command.stepId,
        on: ctx.today,
        ...(command.actor ? { by: command.actor } : {}),
      };
      break;
    }
    case 'deadline': {
      const step = own(table.deadlines, command.deadline);
      if (!state) {
        return refuse('ERR_UNKNOWN_DOSSIER', `The ${table.body} has no dossier ${ctx.dossierId}.`, {
          dossierId: ctx.dossierId,
        });
      }
      if (!step || !step.due(state, ctx)) {
        return { state, events: [], send: [], effects: [], notices: [], decided: false };
      }
      const decision = step.decide(state, ctx);
      if (isRefusal(decision)) return decision;
      decided = decision;
      break;
    }
  }
  let next = fold(table, state, decided.events);
  if (!next) {
    return refuse('ERR_UNKNOWN_DOSSIER', `The ${table.body} has no dossier ${ctx.dossierId}.`, {
      dossierId: ctx.dossierId,
    });
  }
  if (taken) next = { ...next, taken: [...(next.taken ?? []), taken] };
  const outcome: StepOutcome<S> = {
    state: next,
    events: [...decided.events],
    send: [...(decided.send ?? [])],
    effects: [...(decided.effects ?? [])],
    notices: [...(decided.notices ?? [])],
    ...(decided.summary ? { summary: decided.summary } : {}),
    decided: true,
  };
  if (policy)
    followPolicy(table, outcome, ctx, policy, command.kind === 'action' ? command.stepId : undefined);
  return outcome;
}

/**
 * Takes, in `outcome`, the actions the dossier now owes that `policy` answers: each at most once per step,
 * in the table's order, each seeing the state the previous one left. Only actions that need no read can be
 * automatic. A policy's input the action refuses is not taken: the dossier waits for a person, and a notice
 * says why.
 */
function followPolicy<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
  outcome: StepOutcome<S>,
  ctx: StepContext,
  policy: Policy<S>,
  stepId: string | undefined,
): void {
  const done = new Set<string>();
  for (let round = 0; round <= Object.keys(table.actions).length; round += 1) {
    let took = false;
    for (const [name, action] of Object.entries(table.actions)) {
      const automatic = Object.hasOwn(policy, name) ? policy[name] : undefined;
      if (!automatic || done.has(name) || !action.owed?.(outcome.state)) continue;
      if (stepRefusal(table.body, outcome.state.phase, name, ctx.dossierId)) continue;
      const input = automatic({
        participant: ctx.participant,
        dossierId: ctx.dossierId,
        dossier: outcome.state,
      });
      if (input === undefined) continue;
      done.add(name);
      const needs = action.needs?.(outcome.state, input, ctx) ?? [];
      const decision =
        isRefusal(needs) || needs.length > 0 ? needs : action.decide(outcome.state, input, ctx, {});
      if (isRefusal(decision) || Array.isArray(decision)) {
        const why = isRefusal(decision) ? decision.refusal.code : 'it needs a read first';
        outcome.notices.push({ kind: 'notice', type: name, detail: `automatic decision not taken: ${why}` });
        continue;
      }
      const next = fold(table, outcome.state, decision.events)!;
      outcome.state = {
        ...next,
        taken: [
          ...(next.taken ?? []),
          {
            action: name,
            stepId: stepId ?? `${name}:${ctx.causationId ?? ctx.today}`,
            on: ctx.today,
            automatic: true,
          },
        ],
      };
      outcome.events.push(...decision.events);
      outcome.send.push(...(decision.send ?? []));
      outcome.effects.push(...(decision.effects ?? []));
      outcome.notices.push(...(decision.notices ?? []));
      took = true;
    }
    if (!took) return;
  }
}

/** An action as the back office shows it: what it does, its input, where it is allowed, what it sends. */
export interface ActionDescriptor {
  /** Stable name (the machine's step name), e.g. `decide-work`. */
  name: string;
  title: string;
  /** JSON Schema of the input, as the table declares it (see `ServiceHost.actions` for it resolved). */
  input: JsonSchema;
  /** Phases of the body's machine in which it is allowed. */
  allowedIn: string[];
  /** Whether it may open a dossier the body has not seen yet. */
  opens: boolean;
  /** Message types it may send. */
  sends: readonly string[];
}

/**
 * Every action of a table, described for a back office.
 *
 * @example
 * ```ts
 * describeActions(regionTable()).map((a) => a.name); // ['decide-work']
 * ```
 */
export function describeActions<S extends DossierRecord, E>(table: BodyTable<S, E>): ActionDescriptor[] {
  return Object.entries(table.actions).map(([name, action]: [string, ActionStep<S, E>]) => {
    const { phases, opens } = phasesAccepting(table.body, name);
    return { name, title: action.title, input: action.input, allowedIn: phases, opens, sends: action.sends };
  });
}

/** The actions the dossier's phase accepts now (a case officer's page offers them). */
export function availableActions<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
  state: S | undefined,
  dossierId: string,
): string[] {
  return Object.keys(table.actions).filter((name) => !stepRefusal(table.body, state?.phase, name, dossierId));
}

/** The actions the body owes a dossier now, with their legal deadlines (the worklist). */
export function owedActions<S extends DossierRecord, E>(
  table: BodyTable<S, E>,
  state: S,
): ({ action: string } & Owed)[] {
  const owed: ({ action: string } & Owed)[] = [];
  for (const [name, action] of Object.entries(table.actions)) {
    const o = action.owed?.(state);
    if (o) owed.push({ action: name, ...o });
  }
  return owed;
}

/**
 * Working days from `today` to `deadline`: how many are left (0 on the deadline itself), negative once it
 * has passed (how many working days late).
 *
 * @example
 * ```ts
 * workingDaysLeft('2027-07-16', '2027-07-29'); // 8
 * workingDaysLeft('2027-07-30', '2027-07-29'); // -1
 * ```
 */
export function workingDaysLeft(today: IsoDate, deadline: IsoDate): number {
  return dayNumber(deadline) >= dayNumber(today)
    ? workingDaysBetween(today, deadline)
    : -workingDaysBetween(deadline, today);
}
