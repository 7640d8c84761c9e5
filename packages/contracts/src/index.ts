export type {
  Agreement,
  MessageChannel,
  MessageContract,
  RecipientCondition,
  RecipientRule,
} from './agreement.js';
export { ContractError } from './contract-error.js';
export type { ContractErrorCode } from './contract-error.js';
export { createContracts } from './contracts.js';
export type { Contracts, ContractsParts, LoadedDefinitions, LoadedSchema, SchemaIssue } from './contracts.js';
export type { DossierContext } from './dossier-context.js';
export { SCHEMA_FILE_PATTERN, loadContracts } from './load-contracts.js';
export type { LoadContractsOptions } from './load-contracts.js';
export type { MessageTypeInfo } from './message-type-info.js';
export { parsePointer, pick, pointerCovers, valueAt } from './pointer.js';
