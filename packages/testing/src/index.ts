export { MIN_NATS_SERVER_VERSION, PINNED_NATS_SERVER_VERSION, findNatsServerBinary } from './binary.js';
export { startNatsServer } from './server.js';
export type { NatsServer, NatsServerOptions } from './server.js';
export { freeLoopbackPort, startNatsCluster, waitForClusterReady, waitForJetStream } from './cluster.js';
export type { NatsCluster, NatsClusterOptions } from './cluster.js';
export { startTestServer } from './harness.js';
export type { TestNatsServer } from './harness.js';
