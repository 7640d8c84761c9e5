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
export { sharedSchemas, withSharedRefs } from './shared-schemas.js';
export { ContractError } from './contract-error.js';
export type { ContractErrorCode } from './contract-error.js';
export { createContracts } from './contracts.js';
export type { Contracts, ContractsParts, LoadedDefinitions, LoadedSchema, SchemaIssue } from './contracts.js';
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
  InformationRequested,
  Money,
  PayloadByType,
  PermitIssued,
  PermitRenewed,
  ProvisionalDocumentExtended,
  Receipt,
  RenewalPendingAttested,
  ResidenceDecided,
  ResidenceGranted,
  StayEnded,
  VisaIssued,
  WorkAuthorisationDecided,
} from './generated/payloads.js';
export { SCHEMA_FILE_PATTERN, loadContracts } from './load-contracts.js';
export type { LoadContractsOptions } from './load-contracts.js';
export type { MessageTypeInfo } from './message-type-info.js';
export { exampleFolder, readExample } from './examples.js';
export { payloadRetentionMs } from './retention.js';
export { createSchemaCompiler } from './schema-compiler.js';
export { AUDITOR_CONSUMER, SELF, natsPermissionsFor, natsPermissionsTemplate } from './permissions.js';
export type { NatsPermissions } from './permissions.js';
export { compileProjection, parsePointer, pick, pointerCovers, valueAt } from './pointer.js';
