import {
  type Applicant,
  type DocumentKind,
  type MissingItem,
  type DecisionDocument,
  type ApplicationSubmitted,
  type FeePaymentRequested,
  type IctRole,
  type InformationRequested,
  type IsoDate,
  type MobilityObjectionReason,
  type OfficePhase,
  type OverrunsReported,
  type Period,
  type PermitKind,
  type DossierRecord,
  type Refusal,
  type ResidenceDecided,
  type ResidenceGranted,
  type ResidenceCheckReason,
  type ResidenceChecked,
  type ResidenceRefusalReason,
  type ShortTermMobilityDecided,
  type StayEndReason,
  type StayEnded,
  addDays,
  addWorkingDays,
  assertWithinLimits,
  attempt,
  isRefusal,
  refuse,
  collectDocument,
  dayNumber,
  decisionDeadline,
  decisionDocument,
  familyMemberDecisionDeadline,
  insuranceCovers,
  passportValidFor,
  overrunDue,
  toIsoDate,
} from '@passerelle/procedure';

/** Routing facts of a dossier (a `DossierContext`), no personal data. */
export interface OfficeRouting {
  procedure: 'first' | 'renewal';
  scheme: 'standard' | 'ict' | 'ict-mobility' | 'ict-short-term-mobility' | 'family';
  regionId: ApplicationSubmitted['regionId'];
  portalId: string;
  consularPostId?: string;
  communeId?: string;
}

/** The fee account of a dossier (Art. 1/2/1). */
export interface FeeAccount {
  paidCents: number;
  status: 'none' | 'ok' | 'requested';
  request?: FeePaymentRequested;
}

/** What the Immigration Office keeps of a dossier; `holder` is personal data, kept for the annexes it issues. */
export interface OfficeDossier extends DossierRecord {
  phase: OfficePhase;
  routing: OfficeRouting;
  category: ApplicationSubmitted['category'];
  holder: Applicant;
  ictRole?: IctRole;
  firstMemberStatePermitValidUntil?: IsoDate;
  /** Earlier ICT stays the application mentions (Art. 105/45 §1 3°): the residence stays within the total. */
  ictStays?: Period[];
  submittedOn: IsoDate;
  /** The day of the application (its `submittedAt` in Brussels), from which the 90 days run (Art. 26/2 §3). */
  appliedOn?: IsoDate;
  /** A family member's application, which the Office rules on itself (Art. 26/2 §3, 26/2/1 §3). */
  family?: FamilyFile;
  /** The notification of a short-term mobility, which the Office alone receives (Art. 105/43). */
  mobility?: MobilityFile;
  /** Art. 26/2 §3, 26/2/1 §3: the decision deadline of a family member of a (mobile) ICT. */
  decisionDeadline?: IsoDate;
  /** The 90-day overrun's report in records of older releases (now in `overruns`). */
  deadlineOverrunReportedOn?: IsoDate;
  /** The day the region ruled the application complete (from which the ICT directive's 90 days run). */
  completeOn?: IsoDate;
  /** The deadline overruns reported, each once (to the body and the integrator). */
  overruns?: OverrunsReported;
  fee: FeeAccount;
  work?: { decision: 'granted'; period: Period } | { decision: 'refused'; reason: string };
  residence?: {
    annex: ResidenceDecided['annex'];
    period?: Period;
    permitToIssue?: PermitKind;
    visaRequired?: boolean;
  };
  visa?: { number: string; issuedOn: IsoDate };
  arrival?: { communeId: string; enteredOn: IsoDate; reportedOn: IsoDate };
  provisionalExtensions?: number;
  /** Art. 105/47 §2 al. 2, 105/58 al. 2: the commune's latest residence check before the permit. */
  residenceCheck?: {
    outcome: ResidenceChecked['outcome'];
    checkedOn: IsoDate;
    reason?: ResidenceCheckReason;
  };
  renewalPending?: boolean;
  /** Art. 105/67: the request for documents or information awaiting its answer. */
  informationRequest?: InformationRequested;
  permit?: { number: string; validity: Period };
  stayEndsOn?: IsoDate;
  closedBecause?: string;
}

/** Scheme of an application, as the contract routes it. */
export function schemeOf(app: Pick<ApplicationSubmitted, 'ict' | 'familyMemberOf'>): OfficeRouting['scheme'] {
  if (app.familyMemberOf) return 'family';
  if (!app.ict) return 'standard';
  if (app.ict.scheme === 'short-term-mobility') return 'ict-short-term-mobility';
  return app.ict.scheme === 'mobility' ? 'ict-mobility' : 'ict';
}

/** What the Office keeps of a family member's application to rule on its completeness. */
export interface FamilyFile {
  /** The transferee's scheme: a transfer (Art. 26/2 §3) or a long-term mobility (Art. 26/2/1 §3). */
  of: 'transfer' | 'mobility';
  requestedPeriod: Period;
  /** Document slots provided so far (those that read back). */
  documents: DocumentKind[];
  passportExpiresOn?: IsoDate;
  insuranceCoversUntil?: IsoDate;
  /** The items asked for once, with the date to provide them. */
  asked?: { items: MissingItem[]; respondBy: IsoDate };
}

/**
 * The documents of a family member's application for residence. Art. 26/2 §3 and 26/2/1 §3 set the
 * deadline only and the seeds name no list; as a case officer expects for a residence application: a copy
 * of a passport valid for the period, the proof of the family link and a health insurance covering the
 * period (PROCEDURE.md). No work document: a family member asks for no work authorisation.
 */
export const FAMILY_DOCUMENTS: readonly DocumentKind[] = ['passportCopy', 'familyLink', 'healthInsurance'];

/** The family documents missing or not valid for the period (passport, SBC art. 6; insurance, Art. 105/68). */
export function familyMissing(file: FamilyFile): MissingItem[] {
  return missingOrInvalid(FAMILY_DOCUMENTS, file.documents, {
    passportCopy: passportValidFor(file.passportExpiresOn, file.requestedPeriod),
    healthInsurance: insuranceCovers(file.insuranceCoversUntil, file.requestedPeriod),
  });
}

/** Of the documents `required`, those not `provided` or provided but not `valid` (a kind not named there is). */
function missingOrInvalid(
  required: readonly DocumentKind[],
  provided: readonly DocumentKind[],
  valid: Partial<Record<DocumentKind, boolean>>,
): MissingItem[] {
  return required.filter((kind) => !provided.includes(kind) || valid[kind] === false);
}

/**
 * What the Office keeps of a short-term mobility's notification (Art. 105/43; directive 2014/66/EU Art. 21):
 * the mobility notified, the documents that read back, and where the 20 days to object stand.
 */
export interface MobilityFile {
  /** The dates of the mobility notified. */
  period: Period;
  /** Document slots provided so far (those that read back). */
  documents: DocumentKind[];
  passportExpiresOn?: IsoDate;
  /** The items asked for once, with the date to provide them. */
  asked?: { items: MissingItem[]; respondBy: IsoDate };
  /** The day the notification was complete: the 20 days to object run from it. */
  notifiedOn?: IsoDate;
  objectionDeadline?: IsoDate;
  decision?: {
    outcome: ShortTermMobilityDecided['outcome'];
    decidedOn: IsoDate;
    tacit?: boolean;
    reason?: MobilityObjectionReason;
  };
}

/** Directive 2014/66/EU Art. 21 §1: a short-term mobility lasts at most 90 days in any 180-day period. */
export const SHORT_TERM_MOBILITY_MAX_DAYS = 90;
/** The window of {@link SHORT_TERM_MOBILITY_MAX_DAYS}, in days. */
export const SHORT_TERM_MOBILITY_WINDOW_DAYS = 180;
/** Directive 2014/66/EU Art. 21: the second member state may object within 20 days of the notification. */
export const OBJECTION_DAYS = 20;

/**
 * What the notification of a short-term mobility carries (directive 2014/66/EU Art. 21 §3, with Art. 105/43
 * bringing it into the decree's chapter): a valid travel document, the work contract (or assignment letter)
 * and the first member state's ICT permit. The dates notified are the application's period.
 */
export const MOBILITY_DOCUMENTS: readonly DocumentKind[] = [
  'passportCopy',
  'employmentContract',
  'firstMemberStatePermit',
];

/**
 * The notification's documents missing or not valid for the mobility: a passport valid for it (SBC art. 6
 * §1 a)), and a first member state permit valid until its last day (Art. 21 §1: the mobility takes place
 * within the validity of that permit).
 */
export function mobilityMissing(
  file: MobilityFile,
  firstMemberStatePermitValidUntil?: IsoDate,
): MissingItem[] {
  return missingOrInvalid(MOBILITY_DOCUMENTS, file.documents, {
    passportCopy: passportValidFor(file.passportExpiresOn, file.period),
    firstMemberStatePermit: validThrough(firstMemberStatePermitValidUntil, file.period),
  });
}

/** Whether a document valid until `validUntil` is valid on every day of `period`; unknown is not. */
function validThrough(validUntil: IsoDate | undefined, period: Period): boolean {
  if (!validUntil) return false;
  try {
    return dayNumber(validUntil) >= dayNumber(period.to);
  } catch {
    return false;
  }
}

/**
 * The most days of ICT stay in Belgium within any 180-day window that holds a day of the mobility: the
 * mobility's own days and those of the earlier stays the application lists (Art. 105/45 §1 3°), a day
 * covered twice counted once. Unreadable dates count for nothing.
 */
export function mobilityDaysInWindow(period: Period, earlier: readonly Period[] = []): number {
  let first: number;
  let last: number;
  try {
    first = dayNumber(period.from);
    last = dayNumber(period.to);
  } catch {
    return 0;
  }
  if (last < first) return 0;
  const lowest = first - SHORT_TERM_MOBILITY_WINDOW_DAYS + 1;
  // a mobility of more than 90 days breaks the rule in any case: what is counted beyond does not matter
  const upto = Math.min(last, first + 2 * SHORT_TERM_MOBILITY_WINDOW_DAYS);
  const covered = new Set<number>();
  for (const stay of [...earlier, { from: period.from, to: period.to }]) {
    let a: number;
    let b: number;
    try {
      a = Math.max(dayNumber(stay.from), lowest);
      b = Math.min(dayNumber(stay.to), upto);
    } catch {
      continue;
    }
    for (let d = a; d <= b; d += 1) covered.add(d);
  }
  let most = 0;
  for (let end = first; end <= upto; end += 1) {
    let count = 0;
    for (let d = end - SHORT_TERM_MOBILITY_WINDOW_DAYS + 1; d <= end; d += 1) if (covered.has(d)) count += 1;
    most = Math.max(most, count);
  }
  return most;
}

/**
 * Directive 2014/66/EU Art. 21 §1 and the ground "maximum duration reached": the objection a mobility
 * calls for by its dates alone: more than 90 days in a 180-day window, or beyond the ICT maximum of the
 * transfer counting the earlier stays (Art. 31 16°, 17°); undefined when none.
 */
export function mobilityObjectionGround(
  file: Pick<MobilityFile, 'period'>,
  dossier: Pick<OfficeDossier, 'ictRole' | 'ictStays'>,
): MobilityObjectionReason | undefined {
  if (mobilityDaysInWindow(file.period, dossier.ictStays) > SHORT_TERM_MOBILITY_MAX_DAYS) {
    return 'maximum-duration-reached';
  }
  const within = attempt(() =>
    assertWithinLimits(file.period, {
      ...(dossier.ictRole ? { ictRole: dossier.ictRole } : {}),
      ...(dossier.ictStays?.length ? { ictStays: dossier.ictStays } : {}),
    }),
  );
  return isRefusal(within) ? 'maximum-duration-reached' : undefined;
}

/** The last day to object to a notification complete on `notifiedOn`: 20 calendar days after it. */
export function objectionDeadline(notifiedOn: IsoDate): IsoDate {
  return addDays(notifiedOn, OBJECTION_DAYS);
}

/**
 * Directive 2014/66/EU Art. 21 - the Office's answer to a short-term mobility: no objection (stated by a
 * case officer, or `tacit` at the end of the 20 days) for the period notified, or an objection with its
 * ground, with its decision document. An objection after the 20 days, or no objection to a notification
 * not yet complete, is refused (ERR_OUT_OF_SEQUENCE). No permit follows either answer.
 */
export function mobilityDecision(
  file: MobilityFile,
  dossierId: string,
  decision:
    { outcome: 'no-objection'; tacit: boolean } | { outcome: 'objected'; reason: MobilityObjectionReason },
  today: IsoDate,
  /** Receives the decision documents rendered, for the service to store them. */
  documents?: DecisionDocument[],
): ShortTermMobilityDecided | Refusal {
  const deadline = file.objectionDeadline;
  if (decision.outcome === 'no-objection' && (!file.notifiedOn || !deadline)) {
    return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${dossierId}: the notification is not complete yet.`, {
      dossierId,
      step: 'decide-mobility',
    });
  }
  if (decision.outcome === 'objected' && deadline && dayNumber(today) > dayNumber(deadline)) {
    return refuse(
      'ERR_OUT_OF_SEQUENCE',
      `Dossier ${dossierId}: the 20 days to object ended on ${deadline}.`,
      { dossierId, step: 'decide-mobility', objectionDeadline: deadline },
    );
  }
  const outcome = decision.outcome === 'objected' ? `objected:${decision.reason}` : 'no-objection';
  const { ref } = collectDocument(
    documents,
    decisionDocument({
      document: 'short-term-mobility',
      issuer: 'immigration-office',
      dossierId,
      issuedOn: today,
      article: 'Art. 105/43; directive 2014/66/EU Art. 21',
      ...(decision.outcome === 'no-objection' ? { period: file.period } : {}),
      outcome,
    }),
  );
  const dates = {
    ...(file.notifiedOn ? { notifiedOn: file.notifiedOn } : {}),
    ...(deadline ? { objectionDeadline: deadline } : {}),
  };
  if (decision.outcome === 'objected') {
    return {
      outcome: 'objected',
      decidedOn: today,
      ...dates,
      reason: decision.reason,
      decisionDocument: ref,
    };
  }
  return {
    outcome: 'no-objection',
    decidedOn: today,
    notifiedOn: file.notifiedOn!,
    objectionDeadline: deadline!,
    period: file.period,
    tacit: decision.tacit,
    decisionDocument: ref,
  };
}

/** Whether the 20 days to object to a complete notification ended before `today` without an answer. */
export function objectionPeriodOver(file: MobilityFile | undefined, today: IsoDate): boolean {
  return !!file?.objectionDeadline && !file.decision && dayNumber(today) > dayNumber(file.objectionDeadline);
}

/** The day of an application: its `submittedAt` in Brussels, or `today` for an unreadable one. */
export function applicationDay(submittedAt: string, today: IsoDate): IsoDate {
  const at = new Date(submittedAt);
  return Number.isNaN(at.getTime()) ? today : toIsoDate(at);
}

/** The dossier the Immigration Office opens on an application received on `today`. */
export function openOfficeDossier(
  app: ApplicationSubmitted,
  portalId: string,
  today: IsoDate,
  /** The document kinds that read back (a family member's or a short-term mobility's, which the Office rules on). */
  documents: DocumentKind[] = [],
): OfficeDossier {
  const appliedOn = applicationDay(app.submittedAt, today);
  return {
    phase: 'submitted',
    routing: {
      procedure: app.procedure,
      scheme: schemeOf(app),
      regionId: app.regionId,
      portalId,
      ...(app.consularPostId ? { consularPostId: app.consularPostId } : {}),
      ...(app.residenceCommuneId ? { communeId: app.residenceCommuneId } : {}),
    },
    category: app.category,
    holder: app.applicant,
    ...(app.ict ? { ictRole: app.ict.role } : {}),
    ...(app.ict?.firstMemberState
      ? { firstMemberStatePermitValidUntil: app.ict.firstMemberState.permitValidUntil }
      : {}),
    ...(app.ict?.priorIctStays?.length ? { ictStays: [...app.ict.priorIctStays] } : {}),
    submittedOn: today,
    appliedOn,
    // Art. 26/2 §3, 26/2/1 §3: nine months reduced to 90 days for family members of (mobile) ICTs,
    // counted from the application
    ...(app.familyMemberOf ? { decisionDeadline: familyMemberDecisionDeadline(appliedOn) } : {}),
    ...(app.familyMemberOf
      ? {
          family: {
            of: app.familyMemberOf.scheme,
            requestedPeriod: app.requestedPeriod,
            documents,
            ...(app.applicant.passportExpiresOn
              ? { passportExpiresOn: app.applicant.passportExpiresOn }
              : {}),
            ...(app.documents.healthInsurance?.coversUntil
              ? { insuranceCoversUntil: app.documents.healthInsurance.coversUntil }
              : {}),
          },
        }
      : {}),
    ...(app.ict?.scheme === 'short-term-mobility'
      ? {
          mobility: {
            period: app.requestedPeriod,
            documents,
            ...(app.applicant.passportExpiresOn
              ? { passportExpiresOn: app.applicant.passportExpiresOn }
              : {}),
          },
        }
      : {}),
    fee: { paidCents: 0, status: 'none' },
  };
}

/**
 * Art. 1/2/1 - the fee check: paid in full → `ok`; nothing paid → `not-paid`; a wrong (short) amount →
 * `amount-incorrect`. The amount is the same base amount for every category.
 */
export function feeCheck(paidCents: number, dueCents: number): 'ok' | 'not-paid' | 'amount-incorrect' {
  if (paidCents >= dueCents) return 'ok';
  return paidCents <= 0 ? 'not-paid' : 'amount-incorrect';
}

/** Art. 1/2/1 - the invitation to pay the rest within `workingDays` working days. */
export function feePaymentRequest(
  paidCents: number,
  dueCents: number,
  today: IsoDate,
  workingDays: number,
): FeePaymentRequested {
  const reason = feeCheck(paidCents, dueCents);
  return {
    reason: reason === 'not-paid' ? 'not-paid' : 'amount-incorrect',
    amountDue: { amountCents: dueCents - paidCents, currency: 'EUR' },
    ...(paidCents > 0 ? { amountReceived: { amountCents: paidCents, currency: 'EUR' } } : {}),
    requestedOn: today,
    payBy: addWorkingDays(today, workingDays),
  };
}

/** Whether the payment asked for is overdue on `today` (the day after `payBy`). */
export function feeOverdue(fee: FeeAccount, today: IsoDate): boolean {
  return fee.status === 'requested' && !!fee.request && dayNumber(today) > dayNumber(fee.request.payBy);
}

/**
 * Art. 1/2/1 - refusal for an unpaid fee: annex 43 when nothing was paid, annex 43bis when the amount paid
 * falls short.
 */
export function feeRefusal(
  dossier: OfficeDossier,
  dossierId: string,
  today: IsoDate,
  /** Receives the decision documents rendered, for the service to store them. */
  documents?: DecisionDocument[],
): ResidenceDecided {
  const partial = dossier.fee.paidCents > 0;
  const annex = partial ? '43bis' : '43';
  const { ref } = collectDocument(
    documents,
    decisionDocument({
      document: annex,
      issuer: 'immigration-office',
      dossierId,
      issuedOn: today,
      article: 'Art. 1/2/1',
      outcome: partial ? 'partially-paid' : 'not-paid',
    }),
  );
  return {
    annex,
    decidedOn: today,
    feeCase: partial ? 'partially-paid' : 'not-paid',
    holder: dossier.holder,
    decisionDocument: ref,
  };
}

/** The permit the commune issues: annex 60 for an ICT, annex 61 in long-term mobility (Art. 31 16°, 17°). */
export function permitToIssue(scheme: OfficeRouting['scheme']): PermitKind {
  if (scheme === 'ict') return 'annex-60';
  if (scheme === 'ict-mobility') return 'annex-61';
  // Art. 26/2 §3, 26/2/1 §3: a family member is authorised to reside, not to work
  if (scheme === 'family') return 'residence-permit';
  return 'single-permit';
}

/**
 * Art. 105/47 §1, 105/57: a first application from abroad needs a D visa; long-term mobility does not.
 * A family member of a mobile ICT comes, like the ICT, from the first member state (no visa; the texts are
 * silent, PROCEDURE.md); one of a transferee comes from abroad.
 */
export function visaRequired(
  routing: Pick<OfficeRouting, 'procedure' | 'scheme'>,
  familyOf?: FamilyFile['of'],
): boolean {
  if (routing.scheme === 'family') return routing.procedure === 'first' && familyOf !== 'mobility';
  return routing.procedure === 'first' && routing.scheme !== 'ict-mobility';
}

/**
 * Art. 105/46 - the annex 46 grant: residence for the work-authorisation period (§2), checked against the
 * legal maxima (ICT role; Art. 105/57, 105/61 mobility within the first member state's permit), with the
 * routing facts the commune needs; a period beyond them is refused (ERR_PERIOD_INVALID).
 */
export function residenceGrant(
  dossier: OfficeDossier,
  dossierId: string,
  period: Period,
  today: IsoDate,
  /** Receives the decision documents rendered, for the service to store them. */
  documents?: DecisionDocument[],
): ResidenceGranted | Refusal {
  const within = attempt(() =>
    assertWithinLimits(period, {
      ...(dossier.ictRole ? { ictRole: dossier.ictRole } : {}),
      // Art. 31 16°, 17°: the total with the earlier stays the application mentions
      ...(dossier.ictRole && dossier.ictStays?.length ? { ictStays: dossier.ictStays } : {}),
      ...(dossier.firstMemberStatePermitValidUntil
        ? { firstMemberStatePermitValidUntil: dossier.firstMemberStatePermitValidUntil }
        : {}),
    }),
  );
  if (isRefusal(within)) return within;
  const { ref } = collectDocument(
    documents,
    decisionDocument({
      document: '46',
      issuer: 'immigration-office',
      dossierId,
      issuedOn: today,
      article:
        dossier.routing.scheme === 'family'
          ? 'Art. 26/2 §3, 26/2/1 §3'
          : dossier.routing.procedure === 'renewal'
            ? 'Art. 105/51, 105/52'
            : 'Art. 105/46',
      period,
      outcome: 'granted',
    }),
  );
  const { routing } = dossier;
  const visa = visaRequired(routing, dossier.family?.of);
  return {
    annex: '46',
    decidedOn: today,
    period,
    permitToIssue: permitToIssue(routing.scheme),
    visaRequired: visa,
    ...(routing.consularPostId && visa ? { consularPostId: routing.consularPostId } : {}),
    ...(routing.communeId ? { communeId: routing.communeId } : {}),
    procedure: routing.procedure,
    regionId: routing.regionId,
    portalId: routing.portalId,
    holder: dossier.holder,
    decisionDocument: ref,
  };
}

/** Art. 105/48 (105/53, 105/64) - the annex 48 refusal. */
export function residenceRefusal(
  dossier: OfficeDossier,
  dossierId: string,
  reason: ResidenceRefusalReason,
  today: IsoDate,
  /** Receives the decision documents rendered, for the service to store them. */
  documents?: DecisionDocument[],
): ResidenceDecided {
  const { ref } = collectDocument(
    documents,
    decisionDocument({
      document: '48',
      issuer: 'immigration-office',
      dossierId,
      issuedOn: today,
      article: 'Art. 105/48',
      outcome: `refused:${reason}`,
    }),
  );
  return { annex: '48', decidedOn: today, reason, holder: dossier.holder, decisionDocument: ref };
}

/** Art. 105/54, 105/65 - the annex 52 ending the stay. */
export function stayEnded(
  dossier: OfficeDossier,
  dossierId: string,
  reason: StayEndReason,
  endsOn: IsoDate,
  today: IsoDate,
  /** Receives the decision documents rendered, for the service to store them. */
  documents?: DecisionDocument[],
): StayEnded {
  const { ref } = collectDocument(
    documents,
    decisionDocument({
      document: '52',
      issuer: 'immigration-office',
      dossierId,
      issuedOn: today,
      article: dossier.routing.scheme === 'ict-mobility' ? 'Art. 105/65' : 'Art. 105/54',
      outcome: `ended:${reason}`,
    }),
  );
  return {
    annex: '52',
    decidedOn: today,
    endsOn,
    reason,
    ...(dossier.routing.communeId ? { communeId: dossier.routing.communeId } : {}),
    holder: dossier.holder,
    decisionDocument: ref,
  };
}

/** Routing outcome of a residence decision (the agreement routes annex copies by it). */
export function outcomeOf(annex: ResidenceDecided['annex']): 'granted' | 'refused' | 'fee-refused' {
  if (annex === '46') return 'granted';
  return annex === '48' ? 'refused' : 'fee-refused';
}

/**
 * Art. 26/2 §3, 26/2/1 §3 - whether the 90-day decision deadline of a family member is overrun on `today`
 * without a decision and not yet reported.
 */
export function decisionDeadlineOverrun(dossier: OfficeDossier, today: IsoDate): boolean {
  return overrunDue(dossier, 'family-decision', familyDecisionDue(dossier), today);
}

/** Art. 26/2 §3, 26/2/1 §3 - the family member's decision deadline while residence is not decided. */
export function familyDecisionDue(dossier: OfficeDossier): IsoDate | undefined {
  return dossier.residence || dossier.deadlineOverrunReportedOn ? undefined : dossier.decisionDeadline;
}

/**
 * The residence decision's deadline of a worker's application while it is not decided: 90 days from the
 * complete application for an ICT or a long-term mobility, four months from the application otherwise
 * (the directives; the seeds set none, see `decisionDeadline`). A family member's is the 90 days.
 */
export function residenceDecisionDue(dossier: OfficeDossier): IsoDate | undefined {
  if (dossier.family || dossier.residence) return undefined;
  if (dossier.phase !== 'admissible' && dossier.phase !== 'work-decided') return undefined;
  const ict = dossier.routing.scheme === 'ict' || dossier.routing.scheme === 'ict-mobility';
  if (ict && !dossier.completeOn) return undefined;
  return decisionDeadline({
    scheme: dossier.routing.scheme,
    appliedOn: dossier.appliedOn ?? dossier.submittedOn,
    ...(dossier.completeOn ? { completeOn: dossier.completeOn } : {}),
  });
}
