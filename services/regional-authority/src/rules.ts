import {
  type ApplicationSubmitted,
  type DecisionDocument,
  type CompletenessRuled,
  type DocumentKind,
  type DocumentRef,
  type IctRole,
  type InformationRequested,
  type IsoDate,
  type MissingItem,
  type OverrunsReported,
  type Period,
  type PeriodLimits,
  type DossierRecord,
  type Refusal,
  type RegionPhase,
  type WorkAuthorisationDecided,
  type WorkRefusalReason,
  addWorkingDays,
  attempt,
  capPeriod,
  isRefusal,
  competentRegion,
  dayNumber,
  collectDocument,
  decisionDeadline,
  decisionDocument,
  firstMemberStatePermitValid,
  insuranceCovers,
  isAdultOn,
  passportValidFor,
  toIsoDate,
} from '@passerelle/procedure';

/** The routing facts of a dossier (a `DossierContext`): no personal data. */
export interface RegionRouting {
  procedure: 'first' | 'renewal';
  scheme: 'standard' | 'ict' | 'ict-mobility' | 'ict-short-term-mobility' | 'family';
  regionId: string;
  portalId: string;
  consularPostId?: string;
  communeId?: string;
}

/** What the regional authority keeps of a dossier (no identity: the application stays in the message log). */
export interface RegionDossier extends DossierRecord {
  phase: RegionPhase;
  routing: RegionRouting;
  category: ApplicationSubmitted['category'];
  workplaceCommuneId: string;
  ictRole?: IctRole;
  /** Older than eighteen on the day of the application, from the birth date (Art. 105/45 §2 5°); the date is not kept. */
  adult: boolean;
  /** The day of the application (its `submittedAt` in Brussels). */
  appliedOn: IsoDate;
  /** Both e-mail addresses were given (Art. 105/45 §1 2°, 105/56 §1 2°). */
  contactsGiven: boolean;
  requestedPeriod: Period;
  firstMemberStatePermitValidUntil?: IsoDate;
  /** Last day of the passport's validity (Art. 105/45 §2 1°). */
  passportExpiresOn?: IsoDate;
  /** Last day the health insurance covers (Art. 105/68). */
  insuranceCoversUntil?: IsoDate;
  /** Earlier ICT stays of the transfer in Belgium: declared (Art. 105/45 §1 3°) and recorded by the region. */
  ictStays?: Period[];
  /** The pseudonym the region's ICT stay register files the transferee under (never the identity). */
  transfereeKey?: string;
  /** Document slots provided so far. */
  documents: DocumentKind[];
  feeProof: boolean;
  receivedOn: IsoDate;
  /** Day the ruling is made at the latest when the fee proof has not come. */
  reviewOn: IsoDate;
  missing?: MissingItem[];
  respondBy?: IsoDate;
  admissibilityDocument?: DocumentRef;
  work?: { decision: 'granted'; period: Period } | { decision: 'refused'; reason: WorkRefusalReason };
  residence?: string;
  permitIssued?: boolean;
  renewalPendingAttested?: boolean;
  /** Art. 105/67: the request for documents or information awaiting its answer. */
  informationRequest?: InformationRequested;
  /** The day the region ruled the application complete (from which the ICT directive's 90 days run). */
  admissibleOn?: IsoDate;
  /** The deadline overruns reported, each once (to the body and the integrator). */
  overruns?: OverrunsReported;
  closedBecause?: string;
}

/**
 * The work authorisation's decision deadline while the region owes it: 90 days from the complete
 * application for an ICT or a long-term mobility, four months from the application otherwise (the
 * directives; the seeds set none, see `decisionDeadline`).
 *
 * @example
 * ```ts
 * workDecisionDue(dossier); // '2027-04-11' for an ICT ruled complete on 2027-01-11
 * ```
 */
export function workDecisionDue(dossier: RegionDossier): IsoDate | undefined {
  if (dossier.phase !== 'admissible' || dossier.work) return undefined;
  return decisionDeadline({
    scheme: dossier.routing.scheme,
    appliedOn: dossier.appliedOn,
    ...(dossier.admissibleOn ? { completeOn: dossier.admissibleOn } : {}),
  });
}

/** Days a region gives to complete a dossier or to wait for the fee proof. */
export interface RegionTimeLimits {
  /** Working days after the application before the region rules without the fee proof (default 2). */
  reviewAfterWorkingDays: number;
  /** Working days given to provide missing items (default 15). */
  respondWithinWorkingDays: number;
}

/** Default {@link RegionTimeLimits}. */
export const DEFAULT_REGION_TIME_LIMITS: RegionTimeLimits = {
  reviewAfterWorkingDays: 2,
  respondWithinWorkingDays: 15,
};

/** Scheme of an application, as the contract routes it. */
export function schemeOf(app: Pick<ApplicationSubmitted, 'ict' | 'familyMemberOf'>): RegionRouting['scheme'] {
  if (app.familyMemberOf) return 'family';
  if (!app.ict) return 'standard';
  if (app.ict.scheme === 'short-term-mobility') return 'ict-short-term-mobility';
  return app.ict.scheme === 'mobility' ? 'ict-mobility' : 'ict';
}

/**
 * The documents the law requires besides the fee proof, by category and procedure:
 * - ICT first application (Art. 105/45 §2): passport copy, proof of means (employment contract,
 *   Art. 105/66), health insurance (Art. 105/68), medical certificate, criminal record if older than 18 (5°);
 * - long-term mobility (Art. 105/56 §2): the same without medical certificate, plus the first member
 *   state's ICT permit;
 * - ICT renewals (Art. 105/50, 105/61): passport copy, current permit, proof of means, health insurance;
 * - the other categories: the agreement names no list, and the medical certificate, the criminal record
 *   and the insurance proof are the ICT decree's; they give a passport copy and their employment contract
 *   (a copy of the permit held for a renewal), researchers their hosting agreement (PROCEDURE.md).
 *
 * @example
 * ```ts
 * requiredDocuments({ category: 'ict', procedure: 'first', ict: { scheme: 'transfer' }, adult: false });
 * // ['passportCopy', 'employmentContract', 'healthInsurance', 'medicalCertificate']
 * ```
 */
export function requiredDocuments(app: {
  category: ApplicationSubmitted['category'];
  procedure: ApplicationSubmitted['procedure'];
  adult: boolean;
  ict?: { scheme: 'transfer' | 'mobility' | 'short-term-mobility' };
}): DocumentKind[] {
  if (app.category !== 'ict') {
    // agreement of 5 March 2021: the generic list (the ICT-only documents are not asked)
    const docs: DocumentKind[] = ['passportCopy'];
    if (app.procedure === 'renewal') docs.push('currentPermit');
    docs.push('employmentContract');
    if (app.category === 'researcher') docs.push('hostingAgreement');
    return docs;
  }
  // Art. 105/50, 105/61: an ICT renewal
  if (app.procedure === 'renewal')
    return ['passportCopy', 'currentPermit', 'employmentContract', 'healthInsurance'];
  const mobility = app.ict?.scheme === 'mobility';
  const docs: DocumentKind[] = ['passportCopy', 'employmentContract', 'healthInsurance'];
  if (!mobility) docs.push('medicalCertificate'); // Art. 105/45 §2 4°
  if (mobility) docs.push('firstMemberStatePermit'); // Art. 105/56 §2 4°
  // Art. 105/45 §2 5°, 105/56 §2 5°: the criminal-record extract only from a person older than 18.
  if (app.adult) docs.push('criminalRecord');
  return docs;
}

/** The document slots a payload fills. */
export function providedKinds(documents: Record<string, unknown>): DocumentKind[] {
  return Object.entries(documents)
    .filter(([k, v]) => k !== 'other' && v !== undefined && v !== null)
    .map(([k]) => k as DocumentKind);
}

/** What {@link missingItems} reads of a dossier. */
export type CompletenessFacts = Pick<
  RegionDossier,
  | 'category'
  | 'routing'
  | 'adult'
  | 'documents'
  | 'feeProof'
  | 'requestedPeriod'
  | 'appliedOn'
  | 'contactsGiven'
  | 'passportExpiresOn'
  | 'insuranceCoversUntil'
  | 'firstMemberStatePermitValidUntil'
>;

/**
 * Items still missing: the fee proof first (Art. 105/45 §2), the e-mail addresses (`applicant-information`,
 * Art. 105/45 §1 2°, 105/56 §1 2°), then each required document not provided or not valid for the period:
 * a passport not valid three months beyond it (Art. 105/45 §2 1°), an insurance not covering all of it
 * (Art. 105/68), a first member state permit no longer valid (Art. 105/56 §2 4°).
 */
export function missingItems(dossier: CompletenessFacts): MissingItem[] {
  const scheme = dossier.routing.scheme;
  const required = requiredDocuments({
    category: dossier.category,
    procedure: dossier.routing.procedure,
    adult: dossier.adult,
    ...(scheme === 'ict-mobility' ? { ict: { scheme: 'mobility' as const } } : {}),
  });
  const missing: MissingItem[] = dossier.feeProof ? [] : ['fee-proof'];
  if (!dossier.contactsGiven) missing.push('applicant-information');
  const period = dossier.requestedPeriod;
  for (const kind of required) {
    const given = dossier.documents.includes(kind);
    const valid =
      kind === 'passportCopy'
        ? passportValidFor(dossier.passportExpiresOn, period)
        : kind === 'healthInsurance'
          ? insuranceCovers(dossier.insuranceCoversUntil, period)
          : kind === 'firstMemberStatePermit'
            ? firstMemberStatePermitValid(dossier.firstMemberStatePermitValidUntil, dossier.appliedOn, period)
            : true;
    if (!given || !valid) missing.push(kind);
  }
  return missing;
}

/**
 * The ICT stays the region's register holds of a transferee: filed under a pseudonym of the identity
 * (`key`), each stay authorised by one of its dossiers.
 */
export interface IctStayRecord {
  key: string;
  stays: Period[];
}

/** The identity the ICT stay register pseudonymises: nationality and passport number (never logged). */
export function transfereeIdentity(app: Pick<ApplicationSubmitted, 'applicant'>): string {
  return `${app.applicant.nationality}:${app.applicant.passportNumber}`;
}

/** The day of an application: its `submittedAt` in Brussels, or `today` for an unreadable one. */
function applicationDay(submittedAt: string, today: IsoDate): IsoDate {
  const at = new Date(submittedAt);
  return Number.isNaN(at.getTime()) ? today : toIsoDate(at);
}

/** The cover's end a health-insurance slot states, if any. */
function coverEnd(documents: ApplicationSubmitted['documents']): IsoDate | undefined {
  return documents.healthInsurance?.coversUntil;
}

/** The dossier a region opens on an application it received on `today`. */
export function openDossier(
  app: ApplicationSubmitted,
  regionId: string,
  portalId: string,
  today: IsoDate,
  limits: RegionTimeLimits = DEFAULT_REGION_TIME_LIMITS,
  /** The document kinds counted as provided (default: every filled slot; the service passes those that read back). */
  documents: DocumentKind[] = providedKinds(app.documents as Record<string, unknown>),
  /** What the region's own register holds of the transferee's earlier ICT stays (see {@link IctStayRecord}). */
  recorded?: IctStayRecord,
): RegionDossier {
  const stays = [...(app.ict?.priorIctStays ?? []), ...(recorded?.stays ?? [])];
  return {
    phase: 'received',
    routing: {
      procedure: app.procedure,
      scheme: schemeOf(app),
      regionId,
      portalId,
      ...(app.consularPostId ? { consularPostId: app.consularPostId } : {}),
      ...(app.residenceCommuneId ? { communeId: app.residenceCommuneId } : {}),
    },
    category: app.category,
    workplaceCommuneId: app.workplaceCommuneId,
    ...(app.ict ? { ictRole: app.ict.role } : {}),
    // Art. 105/45 §2 5°, 105/56 §2 5°: the age on the day of the application, from the birth date
    adult: isAdultOn(app.applicant.birthDate, applicationDay(app.submittedAt, today)),
    appliedOn: applicationDay(app.submittedAt, today),
    // Art. 105/45 §1 2°, 105/56 §1 2°: the transferee's and the employer's e-mail addresses
    contactsGiven: !!app.applicant.email && !!app.employer.email,
    requestedPeriod: app.requestedPeriod,
    ...(app.ict?.firstMemberState
      ? { firstMemberStatePermitValidUntil: app.ict.firstMemberState.permitValidUntil }
      : {}),
    ...(app.applicant.passportExpiresOn ? { passportExpiresOn: app.applicant.passportExpiresOn } : {}),
    ...(coverEnd(app.documents) ? { insuranceCoversUntil: coverEnd(app.documents)! } : {}),
    // Art. 105/45 §1 3°, 105/56 §1 3° (the earlier stays the application mentions) and what the exchange
    // recorded: both count towards the transfer's maximum (Art. 31 16°, 17°)
    ...(stays.length ? { ictStays: stays } : {}),
    ...(recorded ? { transfereeKey: recorded.key } : {}),
    documents,
    feeProof: false,
    receivedOn: today,
    reviewOn: addWorkingDays(today, limits.reviewAfterWorkingDays),
  };
}

/** Whether the hosted region is the one of the place of employment (agreement: competent region). */
export function isCompetent(regionId: string, workplaceCommuneId: string): boolean {
  try {
    return competentRegion(workplaceCommuneId) === regionId;
  } catch {
    return false;
  }
}

/**
 * The completeness and admissibility ruling due on `today`, or undefined when the region still waits:
 * - a family member's or a short-term mobility's dossier → inadmissible (`outside-scope`);
 * - not the competent region → inadmissible (`not-competent`);
 * - nothing missing → complete, with the admissibility document (the one produced for an Art. 33 §6 attestation);
 * - items missing, fee proof included: while the fee proof may still come (before `reviewOn`) wait; then
 *   ask for the items once, with a date to respond (agreement: the region tells the applicant to provide it);
 * - still missing after that date → inadmissible: `fee-proof-missing` first, else `missing-items-not-provided`.
 */
export function completenessRuling(
  dossier: RegionDossier,
  hostedRegion: string,
  dossierId: string,
  today: IsoDate,
  limits: RegionTimeLimits = DEFAULT_REGION_TIME_LIMITS,
  /** Receives the decision documents rendered, for the service to store them. */
  documents?: DecisionDocument[],
): CompletenessRuled | undefined {
  // Art. 105/43 (short-term mobility is notified) and Art. 26/2 §3, 26/2/1 §3 (a family member applies
  // for residence): no work authorisation, so nothing for a region to rule on
  if (dossier.routing.scheme === 'family' || dossier.routing.scheme === 'ict-short-term-mobility') {
    return { outcome: 'inadmissible', ruledOn: today, reason: 'outside-scope' };
  }
  // agreement: the region of the place of employment (the portal derives it from the workplace)
  if (!isCompetent(hostedRegion, dossier.workplaceCommuneId)) {
    return { outcome: 'inadmissible', ruledOn: today, reason: 'not-competent' };
  }
  const missing = missingItems(dossier);
  if (missing.length === 0) {
    const { ref } = collectDocument(
      documents,
      decisionDocument({
        document: 'admissibility',
        issuer: hostedRegion,
        dossierId,
        issuedOn: today,
        article: 'Agreement of 5 March 2021; Art. 33 §6',
        outcome: 'complete',
      }),
    );
    return { outcome: 'complete', ruledOn: today, admissibilityDocument: ref };
  }
  if (dossier.phase === 'awaiting-items') {
    if (dossier.respondBy && dayNumber(today) > dayNumber(dossier.respondBy)) {
      return {
        outcome: 'inadmissible',
        ruledOn: today,
        reason: missing.includes('fee-proof') ? 'fee-proof-missing' : 'missing-items-not-provided',
      };
    }
    return undefined;
  }
  if (!dossier.feeProof && dayNumber(today) < dayNumber(dossier.reviewOn)) return undefined;
  return {
    outcome: 'missing-items',
    ruledOn: today,
    missingItems: missing,
    respondBy: addWorkingDays(today, limits.respondWithinWorkingDays),
  };
}

/** The phase a ruling leads to. */
export function phaseAfterRuling(ruling: CompletenessRuled): RegionPhase {
  if (ruling.outcome === 'complete') return 'admissible';
  if (ruling.outcome === 'missing-items') return 'awaiting-items';
  return 'closed';
}

/** What the case officer decides on the work authorisation. */
export type WorkDecision =
  { decision: 'granted'; period: Period } | { decision: 'refused'; reason: WorkRefusalReason };

/**
 * Legal limits of a dossier's work period: the ICT maximum less the transfer's earlier stays
 * (Art. 31 16°, 17°), the first member state's permit (Art. 105/62 §2), the health insurance's cover
 * (Art. 105/68).
 */
export function periodLimits(
  dossier: Pick<
    RegionDossier,
    'ictRole' | 'firstMemberStatePermitValidUntil' | 'ictStays' | 'insuranceCoversUntil'
  >,
): PeriodLimits {
  return {
    ...(dossier.ictRole ? { ictRole: dossier.ictRole } : {}),
    ...(dossier.ictRole && dossier.ictStays?.length ? { ictStays: dossier.ictStays } : {}),
    ...(dossier.firstMemberStatePermitValidUntil
      ? { firstMemberStatePermitValidUntil: dossier.firstMemberStatePermitValidUntil }
      : {}),
    ...(dossier.insuranceCoversUntil ? { insuranceCoversUntil: dossier.insuranceCoversUntil } : {}),
  };
}

/**
 * The automatic decision: grant the requested period within the legal maxima (Art. 105/46 §2, 31 16° and
 * 17°: 3 years for ICT managers and specialists, 1 year for trainees, earlier stays of the transfer
 * counted; Art. 105/57, 105/62 §2: a mobility period within the first member state's permit). When
 * nothing lawful is left of it (the transfer's maximum used up, the first member state's permit ended),
 * the work is refused (`conditions-not-met`), which the Immigration Office follows with its annex 48
 * (Art. 105/48, 105/59): the ruling the texts provide, never an exception.
 */
export function automaticWorkDecision(dossier: RegionDossier): WorkDecision {
  const period = attempt(() => capPeriod(dossier.requestedPeriod, periodLimits(dossier)));
  return isRefusal(period)
    ? { decision: 'refused', reason: 'conditions-not-met' }
    : { decision: 'granted', period };
}

/**
 * The `work-authorisation-decided` payload of a decision; a granted period is cut to the legal maxima
 * ({@link periodLimits}), and one nothing lawful is left of (it ends before it starts, the transfer's
 * maximum is used up, the first member state's permit or the insurance ends before it) is refused with
 * ERR_PERIOD_INVALID: the case officer then refuses the work, or grants a lawful period.
 */
export function workAuthorisationPayload(
  dossier: RegionDossier,
  decision: WorkDecision,
  hostedRegion: string,
  dossierId: string,
  today: IsoDate,
  /** Receives the decision documents rendered, for the service to store them. */
  documents?: DecisionDocument[],
): WorkAuthorisationDecided | Refusal {
  // the decision document: the region's, of this dossier, today; what differs is the article and outcome
  const decisionRef = (fields: { article: string; outcome: string; period?: Period }): DocumentRef =>
    collectDocument(
      documents,
      decisionDocument({
        document: 'work-authorisation',
        issuer: hostedRegion,
        dossierId,
        issuedOn: today,
        ...fields,
      }),
    ).ref;
  if (decision.decision === 'refused') {
    const ref = decisionRef({ article: 'Art. 105/46 §2', outcome: `refused:${decision.reason}` });
    return { decision: 'refused', decidedOn: today, reason: decision.reason, decisionDocument: ref };
  }
  const period = attempt(() => capPeriod(decision.period, periodLimits(dossier)));
  if (isRefusal(period)) return period;
  return {
    decision: 'granted',
    decidedOn: today,
    period,
    ...(dossier.ictRole ? { ictRole: dossier.ictRole } : {}),
    decisionDocument: decisionRef({ article: 'Art. 105/46 §2, 105/57 §2', period, outcome: 'granted' }),
  };
}
