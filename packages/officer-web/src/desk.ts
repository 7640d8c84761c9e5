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

/**
 * What the page calls of a running body service, in the same process: the part of service-host's
 * `BodyService` it uses, declared here so that this package does not depend on the host (which registers
 * it). A `BodyService` is one.
 */
export interface OfficerDesk {
  readonly service: string;
  /** The hosted participant ids. */
  readonly participants: readonly string[];
  /** Every action of the body, its input schema resolved to shared definitions. */
  actions(): ActionDescriptor[];
  dossier(participant: string, dossierId: string): Promise<DossierRecord | undefined>;
  /** The actions the dossier's phase accepts now. */
  available(participant: string, dossierId: string): Promise<string[]>;
  worklist(options?: { participant?: string; at?: Date }): Promise<DeskWorkItem[]>;
  /** A case officer's action; a refusal is thrown with its catalogue code. */
  act(
    participant: string,
    dossierId: string,
    action: string,
    input: unknown,
    actor: Actor,
    options?: { stepId?: string },
  ): Promise<DossierRecord>;
}
