import type { ActionDescriptor, Actor, DossierRecord, IsoDate } from '@passerelle/procedure';

/** An action the body owes a dossier now: one line of the worklist. */
export interface DeskWorkItem {
  participant: string;
  dossierId: string;
  phase: string;
  action: string;
  /** The legal deadline, where the law sets one. */
  deadline?: IsoDate;
  /** Working days left to it (0 on the day, negative once passed). */
  workingDaysLeft?: number;
}

/** Options of a case officer's action. */
export interface DeskActOptions {
  /**
   * The request's idempotency key: an action given the same key again applies nothing twice and returns the
   * dossier's state (default: a new id, applied once).
   */
  stepId?: string;
}

/**
 * What the page calls of a running body service, in the same process: the part of service-host's
 * `BodyService` it uses, declared here so that this package does not depend on the host (which registers
 * it). A `BodyService` extends it. `S`: the state the body keeps of a dossier.
 */
export interface OfficerDesk<S = DossierRecord> {
  readonly service: string;
  /** The hosted participant ids. */
  readonly participants: readonly string[];
  /** Every action of the body: name, input schema resolved to shared definitions, phases allowed, messages sent. */
  actions(): ActionDescriptor[];
  /** The state a hosted id keeps of a dossier. */
  dossier(participant: string, dossierId: string): Promise<S | undefined>;
  /** The actions the dossier's phase accepts now. */
  available(participant: string, dossierId: string): Promise<string[]>;
  /** The actions owed, over every dossier of the hosted ids (or of one), soonest deadline first. */
  worklist(options?: { participant?: string; at?: Date }): Promise<DeskWorkItem[]>;
  /**
   * A case officer's action on a dossier: checked (hosted id, action, input schema, actor), decided, written
   * with what it sends, sent. A refusal is thrown with its catalogue code. Returns the dossier's state.
   */
  act(
    participant: string,
    dossierId: string,
    action: string,
    input: unknown,
    actor: Actor,
    options?: DeskActOptions,
  ): Promise<S>;
}
