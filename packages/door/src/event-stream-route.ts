import { once } from 'node:events';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import type { FastifyPluginCallback } from 'fastify';
import type { DoorAccess } from './access.js';
import { SUBJECT_PATTERN, checkDoorEvent } from './cloud-event.js';
import { DoorError } from './door-error.js';
import type { EventLog } from './event-log.js';
import { sseComment, sseMessage } from './sse.js';
import type { EventReadPolicy } from './webhook-dispatcher.js';

/** Options of {@link eventStreamRoute}. */
export interface EventStreamRouteOptions {
  log: EventLog;
  access: DoorAccess;
  canRead: EventReadPolicy;
  /** Time between heartbeats, at which the client's token is checked again too (default 15 s). */
  heartbeatMs?: number;
}

/** The path of the event stream. */
export const EVENTS_PATH = '/events';

function lastEventId(value: string | string[] | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^[0-9]{1,15}$/.test(value)) return Number(value);
  throw new DoorError('ERR_REQUEST_INVALID', 'Last-Event-ID must be the id of one event of this stream.', {
    details: { in: 'header', name: 'Last-Event-ID' },
  });
}

/**
 * `GET /events`: the door's events as Server-Sent Events, for `read` clients: each message is one
 * CloudEvent in structured JSON (the same bytes a webhook carries), its `id:` the event's position in the
 * door's log, so that a client that reconnects with `Last-Event-ID` gets every event after it, once.
 * Without it the stream starts with the next event. `types` and `subject` narrow it; the door's read policy
 * scopes it to what the client may read. A comment every `heartbeatMs` keeps proxies from closing it, and
 * the client's token is checked again then: a revoked client's stream ends.
 *
 * @example
 * ```ts
 * await app.register(eventStreamRoute, { log, access, canRead: () => true });
 * ```
 */
export const eventStreamRoute: FastifyPluginCallback<EventStreamRouteOptions> = (app, options, done) => {
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const js = jetstream(options.log.connection, { timeout: 30_000 });
  app.get(
    EVENTS_PATH,
    {
      config: { scope: 'read' },
      schema: {
        summary: 'The events, as Server-Sent Events (text/event-stream)',
        description:
          'Each message: `id:` the position of the event in the log (send it back as `Last-Event-ID` to resume), `data:` one CloudEvent in structured JSON. Comments are heartbeats.',
        tags: ['events'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            types: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 255 } },
            subject: { type: 'string', pattern: SUBJECT_PATTERN.source },
          },
        },
        headers: {
          type: 'object',
          properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]{1,15}$' } },
        },
        produces: ['text/event-stream'],
      },
    },
    async (request, reply) => {
      const query = request.query as { types?: string[]; subject?: string };
      const after = lastEventId(request.headers['last-event-id']);
      const client = request.client;
      const authorization = request.headers.authorization;
      const start = after !== undefined ? after + 1 : (await options.log.lastPosition()) + 1;
      // an ordered consumer from an explicit position: what is logged from now on is in the stream
      const consumer = await js.consumers.get(options.log.stream, {
        filter_subjects: [options.log.subjectOf(query.subject)],
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: start,
      });
      const messages = await consumer.consume();
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      raw.write(sseComment('stream open'));
      let open = true;
      const close = (): void => {
        if (!open) return;
        open = false;
        clearInterval(heartbeat);
        messages.stop();
        raw.end();
      };
      const heartbeat = setInterval(() => {
        options.access.authenticate(authorization).then(
          () => open && raw.write(sseComment('heartbeat')),
          () => {
            request.log.info({ client: client.id }, 'event stream closed: the token is no longer valid');
            close();
          },
        );
      }, heartbeatMs);
      request.raw.on('close', close);
      try {
        for await (const msg of messages) {
          if (!open) break;
          const event = checkDoorEvent(msg.json());
          if (query.types && query.types.length > 0 && !query.types.includes(event.type)) continue;
          if (!(await options.canRead(client, event))) continue;
          if (!raw.write(sseMessage(String(msg.seq), msg.string()))) {
            await Promise.race([once(raw, 'drain'), once(raw, 'close')]);
          }
        }
      } catch (err) {
        request.log.error(
          { err: { name: (err as Error).name, message: (err as Error).message } },
          'event stream failed',
        );
      } finally {
        close();
      }
    },
  );
  done();
};
