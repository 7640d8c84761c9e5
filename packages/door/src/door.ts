import type { FastifyInstance } from 'fastify';
import type { NatsConnection } from '@nats-io/transport-node';
import { DoorAccess } from './access.js';
import { accessPlugin } from './access-plugin.js';
import { ClientStore, type DoorClientInfo } from './client-store.js';
import { SOURCE_PATTERN, SERVICE_PATTERN } from './cloud-event.js';
import { clientsRoutes } from './clients-routes.js';
import { CursorCodec } from './collection.js';
import { DoorError } from './door-error.js';
import { DoorKeys } from './door-keys.js';
import { EventLog, type LoggedEvent } from './event-log.js';
import type { DoorEventInput } from './cloud-event.js';
import { eventStreamRoute } from './event-stream-route.js';
import { idempotencyPlugin } from './idempotency-plugin.js';
import { IdempotencyStore } from './idempotency-store.js';
import { registerDoorOpenApi } from './openapi.js';
import { type ProblemMembers, problemsPlugin } from './problems-plugin.js';
import type { DoorScope } from './scopes.js';
import { type TokenRateLimit, tokenRoute } from './token-route.js';
import { TokenStore } from './token-store.js';
import { DeliveryLog } from './webhook-delivery-log.js';
import {
  type DoorLogger,
  type EventReadPolicy,
  WebhookDispatcher,
  type WebhookOptions,
} from './webhook-dispatcher.js';
import { SubscriptionStore } from './webhook-subscriptions.js';
import { webhooksRoutes } from './webhooks-routes.js';

/** Settings of a door. */
export interface DoorOptions {
  /** The door's name: its NATS resources' names and the realm of its challenges (`region-bruxelles`). */
  name: string;
  /** The connection its stores, log and consumers use. */
  nc: NatsConnection;
  /** At least 32 random bytes, kept outside NATS: every key of the door derives from it ({@link DoorKeys}). */
  secret: Uint8Array;
  /** The door's public base URL (links, the OpenAPI server, the token URL): never taken from requests. */
  publicUrl: string;
  /** CloudEvents `service`: `<reverse-DNS name>.v<major>` (`be.passerelle.regionalAuthority.v1`). */
  service: string;
  /** CloudEvents `source` (default `urn:passerelle:door:<name>`). */
  source?: string;
  /** The OpenAPI document's title and version. */
  api: { title: string; version: string; description?: string };
  /** Extension members the service adds to the problem of a failed request (default: none). */
  problemMembers?: ProblemMembers;
  /** Which events a client may read (default: a `read` client reads them all). */
  canRead?: EventReadPolicy;
  /** Access tokens' lifetime (default 10 minutes). */
  tokenLifetimeMs?: number;
  /** Token requests per client address (default 30 a minute). */
  tokenRateLimit?: TokenRateLimit;
  /** How long `Idempotency-Key` answers are kept (default 24 h). */
  idempotencyTtlMs?: number;
  /** How long events are kept (default: for ever). */
  eventMaxAgeMs?: number;
  /** How long webhook attempts and dead letters are kept (default 30 days). */
  deliveryLogMaxAgeMs?: number;
  webhooks?: WebhookOptions;
  /** Time between heartbeats of the event stream (default 15 s). */
  heartbeatMs?: number;
  /** Replicas of the door's streams and buckets (default 1; 3 in a cluster). */
  replicas?: number;
  /** `false`: the streams and buckets were provisioned by an operator; the door only opens them. */
  create?: boolean;
  /** The dispatcher's log lines (default: none). */
  logger?: DoorLogger;
  /** The door's clock (tests of expiry). */
  now?: () => Date;
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const silent: DoorLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function invalid(setting: string, why: string): DoorError {
  return new DoorError('ERR_CONFIG_INVALID', `door setting ${setting} ${why}`, { details: { setting } });
}

/**
 * An administration's HTTP door, generic: what every back office and the portal mount to speak the Belgif
 * REST guide's conventions. {@link Door.open} opens its stores on NATS; {@link Door.register} adds to a
 * fastify app the problems, access by client credentials (`POST /oauth2/token`, clients under
 * `/clients`), `Idempotency-Key`, the OpenAPI document (`/openapi.json`), webhooks (`/webhooks`) and the
 * event stream (`/events`); {@link Door.append} logs an event, delivered to both.
 */
export class Door {
  private constructor(
    readonly options: DoorOptions,
    readonly clients: ClientStore,
    readonly access: DoorAccess,
    readonly idempotency: IdempotencyStore,
    readonly events: EventLog,
    readonly subscriptions: SubscriptionStore,
    readonly deliveries: DeliveryLog,
    readonly dispatcher: WebhookDispatcher,
    readonly cursors: CursorCodec,
  ) {}

  /**
   * Checks the settings and opens (or creates) the door's streams and buckets.
   *
   * @example
   * ```ts
   * const door = await Door.open({
   *   name: 'region-bruxelles', nc, secret, publicUrl: 'https://door.region.example.be',
   *   service: 'be.passerelle.regionalAuthority.v1', api: { title: 'Regional authority', version: '1.0.0' },
   * });
   * ```
   */
  static async open(options: DoorOptions): Promise<Door> {
    if (!SERVICE_PATTERN.test(options.service))
      throw invalid('service', 'must be <reverse-DNS name>.v<major>');
    const source = options.source ?? `urn:passerelle:door:${options.name}`;
    if (!SOURCE_PATTERN.test(source)) throw invalid('source', 'must be a URN');
    let url: URL;
    try {
      url = new URL(options.publicUrl);
    } catch {
      throw invalid('publicUrl', 'must be an absolute http(s) URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('publicUrl', 'must be http(s)');
    if (!NAME.test(options.name))
      throw invalid('name', 'must be 1 to 63 lower-case letters, digits and hyphens');
    const keys = DoorKeys.fromSecret(options.secret);
    const common = {
      ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
      ...(options.create !== undefined ? { create: options.create } : {}),
      ...(options.now ? { now: options.now } : {}),
    };
    const { nc, name } = options;
    const clients = await ClientStore.open(nc, name, keys, common);
    const tokens = await TokenStore.open(nc, name, keys, {
      ...common,
      ...(options.tokenLifetimeMs !== undefined ? { lifetimeMs: options.tokenLifetimeMs } : {}),
    });
    const idempotency = await IdempotencyStore.open(nc, name, keys, {
      ...common,
      ...(options.idempotencyTtlMs !== undefined ? { ttlMs: options.idempotencyTtlMs } : {}),
    });
    const events = await EventLog.open(nc, {
      ...common,
      door: name,
      service: options.service,
      source,
      ...(options.eventMaxAgeMs !== undefined ? { maxAgeMs: options.eventMaxAgeMs } : {}),
    });
    const subscriptions = await SubscriptionStore.open(nc, name, keys, common);
    const deliveries = await DeliveryLog.open(nc, name, {
      ...common,
      ...(options.deliveryLogMaxAgeMs !== undefined ? { maxAgeMs: options.deliveryLogMaxAgeMs } : {}),
    });
    const dispatcher = await WebhookDispatcher.create(
      {
        log: events,
        subscriptions,
        deliveries,
        clients,
        canRead: options.canRead ?? (() => true),
        logger: options.logger ?? silent,
        ...(options.now ? { now: options.now } : {}),
      },
      options.webhooks,
    );
    return new Door(
      options,
      clients,
      new DoorAccess(clients, tokens),
      idempotency,
      events,
      subscriptions,
      deliveries,
      dispatcher,
      new CursorCodec(keys),
    );
  }

  /**
   * Adds the door to an app, before the service's own routes (which then say their `scope`, `officer`
   * and `idempotent` in their config), and starts delivering webhooks.
   *
   * @example
   * ```ts
   * const app = fastify({ ...doorServerOptions(), logger });
   * await door.register(app);
   * app.post('/dossiers/:dossierId/decisions', { config: { scope: 'decide', officer: true, idempotent: true } }, handler);
   * ```
   */
  async register(app: FastifyInstance): Promise<void> {
    const { options } = this;
    await app.register(problemsPlugin, {
      realm: options.name,
      ...(options.problemMembers ? { members: options.problemMembers } : {}),
    });
    await app.register(accessPlugin, { access: this.access });
    await app.register(idempotencyPlugin, { store: this.idempotency });
    await registerDoorOpenApi(app, { ...options.api, publicUrl: options.publicUrl });
    await app.register(tokenRoute, {
      access: this.access,
      ...(options.tokenRateLimit ? { rateLimit: options.tokenRateLimit } : {}),
    });
    await app.register(clientsRoutes, {
      clients: this.clients,
      cursors: this.cursors,
      publicUrl: options.publicUrl,
    });
    await app.register(webhooksRoutes, {
      dispatcher: this.dispatcher,
      subscriptions: this.subscriptions,
      deliveries: this.deliveries,
      cursors: this.cursors,
      publicUrl: options.publicUrl,
    });
    await app.register(eventStreamRoute, {
      log: this.events,
      access: this.access,
      canRead: options.canRead ?? (() => true),
      ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
    });
    this.dispatcher.start();
    app.addHook('onClose', async () => this.dispatcher.stop());
  }

  /**
   * Logs an event: it goes to the webhook subscriptions and the event streams of the clients that may
   * read it.
   *
   * @example
   * ```ts
   * await door.append({ resourceType: 'dossiers', happened: 'decided', subject: dossierId, id: eventId, data });
   * ```
   */
  append(input: DoorEventInput): Promise<LoggedEvent> {
    return this.events.append(input);
  }

  /** Stops delivering webhooks (the app's `close()` does it too). */
  close(): Promise<void> {
    return this.dispatcher.stop();
  }
}

/**
 * Creates a client of a door outside HTTP: the first `admin` client, from a command line or a set-up
 * script. Returns its secret, the one time it is shown.
 *
 * @example
 * ```ts
 * const { secret } = await bootstrapDoorClient(nc, { door: 'region-bruxelles', secret, id: 'door-admin', scopes: ['admin'] });
 * ```
 */
export async function bootstrapDoorClient(
  nc: NatsConnection,
  options: { door: string; secret: Uint8Array; id: string; scopes: readonly DoorScope[]; replicas?: number },
): Promise<{ client: DoorClientInfo; secret: string }> {
  const clients = await ClientStore.open(nc, options.door, DoorKeys.fromSecret(options.secret), {
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
  });
  return clients.create({ id: options.id, scopes: options.scopes, createdBy: 'bootstrap' });
}
