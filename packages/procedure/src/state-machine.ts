import { ProcedureError } from './procedure-error.js';

/** The administrations that keep dossier state, one service each. */
export type Body = 'regional-authority' | 'immigration-office' | 'consular-post' | 'commune';

/**
 * A body's dossier state machine: which incoming message types and desk actions (`decide-work`,
 * `register-arrival`…) each phase accepts. A step refused in a phase is classified: unknown dossier,
 * closed dossier, a second decision for a step already decided, or simply out of sequence.
 */
export interface DossierMachine<P extends string = string> {
  /** Steps that open a dossier this body has not seen yet. */
  opens: readonly string[];
  /**
   * Steps that may legitimately arrive before the step that opens the dossier here (another body's message
   * overtaking the integrator's copy): retried (ERR_DOSSIER_NOT_YET_KNOWN) rather than dead-lettered at once.
   */
  mayOvertake: readonly string[];
  /** Accepted steps per phase. */
  phases: Readonly<Record<P, readonly string[]>>;
  /** Phases in which the dossier is closed. */
  closed: readonly P[];
  /** For a decision step: the phases in which it was already taken (a repeat is ERR_DUPLICATE_DECISION). */
  decidedIn: Readonly<Record<string, readonly P[]>>;
}

/** Phases of a dossier at the regional authority. */
export type RegionPhase =
  'received' | 'awaiting-items' | 'admissible' | 'work-decided' | 'granted' | 'permit-issued' | 'closed';
/** Phases of a dossier at the Immigration Office. */
export type OfficePhase =
  | 'submitted'
  | 'admissible'
  | 'work-decided'
  | 'granted'
  | 'visa-issued'
  | 'arrived'
  | 'permit-issued'
  | 'closed';
/** Phases of a dossier at a consular post. */
export type PostPhase = 'annex-46-received' | 'visa-issued';
/** Phases of a dossier at a commune. */
export type CommunePhase = 'annex-46-received' | 'arrived' | 'renewal-pending' | 'permit-issued' | 'closed';

const WHILE_OPEN = ['documents-added', 'fee-proof-submitted', 'fee-payment-requested'] as const;

/** Regional authority (agreement of 5 March 2021; Art. 105/45, 105/46 §2, 33 §6). */
export const REGION_MACHINE: DossierMachine<RegionPhase> = {
  opens: ['application-submitted'],
  mayOvertake: ['fee-payment-requested'],
  phases: {
    // A fee refusal (annex 43 / 43bis) may come while the region still waits for documents.
    received: [...WHILE_OPEN, 'rule-completeness', 'residence-decided'],
    'awaiting-items': [...WHILE_OPEN, 'rule-completeness', 'residence-decided'],
    // Art. 105/67: a request for documents or information while the work is not decided
    admissible: [
      ...WHILE_OPEN,
      'decide-work',
      'request-information',
      'residence-decided',
      'renewal-pending-attested',
    ],
    'work-decided': [...WHILE_OPEN, 'residence-decided', 'renewal-pending-attested'],
    granted: ['documents-added', 'permit-issued', 'permit-renewed', 'stay-ended'],
    'permit-issued': ['documents-added', 'stay-ended'],
    closed: [],
  },
  closed: ['closed'],
  decidedIn: {
    'rule-completeness': ['admissible', 'work-decided', 'granted', 'permit-issued'],
    'decide-work': ['work-decided', 'granted', 'permit-issued'],
    'residence-decided': ['granted', 'permit-issued'],
    'permit-issued': ['permit-issued'],
    'permit-renewed': ['permit-issued'],
  },
};

/** Immigration Office (Art. 1/2/1, 105/46 – 105/48, 105/51 – 105/54, 105/57 – 105/65). */
export const OFFICE_MACHINE: DossierMachine<OfficePhase> = {
  opens: ['application-submitted'],
  mayOvertake: ['completeness-ruled', 'work-authorisation-decided', 'fee-proof-submitted', 'documents-added'],
  phases: {
    // a short-term mobility (Art. 105/43) may be objected to before its notification is complete, and is
    // decided, expressly or at the end of its 20 days, once it is
    submitted: [
      'documents-added',
      'fee-proof-submitted',
      'completeness-ruled',
      'fee-deadline',
      'decide-mobility',
    ],
    admissible: [
      'decide-mobility',
      'objection-deadline',
      'documents-added',
      'fee-proof-submitted',
      'work-authorisation-decided',
      'renewal-pending-attested',
      'provisional-document-extended',
      'fee-deadline',
      'decide-residence',
      'request-information',
    ],
    'work-decided': [
      'documents-added',
      'fee-proof-submitted',
      'renewal-pending-attested',
      'provisional-document-extended',
      'fee-deadline',
      'decide-residence',
      'request-information',
    ],
    granted: ['documents-added', 'visa-issued', 'arrival-registered', 'permit-renewed', 'end-stay'],
    'visa-issued': ['documents-added', 'arrival-registered', 'end-stay'],
    arrived: [
      'documents-added',
      'provisional-document-extended',
      'residence-checked',
      'permit-issued',
      'end-stay',
    ],
    'permit-issued': ['documents-added', 'end-stay'],
    closed: [],
  },
  closed: ['closed'],
  decidedIn: {
    'completeness-ruled': [
      'admissible',
      'work-decided',
      'granted',
      'visa-issued',
      'arrived',
      'permit-issued',
    ],
    'work-authorisation-decided': ['work-decided', 'granted', 'visa-issued', 'arrived', 'permit-issued'],
    'decide-residence': ['granted', 'visa-issued', 'arrived', 'permit-issued'],
    'visa-issued': ['visa-issued', 'arrived', 'permit-issued'],
    'arrival-registered': ['arrived', 'permit-issued'],
    'permit-issued': ['permit-issued'],
    'permit-renewed': ['permit-issued'],
  },
};

/** Consular post (Art. 105/46 §3, 105/47 §1). */
export const POST_MACHINE: DossierMachine<PostPhase> = {
  opens: ['residence-decided'],
  mayOvertake: [],
  phases: { 'annex-46-received': ['issue-visa'], 'visa-issued': [] },
  closed: [],
  decidedIn: { 'residence-decided': ['annex-46-received', 'visa-issued'], 'issue-visa': ['visa-issued'] },
};

/** Commune (Art. 105/47 §2, 105/52 §2, 105/58, 105/63 §2, 33 §6). */
export const COMMUNE_MACHINE: DossierMachine<CommunePhase> = {
  opens: ['residence-decided', 'register-arrival', 'attest-renewal-pending'],
  mayOvertake: [],
  phases: {
    'annex-46-received': ['register-arrival', 'renew-permit', 'stay-ended'],
    // Art. 105/47 §2 al. 2, 105/58 al. 2: the residence check comes before the permit (and may be repeated)
    arrived: ['extend-provisional', 'check-residence', 'issue-permit', 'stay-ended'],
    'renewal-pending': ['extend-provisional', 'residence-decided', 'renew-permit', 'stay-ended'],
    'permit-issued': ['stay-ended'],
    closed: [],
  },
  closed: ['closed'],
  decidedIn: {
    'residence-decided': ['annex-46-received', 'arrived', 'permit-issued'],
    'register-arrival': ['arrived', 'permit-issued'],
    'issue-permit': ['permit-issued'],
    'renew-permit': ['permit-issued'],
    'attest-renewal-pending': ['renewal-pending'],
  },
};

/** The machine of each body. */
export const DOSSIER_MACHINES: Readonly<Record<Body, DossierMachine>> = {
  'regional-authority': REGION_MACHINE,
  'immigration-office': OFFICE_MACHINE,
  'consular-post': POST_MACHINE,
  commune: COMMUNE_MACHINE,
};

/**
 * The typed error for a step the dossier's phase does not accept, or undefined when it accepts it:
 * ERR_UNKNOWN_DOSSIER (or the retryable ERR_DOSSIER_NOT_YET_KNOWN for a step that may overtake the opening
 * one), ERR_DOSSIER_CLOSED, ERR_DUPLICATE_DECISION, ERR_OUT_OF_SEQUENCE. Messages name the dossier id
 * (pseudonymous) and the step only. Returned, not thrown: the deciders refuse with it.
 *
 * @example
 * ```ts
 * stepRefusal('immigration-office', undefined, 'visa-issued', 'D-2027-0001')?.code; // 'ERR_UNKNOWN_DOSSIER'
 * ```
 */
export function stepRefusal<P extends string>(
  body: Body,
  phase: P | undefined,
  step: string,
  dossierId: string,
): ProcedureError | undefined {
  const machine = DOSSIER_MACHINES[body] as DossierMachine<P>;
  const details = { body, dossierId, step, ...(phase ? { phase } : {}) };
  if (phase === undefined) {
    if (machine.opens.includes(step)) return undefined;
    if (machine.mayOvertake.includes(step)) {
      return new ProcedureError(
        'ERR_DOSSIER_NOT_YET_KNOWN',
        `${step} for dossier ${dossierId} arrived before its application at the ${body}.`,
        { details },
      );
    }
    return new ProcedureError('ERR_UNKNOWN_DOSSIER', `The ${body} has no dossier ${dossierId} (${step}).`, {
      details,
    });
  }
  // a phase the machine does not name (a record of another release) accepts nothing
  const accepted = Object.hasOwn(machine.phases, phase) ? machine.phases[phase] : [];
  if (accepted.includes(step)) return undefined;
  if (machine.closed.includes(phase)) {
    return new ProcedureError(
      'ERR_DOSSIER_CLOSED',
      `Dossier ${dossierId} is closed at the ${body} (${step}).`,
      {
        details,
      },
    );
  }
  const decidedIn = Object.hasOwn(machine.decidedIn, step) ? machine.decidedIn[step] : undefined;
  if (decidedIn?.includes(phase) || (machine.opens.includes(step) && !decidedIn)) {
    return new ProcedureError(
      'ERR_DUPLICATE_DECISION',
      `Dossier ${dossierId} already had its ${step} at the ${body} (phase ${phase}).`,
      { details },
    );
  }
  return new ProcedureError(
    'ERR_OUT_OF_SEQUENCE',
    `${step} does not follow phase ${phase} of dossier ${dossierId} at the ${body}.`,
    { details },
  );
}

/**
 * Throws {@link stepRefusal}'s error for a step the dossier's phase does not accept.
 *
 * @example
 * ```ts
 * assertStep('immigration-office', undefined, 'visa-issued', 'D-2027-0001'); // throws ERR_UNKNOWN_DOSSIER
 * ```
 */
export function assertStep<P extends string>(
  body: Body,
  phase: P | undefined,
  step: string,
  dossierId: string,
): void {
  const refusal = stepRefusal(body, phase, step, dossierId);
  if (refusal) throw refusal;
}

/**
 * The phases of a body's machine in which `step` is accepted, and whether it may open a dossier: what a
 * back office shows of an action (the states in which it is allowed).
 */
export function phasesAccepting(body: Body, step: string): { phases: string[]; opens: boolean } {
  const machine = DOSSIER_MACHINES[body];
  return {
    phases: Object.entries(machine.phases)
      .filter(([, steps]) => steps.includes(step))
      .map(([phase]) => phase),
    opens: machine.opens.includes(step),
  };
}
