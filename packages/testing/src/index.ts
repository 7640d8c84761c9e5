export { HarnessError } from './errors.js';
export type { HarnessErrorCode } from './errors.js';
export {
  MIN_NATS_SERVER_VERSION,
  PINNED_NATS_SERVER_VERSION,
  assertRecentEnough,
  findNatsServerBinary,
  natsServerBinaryVersion,
  pinnedNatsServerPath,
} from './binary.js';
export { startNatsServer } from './server.js';
export type { NatsServer, NatsServerOptions } from './server.js';
export { freeLoopbackPort, startNatsCluster, waitForClusterReady, waitForJetStream } from './cluster.js';
export type { NatsCluster, NatsClusterOptions } from './cluster.js';
export { NATS_IMAGE, startNatsContainer } from './container.js';
export type { NatsContainerServer } from './container.js';
export { startTestServer } from './harness.js';
export type { TestNatsServer } from './harness.js';
export { startWebhookReceiver } from './webhook-receiver.js';
export type { WebhookDelivery, WebhookReceiver } from './webhook-receiver.js';
export { rawRequest } from './raw-request.js';
export type { RawAnswer } from './raw-request.js';
