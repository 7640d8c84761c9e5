export { RECORD_PURPOSES, StateCipher, documentSecret, pseudonymKeys } from './at-rest.js';
export type { RecordStore, StateCipherOptions } from './at-rest.js';
export { resealRecords } from './reseal.js';
export type { ResealReport } from './reseal.js';
export { loadHostedConfig, logDirectoryRejections, readServiceSettings } from './config.js';
export type { ServiceSettings } from './config.js';
export { ServiceHost, assertHostedConfig, openBucket } from './host.js';
export { policySetting, runServiceMain } from './main.js';
export { runMain, stopProcessOn } from './process-stop.js';
export type { ProcessStopOptions } from './process-stop.js';
export {
  NATS_URL_SETTING,
  POLICY_SETTING,
  SERVICE_HOST_SETTINGS_SCHEMA,
  serviceSettingsSchema,
} from './settings-schema.js';
export type { RunnableService } from './main.js';
export type { EffectRunner, HostedServiceConfig, Lookup, ServiceHostOptions } from './host.js';
export { compileInputValidators, resolveInputSchema } from './action-inputs.js';
export type { InputValidator } from './action-inputs.js';
export { compileTableInputs } from './table-inputs.js';
export type { TableInputs } from './table-inputs.js';
export type {
  ActOptions,
  BodyService,
  DeadlineRun,
  DecidedStep,
  DossierView,
  ServiceAction,
  StepListener,
  WorkItem,
} from './body-service.js';
export type { ServiceEvent, ServiceEventListener } from './service-event.js';
export {
  backOfficeDoor,
  backOfficeDoorName,
  backOfficeEventService,
  createBackOffice,
} from './back-office/back-office.js';
export type { BackOfficeContext, BackOfficeOptions } from './back-office/back-office.js';
export { actionSegment } from './back-office/action-path.js';
export { backOfficeSetting, isBodyService, serveBackOffice } from './back-office/back-office-setting.js';
export type { BackOfficeSetting } from './back-office/back-office-setting.js';
export { CREDENTIALS_WARNING_DAYS, watchCredentialExpiry } from './credential-expiry.js';
