export type {
  Agreement,
  MessageChannel,
  MessageContract,
  RecipientCondition,
  RecipientRule,
} from './agreement.js';
export { renderAsyncApi } from './asyncapi.js';
export { bundleSchemas } from './bundle.js';
export type { BundleOptions, SchemaBundle } from './bundle.js';
export type { Contracts, LoadedDefinitions, LoadedSchema } from './contracts.js';
export { type SchemaIssue, describeSchemaIssues } from './schema-issues.js';
export { sharedSchemas, withSharedRefs } from './shared-schemas.js';
export type { DossierContext, DossierScheme } from './dossier-context.js';
export type {
  Applicant,
  ApplicationSubmitted,
  ArrivalRegistered,
  Category,
  CompletenessRuled,
  DocumentRef,
  DocumentsAdded,
  DossierDocuments,
  FeePaymentRequested,
  FeeProofSubmitted,
  DeadlineOverrun,
  InformationRequested,
  Money,
  PermitIssued,
  PermitRenewed,
  ProvisionalDocumentExtended,
  RenewalPendingAttested,
  ResidenceChecked,
  ResidenceDecided,
  ResidenceGranted,
  ShortTermMobilityDecided,
  StayEnded,
  VisaIssued,
  WorkAuthorisationDecided,
} from './generated/payloads.js';
export { loadContracts } from './load-contracts.js';
export type { LoadContractsOptions } from './load-contracts.js';
export type { MessageTypeInfo } from './message-type-info.js';
export { exampleFolder, readExample } from './examples.js';
export { payloadRetentionMs } from './retention.js';
export { createSchemaCompiler } from './schema-compiler.js';
export { AUDITOR_CONSUMER, natsPermissionsFor, natsPermissionsTemplate } from './permissions.js';
export type { NatsPermissions } from './permissions.js';
export { valueAt } from './pointer.js';
