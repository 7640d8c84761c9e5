// What tests and the project's own packages use beside the public API (index.ts): stable enough to share
// inside the repository, not promised to door's users.
export { bootstrapDoorClient } from './door.js';
export { doorResources } from './door-resources.js';
export { BELGIF_PROBLEM_TYPES } from './problem.js';
export { PROBLEM_MAPPING } from './problem-mapping.js';
export { toProblem } from './to-problem.js';
export { OFFICER_ID_PATTERN, parseOfficer } from './officer.js';
export { IdempotencyStore } from './idempotency-store.js';
export { SUBJECT_SEQUENCE_ATTRIBUTE, buildDoorEvent, checkDoorEvent } from './cloud-event.js';
export { checkWebhookUrl, refusedAddress } from './webhook-url.js';
export { webhookConsumerName } from './webhook-dispatcher.js';
