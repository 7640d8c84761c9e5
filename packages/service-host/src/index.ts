export { RECORD_PURPOSES, StateCipher, documentSecret, pseudonymKeys } from './at-rest.js';
export type { RecordStore, StateCipherOptions } from './at-rest.js';
export { resealRecords } from './reseal.js';
export type { ResealReport } from './reseal.js';
export { loadHostedConfig, logDirectoryRejections, readServiceSettings } from './config.js';
export type { ServiceSettings } from './config.js';
export { ServiceHost, assertHostedConfig, openBucket } from './host.js';
export { policySetting, runServiceMain } from './main.js';
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
export type { ActOptions, BodyService, DeadlineRun, ServiceAction, WorkItem } from './body-service.js';
export type { ServiceEvent, ServiceEventListener } from './service-event.js';
