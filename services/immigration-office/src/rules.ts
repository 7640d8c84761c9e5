import {
  type Applicant,
  type DecisionDocument,
  type ApplicationSubmitted,
  type FeePaymentRequested,
  type IctRole,
  type IsoDate,
  type OfficePhase,
  type Period,
  type PermitKind,
  type DossierRecord,
  type Refusal,
  type ResidenceDecided,
  type ResidenceGranted,
  type ResidenceRefusalReason,
  type StayEndReason,
  type StayEnded,
  addWorkingDays,
  assertWithinLimits,
  attempt,
  isRefusal,
  dayNumber,
  collectDocument,
  decisionDocument,
  familyMemberDecisionDeadline,
} from '@passerelle/procedure';

/** Routing facts of a dossier (a `DossierContext`), no personal data. */
export interface OfficeRouting {
  procedure: 'first' | 'renewal';
  scheme: 'standard' | 'ict' | 'ict-mobility';
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
  submittedOn: IsoDate;
  /** Art. 26/2 §3, 26/2/1 §3: the decision deadline of a family member of a (mobile) ICT. */
  decisionDeadline?: IsoDate;
  deadlineOverrunReportedOn?: IsoDate;
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
  renewalPending?: boolean;
  permit?: { number: string; validity: Period };
  stayEndsOn?: IsoDate;
  closedBecause?: string;
}

/** Scheme of an application, as the contract routes it. */
export function schemeOf(app: Pick<ApplicationSubmitted, 'ict'>): OfficeRouting['scheme'] {
  if (!app.ict) return 'standard';
  return app.ict.scheme === 'mobility' ? 'ict-mobility' : 'ict';
}

/** The dossier the Immigration Office opens on an application received on `today`. */
export function openOfficeDossier(
  app: ApplicationSubmitted,
  portalId: string,
  today: IsoDate,
): OfficeDossier {
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
    submittedOn: today,
    // Art. 26/2 §3, 26/2/1 §3: nine months reduced to 90 days for family members of (mobile) ICTs.
    ...(app.familyMemberOf ? { decisionDeadline: familyMemberDecisionDeadline(today) } : {}),
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
  return 'single-permit';
}

/** Art. 105/47 §1, 105/57: a first application from abroad needs a D visa; long-term mobility does not. */
export function visaRequired(routing: Pick<OfficeRouting, 'procedure' | 'scheme'>): boolean {
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
      article: dossier.routing.procedure === 'renewal' ? 'Art. 105/51, 105/52' : 'Art. 105/46',
      period,
      outcome: 'granted',
    }),
  );
  const { routing } = dossier;
  return {
    annex: '46',
    decidedOn: today,
    period,
    permitToIssue: permitToIssue(routing.scheme),
    visaRequired: visaRequired(routing),
    ...(routing.consularPostId && visaRequired(routing) ? { consularPostId: routing.consularPostId } : {}),
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
  return (
    dossier.decisionDeadline !== undefined &&
    dossier.residence === undefined &&
    dossier.deadlineOverrunReportedOn === undefined &&
    dossier.phase !== 'closed' &&
    dayNumber(today) > dayNumber(dossier.decisionDeadline)
  );
}
