export { MIN_SERVER_VERSION, assertServerVersion, connectNats, versionAtLeast } from './connection.js';
export { JetStreamApiCodes, StreamNames, Subjects, provisionStreams, streamConfigs } from './streams.js';
export type { StreamLayoutOptions } from './streams.js';
