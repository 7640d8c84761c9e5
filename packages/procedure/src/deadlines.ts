import { addDays, addMonths, dayNumber, type IsoDate } from './dates.js';
import type { Decided, DeadlineStep, DossierRecord, StepContext } from './decider.js';
import type { PendingMessage } from './dossier-store.js';

/**
 * The deadlines whose overrun a body reports (`deadline-overrun`), with the article that sets each. The
 * seeds set all but the decision deadlines of the work authorisation and of residence outside the family
 * members' 90 days: for those the services apply the directives the texts transpose (see PROCEDURE.md).
 */
export const LEGAL_DEADLINES = {
  'work-decision': {
    article: 'Directive 2014/66/EU Art. 15(1), 22(2)(b); Directive 2011/98/EU Art. 5(2)',
    what: 'the decision on the work authorisation',
  },
  'residence-decision': {
    article: 'Directive 2014/66/EU Art. 15(1), 22(2)(b); Directive 2011/98/EU Art. 5(2)',
    what: 'the decision on residence',
  },
  'family-decision': {
    article: 'AR 8.10.1981 Art. 26/2 §3, 26/2/1 §3',
    what: "the decision on a family member's residence (90 days from the application)",
  },
  'information-answer': {
    article: 'AR 8.10.1981 Art. 105/67',
    what: 'the answer to a request for documents or information',
  },
  visa: {
    article: 'AR 8.10.1981 Art. 105/47 §1',
    what: 'the long-stay visa, issued without delay on annex 46',
  },
  'arrival-report': {
    article: 'AR 8.10.1981 Art. 105/47 §2 al. 1, 105/58 §1 al. 1',
    what: 'the report at the commune within eight working days of entry',
  },
  'provisional-document': {
    article: 'AR 8.10.1981 Art. 105/47 §2 al. 3, 105/58 §1 al. 3',
    what: 'the permit, before the provisional document (annex 49, 45 days) runs out unextended',
  },
  'renewal-pending': {
    article: 'AR 8.10.1981 Art. 33 §6',
    what: 'the renewal, before the attestation (annex 49, 30 days, extendable once) runs out unextended',
  },
} as const satisfies Readonly<Record<string, { article: string; what: string }>>;

/** A deadline whose overrun is reported. */
export type LegalDeadlineId = keyof typeof LEGAL_DEADLINES;

/** Calendar days the ICT directive gives to decide once the application is complete (Art. 15(1), 22(2)(b)). */
export const ICT_DECISION_DAYS = 90;
/** Months the single-permit directive gives to decide from the application (Art. 5(2)). */
export const SINGLE_PERMIT_DECISION_MONTHS = 4;

/**
 * The day by which the work authorisation and residence must be decided: 90 days from the complete
 * application for an ICT or a long-term mobility (Directive 2014/66/EU Art. 15(1), 22(2)(b)), four months
 * from the application otherwise (Directive 2011/98/EU Art. 5(2)). The seeds set neither; a case officer
 * expects the deadline the directives give.
 *
 * @example
 * ```ts
 * decisionDeadline({ scheme: 'ict', appliedOn: '2027-01-04', completeOn: '2027-01-11' }); // '2027-04-11'
 * decisionDeadline({ scheme: 'standard', appliedOn: '2027-01-04' }); // '2027-05-04'
 * ```
 */
export function decisionDeadline(d: { scheme: string; appliedOn: IsoDate; completeOn?: IsoDate }): IsoDate {
  return d.scheme === 'ict' || d.scheme === 'ict-mobility'
    ? addDays(d.completeOn ?? d.appliedOn, ICT_DECISION_DAYS)
    : addMonths(d.appliedOn, SINGLE_PERMIT_DECISION_MONTHS);
}

/** What a dossier keeps of the overruns reported: the date overrun, per deadline (one report each). */
export type OverrunsReported = Readonly<Partial<Record<LegalDeadlineId, IsoDate>>>;

/** A dossier whose overruns are reported to its integrator when its portal is known. */
export interface OverrunTracked extends DossierRecord {
  routing?: { portalId?: string };
  overruns?: OverrunsReported;
}

/** The event of an overrun reported (folded by {@link recordOverrun}). */
export interface OverrunReported {
  type: 'deadline-overrun-reported';
  deadline: LegalDeadlineId;
  dueOn: IsoDate;
  on: IsoDate;
}

/** The state once the overrun of `event` is reported: a later scan (or a restart) reports it no more. */
export function recordOverrun<S extends OverrunTracked>(state: S, event: OverrunReported): S {
  return { ...state, overruns: { ...state.overruns, [event.deadline]: event.dueOn } };
}

/**
 * Whether `deadline`, due on `dueOn`, is overrun on `today` (the day after it) and not yet reported for
 * that date: a deadline moved later (an extension) can be overrun, and reported, again.
 *
 * @example
 * ```ts
 * overrunDue({ phase: 'admissible' }, 'work-decision', '2027-04-11', '2027-04-12'); // true
 * ```
 */
export function overrunDue(
  state: OverrunTracked,
  deadline: LegalDeadlineId,
  dueOn: IsoDate | undefined,
  today: IsoDate,
): boolean {
  return (
    dueOn !== undefined &&
    state.phase !== 'closed' &&
    state.overruns?.[deadline] !== dueOn &&
    dayNumber(today) > dayNumber(dueOn)
  );
}

/** The `deadline-overrun` message to the integrator: codes and dates only. */
export function overrunMessage(
  state: OverrunTracked,
  deadline: LegalDeadlineId,
  dueOn: IsoDate,
  ctx: StepContext,
): PendingMessage {
  return {
    type: 'deadline-overrun',
    payload: { deadline, article: LEGAL_DEADLINES[deadline].article, dueOn, reportedOn: ctx.today },
    to: [state.routing!.portalId!],
    context: { ...state.routing },
    causationId: ctx.causationId,
  };
}

/**
 * What reporting that `deadline`, due on `dueOn`, has passed decides: the dossier's record of the report,
 * the `deadline` notice for the body and, when the dossier names its portal, `deadline-overrun` to the
 * integrator. A scan's {@link overrunStep} decides it, and so does a step that learns of an overrun itself
 * (a commune told of a late arrival at its desk).
 */
export function reportOverrun(
  state: OverrunTracked,
  deadline: LegalDeadlineId,
  dueOn: IsoDate,
  ctx: StepContext,
): Decided<OverrunReported> {
  const { article, what } = LEGAL_DEADLINES[deadline];
  return {
    events: [{ type: 'deadline-overrun-reported', deadline, dueOn, on: ctx.today }],
    send: state.routing?.portalId ? [overrunMessage(state, deadline, dueOn, ctx)] : [],
    notices: [{ kind: 'deadline', type: deadline, detail: `${article}: ${what} was due on ${dueOn}` }],
    summary: deadline,
  };
}

/**
 * The scan's step that reports, once, that `deadline` (the date `dueOn` reads from the state while the
 * body still owes what it watches) has passed: to the body (a `deadline` notice: its service event, log
 * line, metric and back-office event) and to the integrator (`deadline-overrun`, when the dossier names
 * its portal). The dossier keeps the report, so neither another scan nor a restart reports it again.
 *
 * @example
 * ```ts
 * deadlines: { 'work-decision': overrunStep('work-decision', (d) => d.work ? undefined : d.decideBy) }
 * ```
 */
export function overrunStep<S extends OverrunTracked>(
  deadline: LegalDeadlineId,
  dueOn: (state: S) => IsoDate | undefined,
): DeadlineStep<S, OverrunReported> {
  const { article, what } = LEGAL_DEADLINES[deadline];
  return {
    title: `Report, once, that ${what} is overdue (${article})`,
    deadline: dueOn,
    due: (state, ctx) => overrunDue(state, deadline, dueOn(state), ctx.today),
    decide: (state, ctx) => reportOverrun(state, deadline, dueOn(state)!, ctx),
  };
}
