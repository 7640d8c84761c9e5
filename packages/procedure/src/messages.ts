import type { IsoDate } from './dates.js';
import type { IctRole, Period } from './periods.js';

// Payload types of schemas/*.v1.json, as the services read and write them. The schemas are the
// authority: every payload is validated against them by the exchange before it is sent or handled.

/** Categories of the agreement of 5 March 2021 ("Pour qui ?"). */
export type Category =
  | 'single-permit'
  | 'eu-blue-card'
  | 'seasonal-worker'
  | 'ict'
  | 'researcher'
  | 'trainee'
  | 'volunteer'
  | 'other-directive';

/** A document in the object store, referenced by hash. */
export interface DocumentRef {
  sha256: string;
  mediaType: 'application/pdf' | 'image/jpeg' | 'image/png' | 'application/xml' | 'application/json';
  size: number;
  objectKey: string;
}

/** Documents of a dossier, one slot per kind the law names. */
export interface DossierDocuments {
  passportCopy?: DocumentRef;
  employmentContract?: DocumentRef;
  healthInsurance?: {
    form: 'insurer' | 'social-security-convention' | 'employer-undertaking';
    document: DocumentRef;
  };
  medicalCertificate?: DocumentRef;
  criminalRecord?: DocumentRef;
  currentPermit?: DocumentRef;
  firstMemberStatePermit?: DocumentRef;
  hostingAgreement?: DocumentRef;
  other?: DocumentRef[];
}

/** The document slots that completeness rules name. */
export type DocumentKind = Exclude<keyof DossierDocuments, 'other'>;

/** The applicant (personal data). */
export interface Applicant {
  familyName: string;
  givenNames: string;
  birthDate: IsoDate;
  nationality: string;
  passportNumber: string;
  email?: string;
}

/** An amount in euro cents. */
export interface Money {
  amountCents: number;
  currency: 'EUR';
}

/** `application-submitted` v1. */
export interface ApplicationSubmitted {
  category: Category;
  procedure: 'first' | 'renewal';
  regionId: string;
  workplaceCommuneId: string;
  residenceCommuneId?: string;
  consularPostId?: string;
  ict?: {
    scheme: 'transfer' | 'mobility';
    role: IctRole;
    priorIctStayInLast3Years: boolean;
    firstMemberState?: { country: string; permitValidUntil: IsoDate; address: unknown };
  };
  /** Family member of a (mobile) ICT (Art. 26/2 §3, 26/2/1 §3): the 90-day decision deadline applies. */
  familyMemberOf?: { scheme: 'transfer' | 'mobility'; sponsorDossierId?: string };
  adult: boolean;
  applicant: Applicant;
  employer: { name: string; enterpriseNumber: string; email: string };
  requestedPeriod: Period;
  documents: DossierDocuments;
  submittedAt: string;
}

/** `documents-added` v1. */
export interface DocumentsAdded {
  reason: 'completion' | 'requested-by-authority' | 'spontaneous';
  documents: DossierDocuments;
  addedAt: string;
}

/** `fee-proof-submitted` v1. */
export interface FeeProofSubmitted {
  proof: DocumentRef;
  amount: Money;
  paidOn: IsoDate;
  paymentReference: string;
  submittedAt: string;
}

/** Items a completeness ruling may name as missing. */
export type MissingItem = DocumentKind | 'fee-proof' | 'applicant-information';

/** `completeness-ruled` v1. */
export type CompletenessRuled =
  | { outcome: 'complete'; ruledOn: IsoDate; admissibilityDocument: DocumentRef }
  | { outcome: 'missing-items'; ruledOn: IsoDate; missingItems: MissingItem[]; respondBy: IsoDate }
  | {
      outcome: 'inadmissible';
      ruledOn: IsoDate;
      reason:
        'fee-proof-missing' | 'missing-items-not-provided' | 'outside-scope' | 'not-competent' | 'other';
      explanation?: string;
    };

/** `fee-payment-requested` v1. */
export interface FeePaymentRequested {
  reason: 'not-paid' | 'amount-incorrect';
  amountDue: Money;
  amountReceived?: Money;
  requestedOn: IsoDate;
  payBy: IsoDate;
}

/** Reasons a region refuses a work authorisation. */
export type WorkRefusalReason = 'conditions-not-met' | 'labour-market' | 'employer-excluded' | 'other';

/** `work-authorisation-decided` v1. */
export type WorkAuthorisationDecided =
  | {
      decision: 'granted';
      decidedOn: IsoDate;
      period: Period;
      ictRole?: IctRole;
      decisionDocument: DocumentRef;
    }
  | { decision: 'refused'; decidedOn: IsoDate; reason: WorkRefusalReason; decisionDocument: DocumentRef };

/** Permit a commune issues after an annex 46. */
export type PermitKind = 'annex-60' | 'annex-61' | 'single-permit';

/** Reasons for an annex 48 refusal. */
export type ResidenceRefusalReason =
  'conditions-not-met' | 'public-order' | 'public-health' | 'fraud' | 'work-authorisation-refused' | 'other';

/** Routing facts a residence decision carries for the commune (optional fields of the schema). */
export interface ResidenceRouting {
  procedure?: 'first' | 'renewal';
  regionId?: string;
  portalId?: string;
}

/** `residence-decided` v1, annex 46 (grant). */
export interface ResidenceGranted extends ResidenceRouting {
  annex: '46';
  decidedOn: IsoDate;
  period: Period;
  permitToIssue: PermitKind;
  visaRequired: boolean;
  consularPostId?: string;
  communeId?: string;
  holder?: Applicant;
  decisionDocument: DocumentRef;
}

/** `residence-decided` v1, any annex. */
export type ResidenceDecided =
  | ResidenceGranted
  | {
      annex: '48';
      decidedOn: IsoDate;
      reason: ResidenceRefusalReason;
      holder?: Applicant;
      decisionDocument: DocumentRef;
    }
  | {
      annex: '43' | '43bis';
      decidedOn: IsoDate;
      feeCase: 'not-paid' | 'partially-paid';
      holder?: Applicant;
      decisionDocument: DocumentRef;
    };

/** `visa-issued` v1. */
export interface VisaIssued {
  visaType: 'D';
  visaNumber: string;
  issuedOn: IsoDate;
  validity: Period;
}

/** `arrival-registered` v1. */
export interface ArrivalRegistered {
  communeId: string;
  enteredOn: IsoDate;
  reportedOn: IsoDate;
  provisionalDocument: { annex: '49'; number: string; validity: Period };
  address?: { street: string; postalCode: string; city: string; country: string };
}

/** `provisional-document-extended` v1. */
export interface ProvisionalDocumentExtended {
  annex: '49';
  number: string;
  purpose: 'awaiting-permit' | 'renewal-pending';
  extension: number;
  extendedOn: IsoDate;
  validity: Period;
}

/** `permit-issued` v1. */
export interface PermitIssued {
  permit: PermitKind;
  permitNumber: string;
  communeId: string;
  issuedOn: IsoDate;
  validity: Period;
  registeredInForeignersRegister: true;
}

/** `permit-renewed` v1. */
export interface PermitRenewed {
  permit: PermitKind;
  permitNumber: string;
  previousPermitNumber: string;
  communeId: string;
  renewedOn: IsoDate;
  validity: Period;
}

/** `renewal-pending-attested` v1. */
export interface RenewalPendingAttested {
  annex: '49';
  number: string;
  communeId: string;
  attestedOn: IsoDate;
  validity: Period;
  expiredPermitNumber: string;
  admissibilityDocument: DocumentRef;
}

/** Reasons the stay ends. */
export type StayEndReason =
  'conditions-no-longer-met' | 'work-authorisation-withdrawn' | 'fraud' | 'public-order' | 'other';

/** `stay-ended` v1. */
export interface StayEnded {
  annex: '52';
  decidedOn: IsoDate;
  endsOn: IsoDate;
  reason: StayEndReason;
  communeId?: string;
  holder?: Applicant;
  decisionDocument: DocumentRef;
}
