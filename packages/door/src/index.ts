// The door: mount it on a fastify app.
export { Door } from './door.js';
export type { DoorOptions } from './door.js';
export { doorServerOptions } from './server-options.js';
export { DoorError } from './door-error.js';
export { provisionDoor } from './door-resources.js';
export type { DoorErrorCode } from './door-error.js';
export { ensureDoorClient, ensureDoorSecret, readDoorSecret } from './door-files.js';
export type { ClientCredentials } from './door-files.js';

// Problems (RFC 9457, Belgif types).
export type { InputIssue, InputLocation, Problem } from './problem.js';
export { schemaInvalidBody, validationIssues } from './validation-issues.js';
export { bodyValidatorCompiler } from './body-validator.js';
export type { SchemaErrorLike } from './validation-issues.js';
export { problemsPlugin } from './problems-plugin.js';
export type { ProblemMembers } from './problems-plugin.js';

// Access: client credentials, scopes, officers.
export { DOOR_SCOPES } from './scopes.js';
export type { DoorScope } from './scopes.js';
export { DoorKeys } from './door-keys.js';
export { ClientStore } from './client-store.js';
export type { DoorClientInfo } from './client-store.js';
export { TokenStore } from './token-store.js';
export type { IssuedToken, TokenRecord } from './token-store.js';
export { DoorAccess } from './access.js';
export type { DoorClient } from './access.js';
export { accessPlugin } from './access-plugin.js';
export { tokenRoute } from './token-route.js';
export type { TokenRateLimit, TokenRouteOptions } from './token-route.js';
export { clientsRoutes } from './clients-routes.js';
export type { ClientsRoutesOptions } from './clients-routes.js';

// Idempotency-Key.
export { assertIdempotencyKey } from './idempotency-store.js';
export type { StoredAnswer } from './idempotency-store.js';
export { idempotencyPlugin } from './idempotency-plugin.js';
export { requestFingerprint } from './fingerprint.js';

// Events: CloudEvents, the log, webhooks, Server-Sent Events.
export type { DoorEvent, DoorEventInput } from './cloud-event.js';
export { EventLog } from './event-log.js';
export type { EventLogOptions, LoggedEvent } from './event-log.js';
export { eventStreamRoute } from './event-stream-route.js';
export type { EventStreamRouteOptions } from './event-stream-route.js';
export type { WebhookUrlPolicy } from './webhook-url.js';
export { SubscriptionStore } from './webhook-subscriptions.js';
export type { SubscriptionChange, WebhookSubscription } from './webhook-subscriptions.js';
export { DeliveryLog } from './webhook-delivery-log.js';
export type { DeadLetter, DeliveryAttempt, Positioned } from './webhook-delivery-log.js';
export { WebhookDispatcher } from './webhook-dispatcher.js';
export type { DoorLogger, EventReadPolicy, WebhookOptions } from './webhook-dispatcher.js';
export { webhooksRoutes } from './webhooks-routes.js';
export type { WebhooksRoutesOptions } from './webhooks-routes.js';

// OpenAPI and collections.
export { registerDoorOpenApi } from './openapi.js';
export type { DoorOpenApiOptions } from './openapi.js';
export { CursorCodec, collectionPage, collectionSchema, pageQuerySchema } from './collection.js';
export type { CollectionPage } from './collection.js';
