import type { NatsConnection } from '@nats-io/transport-node';
import type { DocumentRef } from '@passerelle/documents';
import type { DeskActOptions, DeskWorkItem, OfficerDesk } from '@passerelle/officer-web';
import type { ActionDescriptor, IsoDate, JournalEntry } from '@passerelle/procedure';

/** Options of a case officer's action. */
export type ActOptions = DeskActOptions;

/** An action as a back office publishes it: its input schema resolved (refs to shared definitions only). */
export type ServiceAction = ActionDescriptor;

/** An action a body owes a dossier now: one line of a case officer's worklist. */
export type WorkItem = DeskWorkItem;

/** A deadline step a scan took. */
export interface DeadlineRun {
  participant: string;
  dossierId: string;
  /** The deadline step's name (`fee-deadline`, `review`…). */
  step: string;
  /** The legal date it watched. */
  deadline?: IsoDate;
  /** The dossier's phase after it. */
  phase: string;
}

/** A dossier as a hosted id keeps it: its state and its journal, oldest step first. */
export interface DossierView<S> {
  state: S;
  journal: JournalEntry[];
}

/** A step decided by a body service, as its listeners hear of it. */
export interface DecidedStep {
  participant: string;
  dossierId: string;
  /** The journal's entry of the step (the messages it sends without their ids). */
  entry: JournalEntry;
}

/** Hears of each step a body service decides. */
export type StepListener = (step: DecidedStep) => void;

/**
 * A running body service as a back office drives it, the same for every body: its actions, its dossiers,
 * its worklist, a case officer's action, the deadline scan.
 */
export interface BodyService<S> extends OfficerDesk<S> {
  /** The state and the journal a hosted id keeps of a dossier (payloads decrypted). */
  record(participant: string, dossierId: string): Promise<DossierView<S> | undefined>;
  /**
   * A document a dossier's message referenced, read and decrypted for a hosted id: an upload, or a decision
   * document of `issuer` (`decision: true`).
   */
  readDocument(
    participant: string,
    ref: DocumentRef,
    from: { issuer: string; decision: boolean },
  ): Promise<Uint8Array>;
  /** Calls `listener` after each step decided here; returns its removal. */
  onStep(listener: StepListener): () => void;
  /** The connection the dossiers' store is on (the first hosted id's): a back office's door opens on it. */
  connection(): NatsConnection;
  /** Takes the deadline steps due by `at` (default now), for every dossier or those named. */
  checkDeadlines(at?: Date, options?: { dossierIds?: readonly string[] }): Promise<DeadlineRun[]>;
  close(): Promise<void>;
}
