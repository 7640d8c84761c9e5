// What every package that talks to NATS shares: one bucket helper, one way to put a stream, one failure classification on the
// client's typed errors, one retry loop and one backoff policy.
export { backoffDelay } from './backoff.js';
export type { Backoff } from './backoff.js';
export { openBucket } from './bucket.js';
export type { BucketOptions } from './bucket.js';
export { classifyNatsFailure } from './nats-failure.js';
export type { NatsFailure } from './nats-failure.js';
export { putStream } from './stream.js';
export { RetriesEnded, retrying } from './retry.js';
export type { RetryEnd, RetryOptions } from './retry.js';
