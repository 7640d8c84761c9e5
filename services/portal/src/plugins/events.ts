import { type Door, type EventReadPolicy, eventStreamRoute, webhooksRoutes } from '@passerelle/door';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

/** Options of {@link eventsPlugin}. */
export interface EventsPluginOptions {
  door: Door;
  /** Which events a client reads: the portal's, those of the dossiers it filed. */
  canRead: EventReadPolicy;
}

const plugin: FastifyPluginAsync<EventsPluginOptions> = async (app, { door, canRead }) => {
  await app.register(webhooksRoutes, {
    dispatcher: door.dispatcher,
    subscriptions: door.subscriptions,
    deliveries: door.deliveries,
    cursors: door.cursors,
    publicUrl: door.options.publicUrl,
  });
  await app.register(eventStreamRoute, {
    log: door.events,
    access: door.access,
    canRead,
    ...(door.options.heartbeatMs !== undefined ? { heartbeatMs: door.options.heartbeatMs } : {}),
  });
  // the deliveries run from the start; the portal stops them when it closes, before its connection
  door.dispatcher.start();
};

/**
 * The status changes of an integrator's dossiers, as CloudEvents from the door's event log (the portal logs
 * one for each ruling, decision or permit an administration sends): delivered to the webhooks the
 * integrator subscribes (`/webhooks`, signed per Standard Webhooks, retried, replayable) and streamed as
 * Server-Sent Events (`GET /events`, resumed with `Last-Event-ID`). Each integrator gets only its own
 * dossiers' events (`canRead`); each event's `subject` is the dossier id and `subjectseq` its counter.
 *
 * @example
 * ```ts
 * await app.register(eventsPlugin, { door, canRead: (client, event) => ownerOf(event.subject) === client.id });
 * ```
 */
export const eventsPlugin = fp(plugin, { fastify: '5.x', name: 'passerelle-portal-events' });
