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
  permit?: { kind: PermitKind; number: string; validity: Period; previousNumber?: string };
  /** The deadline overruns reported, each once (to the body and, when known, the integrator). */
  overruns?: OverrunsReported;
}

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
    permit: grant.permitToIssue,
    permitNumber: documentNumber(PERMIT_PREFIX[grant.permitToIssue], dossierId, 1),
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
    permit: grant.permitToIssue,
    permitNumber: documentNumber(PERMIT_PREFIX[grant.permitToIssue], dossierId, 2),
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
