export { RECORD_PURPOSES, StateCipher } from './at-rest.js';
export type { RecordStore, StateCipherOptions } from './at-rest.js';
export { DossierRecordCipher } from './dossier-record-cipher.js';
export type { DossierRecordCipherOptions } from './dossier-record-cipher.js';
export { resealRecords } from './reseal.js';
export type { ResealReport } from './reseal.js';
export { logDirectoryRejections } from './config.js';
export type { ServiceSettings } from './config.js';
export { ServiceHost, openBucket } from './host.js';
export { policySetting, runServiceMain } from './main.js';
export { POLICY_SETTING, serviceSettingsSchema } from './settings-schema.js';
export type { RunnableService } from './main.js';
export type { EffectRunner, HostedServiceConfig, Lookup, ServiceHostOptions } from './host.js';
export { runMain, stopProcessOn } from './process-stop.js';
export type { ProcessStopOptions } from './process-stop.js';
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
export { backOfficeDoor, createBackOffice } from './back-office/back-office.js';
export type { BackOfficeContext, BackOfficeOptions } from './back-office/back-office.js';
export { DEFAULT_SCAN_INTERVAL_MS, scheduleDeadlineScans } from './deadline-scans.js';
export type { DeadlineScanned, DeadlineScans } from './deadline-scans.js';
