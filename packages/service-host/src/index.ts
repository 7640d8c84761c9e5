export { StateCipher, documentSecret, pseudonymKey } from './at-rest.js';
export { loadHostedConfig, readServiceSettings } from './config.js';
export type { ServiceSettings } from './config.js';
export { ServiceHost, assertHostedConfig, openBucket } from './host.js';
export { metricsPortSetting, parseMetricsPort, runServiceMain, textSetting } from './main.js';
export type { RunnableService } from './main.js';
export type { HostedHandlers, HostedServiceConfig } from './host.js';
export type { ServiceEvent, ServiceEventListener } from './service-event.js';
