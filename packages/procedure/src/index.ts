export { addWorkingDays } from './calendar.js';
export { addDays, dayNumber, toIsoDate } from './dates.js';
export type { IsoDate } from './dates.js';
export {
  availableActions,
  decideStep,
  describeActions,
  owedActions,
  stepNeeds,
  workingDaysLeft,
} from './decide-step.js';
export type { ActionDescriptor } from './decide-step.js';
export type {
  ActionContext,
  ActionStep,
  BodyTable,
  Decided,
  DeadlineStep,
  Decision,
  DecisionDocumentExpectation,
  DossierRecord,
  Effect,
  Facts,
  JsonSchema,
  MessageContext,
  MessageStep,
  Need,
  Notice,
  Owed,
  Policy,
  PolicyInput,
  Refusal,
  StepCommand,
  StepContext,
  StepOutcome,
  TakenAction,
} from './decider.js';
export type { Actor } from './actor.js';
export {
  LEGAL_DEADLINES,
  decisionDeadline,
  overrunDue,
  overrunStep,
  recordOverrun,
  reportOverrun,
} from './deadlines.js';
export type { LegalDeadlineId, OverrunReported, OverrunTracked, OverrunsReported } from './deadlines.js';
export { collectDocument, decisionDocument, documentNumber, pendingDocuments } from './documents.js';
export type { DecisionDocument, DecisionDocumentFacts } from './documents.js';
export { DossierStore } from './dossier-store.js';
export type {
  DossierStoreOptions,
  JournalEntry,
  KvLike,
  PendingMessage,
  PendingSender,
  RecordCipher,
  ScannedDossier,
  StepResult,
  StoredDossier,
} from './dossier-store.js';
export type {
  Applicant,
  ApplicationSubmitted,
  ArrivalRegistered,
  CompletenessRuled,
  DocumentKind,
  DocumentRef,
  DocumentsAdded,
  DossierDocuments,
  FeePaymentRequested,
  FeeProofSubmitted,
  MissingItem,
  MobilityObjectionReason,
  PermitIssued,
  PermitKind,
  PermitRenewed,
  ProvisionalDocumentExtended,
  RenewalPendingAttested,
  ResidenceCheckReason,
  ResidenceChecked,
  ResidenceDecided,
  ResidenceGranted,
  ResidenceRefusalReason,
  ShortTermMobilityDecided,
  StayEndReason,
  StayEnded,
  VisaIssued,
  InformationRequested,
  WorkAuthorisationDecided,
  WorkRefusalReason,
} from './messages.js';
export {
  arrivalReportDeadline,
  assertWithinLimits,
  capPeriod,
  extendProvisionalDocument,
  familyMemberDecisionDeadline,
  isArrivalReportInTime,
  provisionalDocumentValidity,
  renewalPendingValidity,
  visaValidity,
} from './periods.js';
export type {
  IctRole,
  Period,
  PeriodLimits,
  ProvisionalDocumentState,
  ProvisionalPurpose,
} from './periods.js';
export { isAdultOn } from './age.js';
export { requestInformationStep } from './information-request.js';
export type { InformationRequestInput, InformationRequestedEvent } from './information-request.js';
export { firstMemberStatePermitValid, insuranceCovers, passportValidFor } from './validity.js';
export { ProcedureError } from './procedure-error.js';
export { attempt, isRefusal, refuse } from './refusal.js';
export { definitionRef, messageSchemaRef } from './schema-refs.js';
export { choiceInput } from './choice-input.js';
export type { InputAlternative } from './choice-input.js';
export type { ProcedureErrorCode } from './procedure-error.js';
export { competentRegion } from './region.js';
export type { RegionId } from './region.js';
export type { Body, CommunePhase, OfficePhase, PostPhase, RegionPhase } from './state-machine.js';
