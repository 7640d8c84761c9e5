import { addWorkingDays } from './calendar.js';
import { type IsoDate, addDays, addYears, dayNumber, minDate } from './dates.js';
import { ProcedureError } from './procedure-error.js';

/** An inclusive period of validity or authorisation. */
export interface Period {
  from: IsoDate;
  to: IsoDate;
}

/** The role of an intra-corporate transferee. */
export type IctRole = 'manager' | 'specialist' | 'trainee';

/** Art. 31 16°, 17° with Directive 2014/66/EU art. 12: longest ICT stay, in years, by role. */
export const ICT_MAXIMUM_YEARS: Readonly<Record<IctRole, number>> = { manager: 3, specialist: 3, trainee: 1 };

/** Art. 105/47 §2, 105/58: the provisional document (annex 49) runs 45 days, extended 45 days at a time. */
export const PROVISIONAL_DOCUMENT_DAYS = 45;

/** Art. 33 §6: the renewal-pending attestation (annex 49) runs 30 days, extendable once by 30 days. */
export const RENEWAL_PENDING_DAYS = 30;

/** Art. 33 §6: number of extensions of a renewal-pending attestation. */
export const RENEWAL_PENDING_MAX_EXTENSIONS = 1;

/** Art. 105/47 §2, 105/58: working days after entry within which the person reports to the commune. */
export const ARRIVAL_REPORT_WORKING_DAYS = 8;

/** Art. 26/2 §3, 26/2/1 §3: decision deadline, in days, for family members of (mobile) ICTs. */
export const FAMILY_MEMBER_DECISION_DAYS = 90;

/** Throws ERR_PERIOD_INVALID when the period ends before it starts (dates are checked too). */
export function assertPeriod(period: Period): void {
  if (dayNumber(period.to) < dayNumber(period.from)) {
    throw new ProcedureError('ERR_PERIOD_INVALID', 'The period ends before it starts.', {
      // the fields, not their dates: errors stay free of anything about the person
      details: { fields: ['from', 'to'] },
    });
  }
}

/**
 * Last day of the longest ICT stay starting on `from` (Art. 31 16°, 17°): three years less a day for
 * managers and specialists, one year less a day for trainees.
 *
 * @example
 * ```ts
 * ictMaximumEnd('2027-03-01', 'trainee'); // '2028-02-29'
 * ```
 */
export function ictMaximumEnd(from: IsoDate, role: IctRole): IsoDate {
  return addDays(addYears(from, ICT_MAXIMUM_YEARS[role]), -1);
}

/** Legal bounds of a work-authorisation (and so residence) period. */
export interface PeriodLimits {
  /** ICT role: caps the period at the ICT maximum. */
  ictRole?: IctRole;
  /**
   * Earlier ICT stays of the same transfer in Belgium, spent or authorised (Art. 31 16°, 17° with the law's
   * Art. 61/38 §1: the maximum is a total); see {@link ictStayEnd}.
   */
  ictStays?: readonly Period[];
  /** Mobility (Art. 105/56, 105/61): last day of the first member state's permit; never exceeded. */
  firstMemberStatePermitValidUntil?: IsoDate;
  /** Art. 105/68: last day the health insurance covers; the authorised period stays within it. */
  insuranceCoversUntil?: IsoDate;
}

/** Days of an inclusive period (0 for one that ends before it starts). */
export function periodDays(period: Period): number {
  return Math.max(0, dayNumber(period.to) - dayNumber(period.from) + 1);
}

/**
 * The ICT days of earlier stays that count towards the maximum of a period starting on `from` (Art. 31
 * 16°, 17°): each earlier stay's days before `from`, a day covered twice counted once. What overlaps the
 * new period is the new period's (a renewal continues the stay it renews).
 *
 * @example
 * ```ts
 * ictDaysUsed([{ from: '2027-01-01', to: '2027-12-31' }], '2028-01-01'); // 365
 * ```
 */
export function ictDaysUsed(stays: readonly Period[], from: IsoDate): number {
  const end = dayNumber(from) - 1;
  const days = new Set<number>();
  for (const stay of stays) {
    let a: number;
    let b: number;
    try {
      a = dayNumber(stay.from);
      b = Math.min(dayNumber(stay.to), end);
    } catch {
      continue;
    }
    for (let d = a; d <= b && days.size < 4000; d += 1) days.add(d);
  }
  return days.size;
}

/**
 * Last day of the ICT stay that starts on `from` given the transfer's earlier stays (Art. 31 16°, 17°):
 * the maximum for the role is a total, counted in days from the first day of the transfer's first stay
 * (3 years or 1 year of calendar days from then), less the days already used before `from`. Before `from`
 * when nothing is left.
 *
 * @example
 * ```ts
 * ictStayEnd('2027-03-01', 'trainee', [{ from: '2026-03-01', to: '2026-08-31' }]); // '2027-08-28'
 * ```
 */
export function ictStayEnd(from: IsoDate, role: IctRole, stays: readonly Period[] = []): IsoDate {
  const used = ictDaysUsed(stays, from);
  if (used === 0) return ictMaximumEnd(from, role);
  let first = from;
  for (const stay of stays) {
    try {
      if (dayNumber(stay.from) < dayNumber(first)) first = stay.from;
    } catch {
      // an unreadable date counts for nothing
    }
  }
  const total = periodDays({ from: first, to: ictMaximumEnd(first, role) });
  return addDays(from, total - used - 1);
}

/**
 * The longest lawful period within `requested`: cut at the ICT maximum for the role less the days of the
 * transfer already used (Art. 31 16°, 17°), in long-term mobility at the end of the first member state's
 * permit (Art. 105/62 §2), and at the end of the health insurance's cover (Art. 105/68). Throws ERR_PERIOD_INVALID when nothing is left
 * (e.g. the first member state's permit ends before the requested start).
 *
 * @example
 * ```ts
 * capPeriod({ from: '2027-03-01', to: '2031-01-01' }, { ictRole: 'manager' }); // to: '2030-02-28'
 * ```
 */
export function capPeriod(requested: Period, limits: PeriodLimits): Period {
  assertPeriod(requested);
  let to = requested.to;
  if (limits.ictRole) to = minDate(to, ictStayEnd(requested.from, limits.ictRole, limits.ictStays));
  if (limits.firstMemberStatePermitValidUntil) to = minDate(to, limits.firstMemberStatePermitValidUntil);
  if (limits.insuranceCoversUntil) to = minDate(to, limits.insuranceCoversUntil);
  const capped = { from: requested.from, to };
  assertPeriod(capped);
  return capped;
}

/**
 * Throws ERR_PERIOD_INVALID unless `period` lies within the legal maxima (the check a receiving body makes
 * on a decision it did not compute itself).
 */
export function assertWithinLimits(period: Period, limits: PeriodLimits): void {
  assertPeriod(period);
  if (
    limits.ictRole &&
    dayNumber(period.to) > dayNumber(ictStayEnd(period.from, limits.ictRole, limits.ictStays))
  ) {
    throw new ProcedureError(
      'ERR_PERIOD_INVALID',
      `An ICT ${limits.ictRole}'s stays may not exceed ${ICT_MAXIMUM_YEARS[limits.ictRole]} year(s) in total.`,
      { details: { fields: ['from', 'to'], role: limits.ictRole } },
    );
  }
  if (
    limits.firstMemberStatePermitValidUntil &&
    dayNumber(period.to) > dayNumber(limits.firstMemberStatePermitValidUntil)
  ) {
    throw new ProcedureError(
      'ERR_PERIOD_INVALID',
      "A mobility period may not outlast the first member state's permit.",
      {
        details: { fields: ['to', 'firstMemberStatePermitValidUntil'] },
      },
    );
  }
}

/**
 * Validity of an annex 49 issued on `issuedOn` awaiting the permit: 45 days, the issue day counted
 * (Art. 105/47 §2, 105/58).
 */
export function provisionalDocumentValidity(issuedOn: IsoDate): Period {
  return { from: issuedOn, to: addDays(issuedOn, PROVISIONAL_DOCUMENT_DAYS - 1) };
}

/** Validity of an annex 49 renewal-pending attestation issued on `attestedOn`: 30 days (Art. 33 §6). */
export function renewalPendingValidity(attestedOn: IsoDate): Period {
  return { from: attestedOn, to: addDays(attestedOn, RENEWAL_PENDING_DAYS - 1) };
}

/** Why an annex 49 was issued: awaiting the permit, or a renewal pending at the permit's expiry. */
export type ProvisionalPurpose = 'awaiting-permit' | 'renewal-pending';

/** State of an annex 49 that an extension is asked for. */
export interface ProvisionalDocumentState {
  purpose: ProvisionalPurpose;
  validity: Period;
  /** Extensions granted so far (0 for none). */
  extensions: number;
  /** Whether the permit (or, for a renewal, the renewed permit) was issued meanwhile. */
  permitIssued: boolean;
}

/**
 * The next extension of an annex 49: +45 days each time until the permit is issued (Art. 105/47 §2,
 * 105/58); +30 days once for a renewal pending (Art. 33 §6). The new validity starts the day after the
 * current one ends. Throws ERR_EXTENSION_NOT_ALLOWED for a second renewal-pending extension or once the
 * permit is issued.
 *
 * @example
 * ```ts
 * extendProvisionalDocument({ purpose: 'awaiting-permit', validity: { from: '2027-04-01', to: '2027-05-15' }, extensions: 0, permitIssued: false });
 * // { extension: 1, validity: { from: '2027-05-16', to: '2027-06-29' } }
 * ```
 */
export function extendProvisionalDocument(state: ProvisionalDocumentState): {
  extension: number;
  validity: Period;
} {
  if (state.permitIssued) {
    throw new ProcedureError(
      'ERR_EXTENSION_NOT_ALLOWED',
      'The permit was issued: the annex 49 is no longer extended.',
      { details: { purpose: state.purpose } },
    );
  }
  if (state.purpose === 'renewal-pending' && state.extensions >= RENEWAL_PENDING_MAX_EXTENSIONS) {
    throw new ProcedureError(
      'ERR_EXTENSION_NOT_ALLOWED',
      'A renewal-pending attestation is extended once only (Art. 33 §6).',
      { details: { purpose: state.purpose, extensions: state.extensions } },
    );
  }
  const days = state.purpose === 'renewal-pending' ? RENEWAL_PENDING_DAYS : PROVISIONAL_DOCUMENT_DAYS;
  const from = addDays(state.validity.to, 1);
  return { extension: state.extensions + 1, validity: { from, to: addDays(from, days - 1) } };
}

/** Last day to report to the commune after entering on `enteredOn`: 8 working days (Art. 105/47 §2). */
export function arrivalReportDeadline(enteredOn: IsoDate): IsoDate {
  return addWorkingDays(enteredOn, ARRIVAL_REPORT_WORKING_DAYS);
}

/** Whether reporting on `reportedOn` after entering on `enteredOn` is within the 8 working days. */
export function isArrivalReportInTime(enteredOn: IsoDate, reportedOn: IsoDate): boolean {
  return dayNumber(reportedOn) <= dayNumber(arrivalReportDeadline(enteredOn));
}

/** Last day for the decision on a family member of a (mobile) ICT: 90 days (Art. 26/2 §3, 26/2/1 §3). */
export function familyMemberDecisionDeadline(submittedOn: IsoDate): IsoDate {
  return addDays(submittedOn, FAMILY_MEMBER_DECISION_DAYS);
}

/**
 * Validity of a long-stay visa (type D) issued on `issuedOn` for an authorised stay: from issue until the
 * stay's end, at most one year (a D visa covers entry and the first year, the permit the rest).
 */
export function visaValidity(issuedOn: IsoDate, stay: Period): Period {
  const to = minDate(stay.to, addDays(addYears(issuedOn, 1), -1));
  return { from: issuedOn, to: dayNumber(to) < dayNumber(issuedOn) ? issuedOn : to };
}
