// The door: mount it on a fastify app.
export { Door, bootstrapDoorClient } from './door.js';
export type { DoorOptions } from './door.js';
export { doorServerOptions } from './server-options.js';
export { DoorError } from './door-error.js';
export { doorResources, provisionDoor } from './door-resources.js';
export type { DoorResources } from './door-resources.js';
export type { DoorErrorCode } from './door-error.js';
export { ensureDoorClient, ensureDoorSecret, readDoorSecret } from './door-files.js';
export type { ClientCredentials } from './door-files.js';

// Problems (RFC 9457, Belgif types).
export {
  BELGIF_ISSUE_TYPES,
  BELGIF_PROBLEM_TYPES,
  PROBLEM_MEDIA_TYPE,
  belgifProblem,
  inputIssue,
  passerelleProblemTitle,
  passerelleProblemType,
} from './problem.js';
export type { BelgifIssueName, BelgifProblemName, InputIssue, InputLocation, Problem } from './problem.js';
export { PROBLEM_MAPPING } from './problem-mapping.js';
export type { ProblemMapping } from './problem-mapping.js';
export { toProblem } from './to-problem.js';
export type { ProblemAnswer, ProblemContext } from './to-problem.js';
export { schemaInvalidBody, validationIssues } from './validation-issues.js';
export type { SchemaErrorLike } from './validation-issues.js';
export { doorFrameworkErrors, problemsPlugin } from './problems-plugin.js';
export type { ProblemMembers, ProblemsPluginOptions } from './problems-plugin.js';

// Access: client credentials, scopes, officers.
export { DOOR_SCOPES, isDoorScope } from './scopes.js';
export type { DoorScope } from './scopes.js';
export { OFFICER_HEADER, OFFICER_ID_PATTERN, parseOfficer } from './officer.js';
export { DoorKeys, randomSecret } from './door-keys.js';
export { CLIENT_ID_PATTERN, ClientStore, clientsBucketName } from './client-store.js';
export type { DoorClientInfo } from './client-store.js';
export { TokenStore, tokensBucketName } from './token-store.js';
export type { IssuedToken, TokenRecord } from './token-store.js';
export { DoorAccess } from './access.js';
export type { DoorClient } from './access.js';
export { accessPlugin } from './access-plugin.js';
export type { AccessPluginOptions } from './access-plugin.js';
export { TOKEN_PATH, tokenRoute } from './token-route.js';
export type { TokenRateLimit, TokenRouteOptions } from './token-route.js';
export { clientsRoutes } from './clients-routes.js';
export type { ClientsRoutesOptions } from './clients-routes.js';

// Idempotency-Key.
export { IdempotencyStore, assertIdempotencyKey, idempotencyBucketName } from './idempotency-store.js';
export type { IdempotentReplay, IdempotentRun, StoredAnswer } from './idempotency-store.js';
export { idempotencyPlugin } from './idempotency-plugin.js';
export type { IdempotencyPluginOptions } from './idempotency-plugin.js';
export { canonicalJson, requestFingerprint } from './fingerprint.js';

// Events: CloudEvents, the log, webhooks, Server-Sent Events.
export {
  SERVICE_PATTERN,
  SOURCE_PATTERN,
  SUBJECT_PATTERN,
  SUBJECT_SEQUENCE_ATTRIBUTE,
  TYPE_SEGMENT_PATTERN,
  buildDoorEvent,
  checkDoorEvent,
} from './cloud-event.js';
export type { DoorEvent, DoorEventInput } from './cloud-event.js';
export { EventLog, eventHeadsBucketName, eventStreamName } from './event-log.js';
export type { EventLogOptions, LoggedEvent } from './event-log.js';
export { EVENTS_PATH, eventStreamRoute } from './event-stream-route.js';
export type { EventStreamRouteOptions } from './event-stream-route.js';
export { sseComment, sseMessage } from './sse.js';
export { checkWebhookUrl, refusedAddress } from './webhook-url.js';
export type { WebhookUrlPolicy } from './webhook-url.js';
export { CLOUDEVENTS_MEDIA_TYPE, sendDelivery, signedDelivery } from './webhook-sender.js';
export type { SendResult } from './webhook-sender.js';
export {
  SUBSCRIPTION_ID_PATTERN,
  SubscriptionStore,
  subscriptionsBucketName,
} from './webhook-subscriptions.js';
export type { SubscriptionChange, WebhookSubscription } from './webhook-subscriptions.js';
export { DeliveryLog, deliveryLogStreamName } from './webhook-delivery-log.js';
export type { DeadLetter, DeliveryAttempt, Positioned } from './webhook-delivery-log.js';
export { WebhookDispatcher, webhookConsumerName } from './webhook-dispatcher.js';
export type { DoorLogger, EventReadPolicy, WebhookOptions } from './webhook-dispatcher.js';
export { webhooksRoutes } from './webhooks-routes.js';
export type { WebhooksRoutesOptions } from './webhooks-routes.js';

// OpenAPI and collections.
export { OPENAPI_PATH, PROBLEM_SCHEMA, registerDoorOpenApi } from './openapi.js';
export type { DoorOpenApiOptions } from './openapi.js';
export { CursorCodec, collectionPage, collectionSchema, pageQuerySchema } from './collection.js';
export type { CollectionPage } from './collection.js';
