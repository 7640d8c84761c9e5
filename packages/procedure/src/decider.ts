import type { Actor } from './actor.js';
import type { IsoDate } from './dates.js';
import type { PendingMessage } from './dossier-store.js';
import type { DocumentRef } from './messages.js';
import type { Period } from './periods.js';
import type { ProcedureError } from './procedure-error.js';
import type { Body } from './state-machine.js';

// A body's steps as a decider table (the shape of emmett's `handleCommandWithDecider`): each step decides,
// from the dossier's state and what triggered it, the events that happened or a typed refusal; `evolve`
// folds the events into the next state. Everything here is pure: what must be read first (a document, a
// register entry) is declared as needs, which the service host reads before it decides.

/** A person's action taken on a dossier, as the dossier's state keeps it. */
export interface TakenAction {
  action: string;
  /** The step id it was applied under (a retried request with the same id applies nothing twice). */
  stepId: string;
  on: IsoDate;
  /** Who took it; absent when a configured policy took it. */
  by?: Actor;
  /** Taken by a policy the service was configured with, not by a person. */
  automatic?: true;
}

/** What every body's dossier state has: its phase in the body's machine and the actions taken on it. */
export interface DossierRecord {
  phase: string;
  taken?: TakenAction[];
}

/** A step refused with its typed error (a catalogue code), returned by the rules rather than thrown. */
export interface Refusal {
  refusal: ProcedureError;
}

/** Something a step reports (a deadline overrun, a late arrival); never personal data. */
export interface Notice {
  kind: 'deadline' | 'notice';
  type: string;
  detail?: string;
}

/** What a decision document a message references must state (see `ServiceHost.checkDecisionDocument`). */
export interface DecisionDocumentExpectation {
  document: string;
  dossierId: string;
  issuer: string;
  period?: Period;
  outcome?: string;
}

/**
 * A fact a step must have read before it decides, which the service host reads:
 * - `document-reads-back`: whether an uploaded document reads back from `pex-documents` (fact: boolean);
 * - `decision-document`: a decision document checked against what its message states (no fact: a
 *   document that does not check refuses the step with its code);
 * - `lookup`: a read the service provides by name (the commune's register; fact: what it returns).
 */
export type Need =
  | { kind: 'document-reads-back'; key: string; ref: DocumentRef; slot: string }
  | { kind: 'decision-document'; ref: DocumentRef; expected: DecisionDocumentExpectation }
  | { kind: 'lookup'; key: string; lookup: string; arg: string };

/** The facts read for a step's needs, by key. */
export type Facts = Readonly<Record<string, unknown>>;

/**
 * A change outside the dossier (a permit entered in the commune's register), run by the service before the
 * step is written; it must be idempotent, since a step lost to a concurrent write is decided again.
 */
export interface Effect {
  kind: string;
  arg: unknown;
}

/** What a step decided: the events, the messages they send, effects and notices. */
export interface Decided<E> {
  events: E[];
  send?: PendingMessage[];
  effects?: Effect[];
  notices?: Notice[];
  /** A short outcome of a person's action for the service's event (`granted`); never personal data. */
  summary?: string;
}

/** A step's decision, or its refusal. */
export type Decision<E> = Decided<E> | Refusal;

/** Where and when a step is decided. */
export interface StepContext {
  /** The hosted participant id (a region, a commune…). */
  participant: string;
  dossierId: string;
  /** The day of the decision in Brussels. */
  today: IsoDate;
  /** The id of the message handled (the causation of what the step sends); null for actions and deadlines. */
  causationId: string | null;
}

/** The context of a message step: its sender too. */
export interface MessageContext extends StepContext {
  sender: string;
}

/** The context of an action: who takes it (absent when a policy takes it). */
export interface ActionContext extends StepContext {
  actor?: Actor;
}

/** A JSON Schema (2020-12). */
export type JsonSchema = Readonly<Record<string, unknown>>;

/** A step a message triggers. */
export interface MessageStep<S, E, P = unknown> {
  /** What to read first; a refusal here comes before any read. */
  needs?(state: S | undefined, payload: P, ctx: MessageContext): Need[] | Refusal;
  decide(state: S | undefined, payload: P, ctx: MessageContext, facts: Facts): Decision<E>;
}

/** What an action owes a dossier: due now, by a legal deadline when the law sets one. */
export interface Owed {
  deadline?: IsoDate;
}

/** A step a person takes (a case officer's action). Its name is the machine's step name. */
export interface ActionStep<S, E, I = unknown> {
  /** One line for people (the back office's summary of the operation). */
  title: string;
  /**
   * JSON Schema of the input: `$ref`s to the shared definitions and to the message schemas
   * (`https://passerelle.invalid/schemas/…`), which the service host resolves and validates against.
   */
  input: JsonSchema;
  /** The message types the action may send. */
  sends: readonly string[];
  /** Whether the body owes this action in `state` (the worklist), and by when. */
  owed?(state: S): Owed | undefined;
  needs?(state: S | undefined, input: I, ctx: ActionContext): Need[] | Refusal;
  decide(state: S | undefined, input: I, ctx: ActionContext, facts: Facts): Decision<E>;
}

/** A step a deadline triggers (the periodic scan). */
export interface DeadlineStep<S, E> {
  title: string;
  /** The legal date this step watches in `state`, if any. */
  deadline(state: S): IsoDate | undefined;
  /** Whether the step is due on `ctx.today`. */
  due(state: S, ctx: StepContext): boolean;
  decide(state: S, ctx: StepContext): Decision<E>;
}

/** A body's table: every step, by what triggers it, and the fold of its events into its dossier state. */
export interface BodyTable<S extends DossierRecord, E> {
  body: Body;
  evolve(state: S | undefined, event: E): S;
  /** By message type. */
  messages: Readonly<Record<string, MessageStep<S, E>>>;
  /** By action name. */
  actions: Readonly<Record<string, ActionStep<S, E>>>;
  /** By deadline step name. */
  deadlines: Readonly<Record<string, DeadlineStep<S, E>>>;
}

/** What a policy sees of a dossier whose action it may take. */
export interface PolicyInput<S> {
  participant: string;
  dossierId: string;
  dossier: Readonly<S>;
}

/**
 * Automatic decisions, by action name: each gives the input a person would have given, or undefined to
 * leave the action to a person (the dossier then waits in the worklist). No policy: no automatic decision.
 */
export type Policy<S> = Readonly<Partial<Record<string, (input: PolicyInput<S>) => unknown>>>;

/** What triggers a step. */
export type StepCommand =
  | { kind: 'message'; type: string; payload: unknown; sender: string }
  | { kind: 'action'; action: string; input: unknown; actor?: Actor; stepId: string }
  | { kind: 'deadline'; deadline: string };

/** A step decided: the state it leads to and what it sends, runs and reports. */
export interface StepOutcome<S> {
  state: S;
  /** The events, in order, of the step and of the automatic actions that followed it. */
  events: unknown[];
  send: PendingMessage[];
  effects: Effect[];
  notices: Notice[];
  summary?: string;
  /** False for a deadline step that is not due (nothing decided). */
  decided: boolean;
}
