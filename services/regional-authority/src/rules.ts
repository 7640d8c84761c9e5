import {
  type ApplicationSubmitted,
  type DecisionDocument,
  type CompletenessRuled,
  type DocumentKind,
  type DocumentRef,
  type IctRole,
  type IsoDate,
  type MissingItem,
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
  decisionDocument,
} from '@passerelle/procedure';

/** The routing facts of a dossier (a `DossierContext`): no personal data. */
export interface RegionRouting {
  procedure: 'first' | 'renewal';
  scheme: 'standard' | 'ict' | 'ict-mobility';
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
  adult: boolean;
  requestedPeriod: Period;
  firstMemberStatePermitValidUntil?: IsoDate;
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
  closedBecause?: string;
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
export function schemeOf(app: Pick<ApplicationSubmitted, 'ict'>): RegionRouting['scheme'] {
  if (!app.ict) return 'standard';
  return app.ict.scheme === 'mobility' ? 'ict-mobility' : 'ict';
}

/**
 * The documents the law requires besides the fee proof, by category and procedure:
 * - ICT first application (Art. 105/45 §2): passport copy, proof of means (employment contract,
 *   Art. 105/66), health insurance (Art. 105/68), medical certificate, criminal record if adult (5°);
 * - long-term mobility (Art. 105/56 §2): the same without medical certificate, plus the first member
 *   state's ICT permit;
 * - renewals (Art. 105/50, 105/61): passport copy, current permit, proof of means, health insurance;
 * - other categories follow the generic single-permit list (the ICT first-application list), researchers
 *   adding their hosting agreement.
 *
 * @example
 * ```ts
 * requiredDocuments({ category: 'ict', procedure: 'first', ict: { scheme: 'transfer', … }, adult: false });
 * // ['passportCopy', 'employmentContract', 'healthInsurance', 'medicalCertificate']
 * ```
 */
export function requiredDocuments(
  app: Pick<ApplicationSubmitted, 'category' | 'procedure' | 'adult'> & {
    ict?: { scheme: 'transfer' | 'mobility' };
  },
): DocumentKind[] {
  if (app.procedure === 'renewal')
    return ['passportCopy', 'currentPermit', 'employmentContract', 'healthInsurance'];
  const mobility = app.ict?.scheme === 'mobility';
  const docs: DocumentKind[] = ['passportCopy', 'employmentContract', 'healthInsurance'];
  if (!mobility) docs.push('medicalCertificate');
  if (mobility) docs.push('firstMemberStatePermit');
  if (app.category === 'researcher') docs.push('hostingAgreement');
  // Art. 105/45 §2 5°, 105/56 §2: the criminal-record extract only from a person older than 18.
  if (app.adult) docs.push('criminalRecord');
  return docs;
}

/** The document slots a payload fills. */
export function providedKinds(documents: Record<string, unknown>): DocumentKind[] {
  return Object.entries(documents)
    .filter(([k, v]) => k !== 'other' && v !== undefined && v !== null)
    .map(([k]) => k as DocumentKind);
}

/** Items still missing: required documents not provided and, first of all, the fee proof (Art. 105/45 §2). */
export function missingItems(
  dossier: Pick<RegionDossier, 'category' | 'routing' | 'adult' | 'documents' | 'feeProof'>,
): MissingItem[] {
  const required = requiredDocuments({
    category: dossier.category,
    procedure: dossier.routing.procedure,
    adult: dossier.adult,
    ...(dossier.routing.scheme === 'ict-mobility' ? { ict: { scheme: 'mobility' as const } } : {}),
  });
  const missing: MissingItem[] = dossier.feeProof ? [] : ['fee-proof'];
  for (const kind of required) if (!dossier.documents.includes(kind)) missing.push(kind);
  return missing;
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
): RegionDossier {
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
    adult: app.adult,
    requestedPeriod: app.requestedPeriod,
    ...(app.ict?.firstMemberState
      ? { firstMemberStatePermitValidUntil: app.ict.firstMemberState.permitValidUntil }
      : {}),
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

/** Legal limits of a dossier's work period (ICT role, first member state's permit). */
export function periodLimits(
  dossier: Pick<RegionDossier, 'ictRole' | 'firstMemberStatePermitValidUntil'>,
): PeriodLimits {
  return {
    ...(dossier.ictRole ? { ictRole: dossier.ictRole } : {}),
    ...(dossier.firstMemberStatePermitValidUntil
      ? { firstMemberStatePermitValidUntil: dossier.firstMemberStatePermitValidUntil }
      : {}),
  };
}

/**
 * The automatic decision: grant the requested period within the legal maxima (Art. 105/46 §2, 31 16° and
 * 17°: 3 years for ICT managers and specialists, 1 year for trainees; Art. 105/57, 105/61: a mobility
 * period within the first member state's permit).
 */
export function automaticWorkDecision(dossier: RegionDossier): WorkDecision {
  const period = attempt(() => capPeriod(dossier.requestedPeriod, periodLimits(dossier)));
  // a requested period nothing lawful is left of is passed on as asked: the decision then refuses it
  return { decision: 'granted', period: isRefusal(period) ? dossier.requestedPeriod : period };
}

/**
 * The `work-authorisation-decided` payload of a decision; a granted period is cut to the legal maxima, and
 * one nothing lawful is left of (it ends before it starts, or before the first member state's permit
 * allows) is refused with ERR_PERIOD_INVALID.
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
  if (decision.decision === 'refused') {
    const { ref } = collectDocument(
      documents,
      decisionDocument({
        document: 'work-authorisation',
        issuer: hostedRegion,
        dossierId,
        issuedOn: today,
        article: 'Art. 105/46 §2',
        outcome: `refused:${decision.reason}`,
      }),
    );
    return { decision: 'refused', decidedOn: today, reason: decision.reason, decisionDocument: ref };
  }
  const period = attempt(() => capPeriod(decision.period, periodLimits(dossier)));
  if (isRefusal(period)) return period;
  const { ref } = collectDocument(
    documents,
    decisionDocument({
      document: 'work-authorisation',
      issuer: hostedRegion,
      dossierId,
      issuedOn: today,
      article: 'Art. 105/46 §2, 105/57 §2',
      period,
      outcome: 'granted',
    }),
  );
  return {
    decision: 'granted',
    decidedOn: today,
    period,
    ...(dossier.ictRole ? { ictRole: dossier.ictRole } : {}),
    decisionDocument: ref,
  };
}
