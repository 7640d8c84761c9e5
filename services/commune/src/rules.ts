import {
  type ArrivalRegistered,
  type CommunePhase,
  type DocumentRef,
  type IsoDate,
  type OverrunsReported,
  type Period,
  type PermitIssued,
  type PermitKind,
  type PermitRenewed,
  type DossierRecord,
  type Refusal,
  type ProvisionalDocumentExtended,
  type ProvisionalPurpose,
  type RenewalPendingAttested,
  type ResidenceCheckReason,
  type ResidenceChecked,
  arrivalReportDeadline,
  attempt,
  dayNumber,
  isRefusal,
  refuse,
  documentNumber,
  extendProvisionalDocument,
  isArrivalReportInTime,
  provisionalDocumentValidity,
  renewalPendingValidity,
} from '@passerelle/procedure';

/** The annex 46 facts a commune acts on: the authorised stay and the permit to issue. */
export interface CommuneGrant {
  period: Period;
  permitToIssue: PermitKind;
  visaRequired: boolean;
  decidedOn: IsoDate;
}

/** Where a commune sends what it issues (from the annex 46 or the documents the person presents). */
export interface CommuneRouting {
  procedure?: 'first' | 'renewal';
  regionId?: string;
  portalId?: string;
}

/** An annex 49 (provisional document or renewal-pending attestation). */
export interface ProvisionalDocument {
  number: string;
  purpose: ProvisionalPurpose;
  validity: Period;
  extensions: number;
}

/** A provisional document as first issued (never extended), numbered from `prefix` and the dossier. */
function firstProvisional(
  prefix: string,
  dossierId: string,
  purpose: ProvisionalPurpose,
  validity: Period,
): ProvisionalDocument {
  return { number: documentNumber(prefix, dossierId, 1), purpose, validity, extensions: 0 };
}

/** What a commune keeps of a dossier. `holderPassport` keys its foreigners' register (personal data). */
export interface CommuneDossier extends DossierRecord {
  phase: CommunePhase;
  routing: CommuneRouting;
  grant?: CommuneGrant;
  holderPassport?: string;
  arrival?: { enteredOn: IsoDate; reportedOn: IsoDate; deadline: IsoDate; inTime: boolean };
  provisional?: ProvisionalDocument;
  /** Art. 33 §6: number of the expired permit produced for the renewal-pending attestation. */
  expiredPermitNumber?: string;
  /** Art. 105/47 §2 al. 2, 105/58 al. 2: the latest residence check after the arrival. */
  residenceCheck?: ResidenceCheck;
  permit?: { kind: PermitKind; number: string; validity: Period; previousNumber?: string };
  /** The deadline overruns reported, each once (to the body and, when known, the integrator). */
  overruns?: OverrunsReported;
}

/** The result of a residence check (contrôle de résidence), as the commune keeps it. */
export interface ResidenceCheck {
  outcome: ResidenceChecked['outcome'];
  checkedOn: IsoDate;
  reason?: ResidenceCheckReason;
}

/** What the desk records of a residence check: its result and, for a negative one, why. */
export type ResidenceCheckInput =
  | { outcome: 'positive'; checkedOn?: IsoDate }
  | { outcome: 'negative'; reason: ResidenceCheckReason; checkedOn?: IsoDate };

/** A permit on the commune's foreigners' register. */
export interface RegisteredPermit {
  permit: PermitKind;
  permitNumber: string;
  validity: Period;
  dossierId?: string;
}

const PERMIT_PREFIX: Readonly<Record<PermitKind, string>> = {
  'annex-60': 'A60',
  'annex-61': 'A61',
  'single-permit': 'SP',
  // Art. 26/2 §3, 26/2/1 §3: a family member's residence permit (no work authorisation)
  'residence-permit': 'RP',
};

/**
 * Art. 105/47 §2, 105/58 - the person reports within 8 working days of entry; the mayor registers the
 * arrival and issues at once the provisional document (annex 49), valid 45 days from its issue. Reporting
 * late is recorded (`inTime: false`), not refused: the registration still has to be made. A report before
 * the entry is refused (ERR_OUT_OF_SEQUENCE).
 */
export function registerArrival(
  communeId: string,
  dossierId: string,
  input: { enteredOn: IsoDate; reportedOn: IsoDate; address?: ArrivalRegistered['address'] },
):
  | {
      payload: ArrivalRegistered;
      arrival: NonNullable<CommuneDossier['arrival']>;
      provisional: ProvisionalDocument;
    }
  | Refusal {
  if (dayNumber(input.reportedOn) < dayNumber(input.enteredOn)) {
    return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${dossierId}: a report cannot precede the entry.`, {
      dossierId,
      step: 'register-arrival',
    });
  }
  const provisional = firstProvisional(
    'A49',
    dossierId,
    'awaiting-permit',
    provisionalDocumentValidity(input.reportedOn),
  );
  return {
    payload: {
      communeId,
      enteredOn: input.enteredOn,
      reportedOn: input.reportedOn,
      provisionalDocument: { annex: '49', number: provisional.number, validity: provisional.validity },
      ...(input.address ? { address: input.address } : {}),
    },
    arrival: {
      enteredOn: input.enteredOn,
      reportedOn: input.reportedOn,
      deadline: arrivalReportDeadline(input.enteredOn),
      inTime: isArrivalReportInTime(input.enteredOn, input.reportedOn),
    },
    provisional,
  };
}

/**
 * Art. 105/47 §2 al. 2, 105/58 al. 2 - the residence check after the arrival, before the permit: its result
 * for the Immigration Office, dated `checkedOn` (default `today`). It is made on or after the day the person
 * reported, otherwise it is refused (ERR_OUT_OF_SEQUENCE). It may be repeated (a person absent at the first
 * visit): the latest check counts.
 */
export function checkResidence(
  communeId: string,
  dossierId: string,
  dossier: Pick<CommuneDossier, 'arrival'>,
  input: ResidenceCheckInput,
  today: IsoDate,
): { payload: ResidenceChecked; check: ResidenceCheck } | Refusal {
  const checkedOn = input.checkedOn ?? today;
  const reportedOn = dossier.arrival?.reportedOn;
  if (!reportedOn || dayNumber(checkedOn) < dayNumber(reportedOn)) {
    return refuse(
      'ERR_OUT_OF_SEQUENCE',
      `Dossier ${dossierId}: a residence check follows the report of the arrival (${reportedOn ?? 'none'}).`,
      { dossierId, step: 'check-residence' },
    );
  }
  const check: ResidenceCheck =
    input.outcome === 'negative'
      ? { outcome: 'negative', checkedOn, reason: input.reason }
      : { outcome: 'positive', checkedOn };
  const payload: ResidenceChecked =
    input.outcome === 'negative'
      ? { communeId, checkedOn, outcome: 'negative', reason: input.reason }
      : { communeId, checkedOn, outcome: 'positive' };
  return { payload, check };
}

/**
 * Art. 105/47 §2 al. 2, 105/58 al. 2 - the permit follows the residence check: without a check, or after a
 * negative one, it is refused (ERR_OUT_OF_SEQUENCE) and the desk is told which.
 */
export function permitAwaitsResidenceCheck(
  dossier: Pick<CommuneDossier, 'residenceCheck'>,
  dossierId: string,
): Refusal | undefined {
  const check = dossier.residenceCheck;
  if (check?.outcome === 'positive') return undefined;
  return refuse(
    'ERR_OUT_OF_SEQUENCE',
    check
      ? `Dossier ${dossierId}: the residence check of ${check.checkedOn} is negative (${check.reason}); no permit is issued.`
      : `Dossier ${dossierId}: the residence check comes before the permit (Art. 105/47 §2, 105/58).`,
    { dossierId, step: 'issue-permit', residenceCheck: check?.outcome ?? 'none' },
  );
}

/**
 * Art. 105/47 §2, 105/58 (+45 days until the permit) and Art. 33 §6 (+30 days, once) - the next extension
 * of the dossier's annex 49; refused with ERR_EXTENSION_NOT_ALLOWED beyond what the law allows.
 */
export function extendProvisional(
  dossier: CommuneDossier,
  dossierId: string,
  today: IsoDate,
): { payload: ProvisionalDocumentExtended; provisional: ProvisionalDocument } | Refusal {
  const current = dossier.provisional;
  if (!current) {
    return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${dossierId} has no annex 49 to extend.`, {
      dossierId,
      step: 'extend-provisional',
    });
  }
  // the annex 49 is extended while the permit is awaited: after a negative residence check it is not (the
  // texts are silent; PROCEDURE.md) until a new check is positive
  if (current.purpose === 'awaiting-permit' && dossier.residenceCheck?.outcome === 'negative') {
    return refuse(
      'ERR_EXTENSION_NOT_ALLOWED',
      `Dossier ${dossierId}: the residence check is negative; the annex 49 is not extended.`,
      { dossierId, step: 'extend-provisional', residenceCheck: 'negative' },
    );
  }
  const next = attempt(() =>
    extendProvisionalDocument({
      purpose: current.purpose,
      validity: current.validity,
      extensions: current.extensions,
      permitIssued: dossier.permit !== undefined,
    }),
  );
  if (isRefusal(next)) return next;
  return {
    payload: {
      annex: '49',
      number: current.number,
      purpose: current.purpose,
      extension: next.extension,
      extendedOn: today,
      validity: next.validity,
    },
    provisional: { ...current, validity: next.validity, extensions: next.extension },
  };
}

/** The permit the grant names and its number, the `n`th the commune issues on the dossier. */
function permitOf(grant: CommuneGrant, dossierId: string, n: number) {
  return {
    permit: grant.permitToIssue,
    permitNumber: documentNumber(PERMIT_PREFIX[grant.permitToIssue], dossierId, n),
  };
}

/**
 * Art. 105/47 §2, 105/58, 31 16° and 17° - the permit (annex 60 ICT permit, annex 61 long-term mobility
 * permit, or the single permit) valid for the authorised stay of the annex 46.
 */
export function issuePermit(
  communeId: string,
  dossierId: string,
  grant: CommuneGrant,
  today: IsoDate,
): PermitIssued {
  return {
    ...permitOf(grant, dossierId, 1),
    communeId,
    issuedOn: today,
    validity: grant.period,
    registeredInForeignersRegister: true,
  };
}

/** Art. 105/52 §2, 105/63 §2 - the renewed permit, issued without delay, valid for the authorised stay. */
export function renewPermit(
  communeId: string,
  dossierId: string,
  grant: CommuneGrant,
  previousPermitNumber: string,
  today: IsoDate,
): PermitRenewed {
  return {
    ...permitOf(grant, dossierId, 2),
    previousPermitNumber,
    communeId,
    renewedOn: today,
    validity: grant.period,
  };
}

/**
 * Art. 33 §6 - the renewal-pending attestation (annex 49, 30 days), on production of the expired permit
 * and the region's document stating the renewal application is admissible. A permit still valid on
 * `today` gets none (refused, ERR_OUT_OF_SEQUENCE).
 */
export function attestRenewalPending(
  communeId: string,
  dossierId: string,
  input: { expiredPermitNumber: string; admissibilityDocument: DocumentRef; registered?: RegisteredPermit },
  today: IsoDate,
): { payload: RenewalPendingAttested; provisional: ProvisionalDocument } | Refusal {
  if (input.registered && dayNumber(input.registered.validity.to) >= dayNumber(today)) {
    return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${dossierId}: the permit has not expired yet.`, {
      dossierId,
      step: 'attest-renewal-pending',
    });
  }
  const provisional = firstProvisional('A49R', dossierId, 'renewal-pending', renewalPendingValidity(today));
  return {
    payload: {
      annex: '49',
      number: provisional.number,
      communeId,
      attestedOn: today,
      validity: provisional.validity,
      expiredPermitNumber: input.expiredPermitNumber,
      admissibilityDocument: input.admissibilityDocument,
    },
    provisional,
  };
}
