import type * as Payloads from '@passerelle/contracts';

// Payload types of schemas/*.v1.json, as the services read and write them: the types generated from the
// schemas (`pnpm gen:contracts`), with names for the parts the procedure talks about. The schemas are the
// authority: every payload is validated against them by the exchange before it is sent or handled.

/** Categories of the agreement of 5 March 2021 ("Pour qui ?"). */
export type Category = Payloads.Category;
/** A document in the object store, referenced by hash. */
export type DocumentRef = Payloads.DocumentRef;
/** Documents of a dossier, one slot per kind the law names. */
export type DossierDocuments = Payloads.DossierDocuments;
/** The document slots that completeness rules name. */
export type DocumentKind = Exclude<keyof DossierDocuments, 'other'>;
/** The applicant (personal data). */
export type Applicant = Payloads.Applicant;
/** An amount in euro cents. */
export type Money = Payloads.Money;

/** `application-submitted` v1. */
export type ApplicationSubmitted = Payloads.ApplicationSubmitted;
/** `documents-added` v1. */
export type DocumentsAdded = Payloads.DocumentsAdded;
/** `fee-proof-submitted` v1. */
export type FeeProofSubmitted = Payloads.FeeProofSubmitted;

/** `completeness-ruled` v1. */
export type CompletenessRuled = Payloads.CompletenessRuled;
/** Items a completeness ruling may name as missing. */
export type MissingItem = Extract<CompletenessRuled, { outcome: 'missing-items' }>['missingItems'][number];

/** `fee-payment-requested` v1. */
export type FeePaymentRequested = Payloads.FeePaymentRequested;

/** `deadline-overrun` v1: a legal deadline overrun, reported once to the integrator. */
export type DeadlineOverrun = Payloads.DeadlineOverrun;

/** `information-requested` v1 (Art. 105/67). */
export type InformationRequested = Payloads.InformationRequested;

/** `short-term-mobility-decided` v1 (Art. 105/43; directive 2014/66/EU Art. 21). */
export type ShortTermMobilityDecided = Payloads.ShortTermMobilityDecided;
/** Grounds of an objection to a short-term mobility. */
export type MobilityObjectionReason = Extract<ShortTermMobilityDecided, { outcome: 'objected' }>['reason'];

/** `work-authorisation-decided` v1. */
export type WorkAuthorisationDecided = Payloads.WorkAuthorisationDecided;
/** Reasons a region refuses a work authorisation. */
export type WorkRefusalReason = Extract<WorkAuthorisationDecided, { decision: 'refused' }>['reason'];

/** `residence-decided` v1, annex 46 (grant). */
export type ResidenceGranted = Payloads.ResidenceGranted;
/** `residence-decided` v1, any annex. */
export type ResidenceDecided = Payloads.ResidenceDecided;
/** Permit a commune issues after an annex 46. */
export type PermitKind = ResidenceGranted['permitToIssue'];
/** Reasons for an annex 48 refusal. */
export type ResidenceRefusalReason = Extract<ResidenceDecided, { annex: '48' }>['reason'];

/** `visa-issued` v1. */
export type VisaIssued = Payloads.VisaIssued;
/** `arrival-registered` v1. */
export type ArrivalRegistered = Payloads.ArrivalRegistered;
/** `provisional-document-extended` v1. */
export type ProvisionalDocumentExtended = Payloads.ProvisionalDocumentExtended;
/** `residence-checked` v1 (Art. 105/47 §2 al. 2, 105/58 al. 2). */
export type ResidenceChecked = Payloads.ResidenceChecked;
/** Reasons a residence check is negative. */
export type ResidenceCheckReason = Extract<ResidenceChecked, { outcome: 'negative' }>['reason'];
/** `permit-issued` v1. */
export type PermitIssued = Payloads.PermitIssued;
/** `permit-renewed` v1. */
export type PermitRenewed = Payloads.PermitRenewed;
/** `renewal-pending-attested` v1. */
export type RenewalPendingAttested = Payloads.RenewalPendingAttested;

/** `stay-ended` v1. */
export type StayEnded = Payloads.StayEnded;
/** Reasons the stay ends. */
export type StayEndReason = StayEnded['reason'];
