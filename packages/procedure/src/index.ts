export {
  belgianPublicHolidays,
  addWorkingDays,
  easterSunday,
  isPublicHoliday,
  isWorkingDay,
  workingDaysBetween,
} from './calendar.js';
export type { PublicHoliday } from './calendar.js';
export {
  addDays,
  addMonths,
  addYears,
  dayNumber,
  daysBetween,
  fromDayNumber,
  minDate,
  toIsoDate,
} from './dates.js';
export type { IsoDate } from './dates.js';
export {
  availableActions,
  decideStep,
  describeActions,
  fold,
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
export { collectDocument, decisionDocument, documentNumber, pendingDocuments } from './documents.js';
export type { DecisionDocument, DecisionDocumentFacts } from './documents.js';
export { DossierStore, JOURNAL_KEPT } from './dossier-store.js';
export type {
  DossierStoreOptions,
  JournalEntry,
  KvLike,
  PendingMessage,
  PendingSender,
  RecordCipher,
  StepResult,
  StoredDossier,
} from './dossier-store.js';
export type {
  Applicant,
  ApplicationSubmitted,
  ArrivalRegistered,
  Category,
  CompletenessRuled,
  DocumentKind,
  DocumentRef,
  DocumentsAdded,
  DossierDocuments,
  FeePaymentRequested,
  FeeProofSubmitted,
  MissingItem,
  MobilityObjectionReason,
  Money,
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
  ResidenceRouting,
  ShortTermMobilityDecided,
  StayEndReason,
  StayEnded,
  VisaIssued,
  InformationRequested,
  WorkAuthorisationDecided,
  WorkRefusalReason,
} from './messages.js';
export {
  ARRIVAL_REPORT_WORKING_DAYS,
  FAMILY_MEMBER_DECISION_DAYS,
  ICT_MAXIMUM_YEARS,
  PROVISIONAL_DOCUMENT_DAYS,
  RENEWAL_PENDING_DAYS,
  RENEWAL_PENDING_MAX_EXTENSIONS,
  arrivalReportDeadline,
  assertPeriod,
  assertWithinLimits,
  capPeriod,
  extendProvisionalDocument,
  familyMemberDecisionDeadline,
  ictDaysUsed,
  ictMaximumEnd,
  ictStayEnd,
  periodDays,
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
export { CRIMINAL_RECORD_AGE, isAdultOn } from './age.js';
export {
  REQUEST_INFORMATION_INPUT,
  REQUEST_INFORMATION_TITLE,
  informationRequest,
  requestInformationStep,
} from './information-request.js';
export type { InformationRequestInput, InformationRequestedEvent } from './information-request.js';
export {
  PASSPORT_MARGIN_MONTHS,
  firstMemberStatePermitValid,
  insuranceCovers,
  passportValidFor,
} from './validity.js';
export { ProcedureError } from './procedure-error.js';
export { attempt, isRefusal, refuse } from './refusal.js';
export { SCHEMAS_BASE, definitionRef, messageSchemaRef } from './schema-refs.js';
export type { ProcedureErrorCode } from './procedure-error.js';
export { BRUSSELS_COMMUNES, GERMAN_SPEAKING_COMMUNES, competentRegion, nisCode } from './region.js';
export type { RegionId } from './region.js';
export {
  COMMUNE_MACHINE,
  DOSSIER_MACHINES,
  OFFICE_MACHINE,
  POST_MACHINE,
  REGION_MACHINE,
  assertStep,
  phasesAccepting,
  stepRefusal,
} from './state-machine.js';
export type {
  Body,
  CommunePhase,
  DossierMachine,
  OfficePhase,
  PostPhase,
  RegionPhase,
} from './state-machine.js';
