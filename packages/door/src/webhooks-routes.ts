import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import { CursorCodec, collectionPage, collectionSchema, pageQuerySchema } from './collection.js';
import { pathParams, scopedRoutes } from './route-options.js';
import { createdWithSecret, withSecretSchema } from './secret-answer.js';
import { SUBSCRIPTION_ID_PATTERN } from './webhook-subscriptions.js';
import type { WebhookDispatcher } from './webhook-dispatcher.js';
import type { DeliveryLog } from './webhook-delivery-log.js';
import type { SubscriptionStore } from './webhook-subscriptions.js';

/** Options of {@link webhooksRoutes}. */
export interface WebhooksRoutesOptions {
  dispatcher: WebhookDispatcher;
  subscriptions: SubscriptionStore;
  deliveries: DeliveryLog;
  cursors: CursorCodec;
  publicUrl: string;
}

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

const subscriptionSchema = {
  type: 'object',
  required: ['id', 'url', 'types', 'createdAt'],
  properties: {
    id: { type: 'string' },
    url: { type: 'string', format: 'uri' },
    types: { type: 'array', items: { type: 'string' }, description: 'Event types delivered; empty for all.' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const attemptSchema = {
  type: 'object',
  required: ['eventId', 'position', 'type', 'subject', 'attempt', 'at', 'outcome', 'durationMs'],
  properties: {
    eventId: { type: 'string' },
    position: { type: 'integer' },
    type: { type: 'string' },
    subject: { type: 'string' },
    attempt: { type: 'integer', minimum: 1 },
    at: { type: 'string', format: 'date-time' },
    status: { type: 'integer' },
    error: { type: 'string' },
    durationMs: { type: 'integer' },
    outcome: { type: 'string', enum: ['delivered', 'retrying', 'dead', 'failed'] },
    nextAttemptAt: { type: 'string', format: 'date-time' },
    replay: { type: 'boolean' },
  },
} as const;

const deadLetterSchema = {
  type: 'object',
  required: ['eventId', 'position', 'type', 'subject', 'attempts', 'at'],
  properties: {
    eventId: { type: 'string' },
    position: { type: 'integer' },
    type: { type: 'string' },
    subject: { type: 'string' },
    attempts: { type: 'integer' },
    lastStatus: { type: 'integer' },
    lastError: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
  },
} as const;

const subscriptionParams = pathParams('subscriptionId', SUBSCRIPTION_ID_PATTERN);

const read = scopedRoutes('read', 'webhooks');

/** The subscriptions themselves (create, list, read, delete), each client seeing only its own. */
function subscriptionRoutes(app: FastifyInstance, options: WebhooksRoutesOptions): void {
  const { dispatcher, subscriptions, cursors, publicUrl } = options;

  app.post(
    '/webhooks',
    read('Subscribe a URL to events (Standard Webhooks signatures)', {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', minLength: 1, maxLength: 2048 },
          types: {
            type: 'array',
            maxItems: 100,
            uniqueItems: true,
            items: { type: 'string', minLength: 1, maxLength: 255 },
          },
        },
      },
      response: {
        201: withSecretSchema(
          subscriptionSchema,
          'The subscription, and its signing secret (`whsec_…`): shown this once.',
        ),
      },
    }),
    async (request, reply) => {
      const body = request.body as { url: string; types?: string[] };
      const { subscription, secret } = await dispatcher.subscribe(
        request.client.id,
        body.url,
        body.types ?? [],
      );
      request.log.info({ subscription: subscription.id, owner: subscription.owner }, 'webhook subscribed');
      return createdWithSecret(reply, `/webhooks/${subscription.id}`, subscription, secret);
    },
  );

  app.get(
    '/webhooks',
    read("This client's webhook subscriptions", { response: { 200: collectionSchema(subscriptionSchema) } }),
    async (request) => {
      const items = await subscriptions.list(request.client.id);
      return collectionPage(request, { publicUrl, cursors, items, pageSize: Math.max(1, items.length) });
    },
  );

  app.get(
    '/webhooks/:subscriptionId',
    read('A webhook subscription', { params: subscriptionParams, response: { 200: subscriptionSchema } }),
    async (request) => {
      const { subscriptionId } = request.params as { subscriptionId: string };
      return subscriptions.getOwned(subscriptionId, request.client.id);
    },
  );

  app.delete(
    '/webhooks/:subscriptionId',
    read('Delete a webhook subscription', {
      params: subscriptionParams,
      response: { 204: { type: 'null', description: 'Deleted.' } },
    }),
    async (request, reply) => {
      const { subscriptionId } = request.params as { subscriptionId: string };
      await dispatcher.unsubscribe(request.client.id, subscriptionId);
      return reply.code(204).send();
    },
  );
}

/** The delivery log and the dead letters of a subscription, read page by page like every collection. */
function deliveryLogRoutes(app: FastifyInstance, options: WebhooksRoutesOptions): void {
  const { subscriptions, deliveries, cursors, publicUrl } = options;
  const paged = (what: 'deliveries' | 'deadLetters', item: object, summary: string) =>
    app.get(
      `/webhooks/:subscriptionId/${what}`,
      read(summary, {
        params: subscriptionParams,
        querystring: pageQuerySchema(),
        response: { 200: collectionSchema(item) },
      }),
      async (request) => {
        const { subscriptionId } = request.params as { subscriptionId: string };
        const query = request.query as { pageSize: number; cursor?: string };
        await subscriptions.getOwned(subscriptionId, request.client.id);
        const after = query.cursor
          ? cursors.decode<number>(CursorCodec.collectionOf(request), query.cursor)
          : 0;
        const read =
          what === 'deliveries'
            ? deliveries.attempts.bind(deliveries)
            : deliveries.deadLetters.bind(deliveries);
        // one more than the page: whether there is a next page is known without another round trip
        const found = await read(subscriptionId, typeof after === 'number' ? after : 0, query.pageSize + 1);
        const page = found.slice(0, query.pageSize);
        const items = page.map(({ entry }) => {
          const { subscriptionId: _s, ...rest } = entry as { subscriptionId: string };
          return rest;
        });
        return collectionPage(request, {
          publicUrl,
          cursors,
          items,
          pageSize: query.pageSize,
          ...(found.length > page.length ? { nextPosition: page[page.length - 1]?.logPosition } : {}),
        });
      },
    );
  paged('deliveries', attemptSchema, "The subscription's delivery attempts, oldest first");
  paged(
    'deadLetters',
    deadLetterSchema,
    "The subscription's dead letters: deliveries whose attempts were spent",
  );
}

/** Replays: one delivery again, or everything after an event or since a time. */
function replayRoutes(app: FastifyInstance, options: WebhooksRoutesOptions): void {
  const { dispatcher } = options;
  app.post(
    '/webhooks/:subscriptionId/deliveries/:eventId/replay',
    read('Send one delivery again, now, once', {
      params: {
        type: 'object',
        required: ['subscriptionId', 'eventId'],
        properties: { ...subscriptionParams.properties, eventId: { type: 'string', pattern: UUID } },
      },
      response: { 200: attemptSchema },
    }),
    async (request) => {
      const { subscriptionId, eventId } = request.params as { subscriptionId: string; eventId: string };
      const attempt = await dispatcher.replayOne(request.client.id, subscriptionId, eventId);
      const { subscriptionId: _s, ...rest } = attempt;
      return rest;
    },
  );

  app.post(
    '/webhooks/:subscriptionId/replays',
    read('Send again every event after a delivered one, or since a time', {
      params: subscriptionParams,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          afterEventId: { type: 'string', pattern: UUID },
          since: { type: 'string', format: 'date-time' },
        },
        oneOf: [{ required: ['afterEventId'] }, { required: ['since'] }],
      },
      response: {
        202: {
          description: 'The replay started; its attempts appear in the delivery log.',
          type: 'object',
          required: ['fromPosition', 'toPosition'],
          properties: { fromPosition: { type: 'integer' }, toPosition: { type: 'integer' } },
        },
      },
    }),
    async (request, reply) => {
      const { subscriptionId } = request.params as { subscriptionId: string };
      const body = request.body as { afterEventId?: string; since?: string };
      const range = await dispatcher.replaySince(
        request.client.id,
        subscriptionId,
        body.afterEventId ? { afterEventId: body.afterEventId } : { since: new Date(body.since ?? 0) },
      );
      return reply.code(202).send(range);
    },
  );
}

/**
 * Webhook subscriptions of `read` clients, each client seeing only its own: `POST /webhooks` (the signing
 * secret is in this answer only), `GET /webhooks`, `GET` and `DELETE /webhooks/{subscriptionId}`, the
 * delivery log `GET …/deliveries`, the dead letters `GET …/deadLetters`, a replay of one delivery
 * `POST …/deliveries/{eventId}/replay`, and of everything after an event or since a time `POST …/replays`.
 *
 * @example
 * ```ts
 * await app.register(webhooksRoutes, { dispatcher, subscriptions, deliveries, cursors, publicUrl });
 * ```
 */
export const webhooksRoutes: FastifyPluginCallback<WebhooksRoutesOptions> = (app, options, done) => {
  subscriptionRoutes(app, options);
  deliveryLogRoutes(app, options);
  replayRoutes(app, options);
  done();
};
