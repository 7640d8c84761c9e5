import type { Contracts } from '@passerelle/contracts';
import { Door, type DoorOptions, doorServerOptions } from '@passerelle/door';
import type { Logger } from '@passerelle/exchange';
import type { DossierRecord } from '@passerelle/procedure';
import { type FastifyInstance, type FastifyPluginAsync, fastify } from 'fastify';
import type { BodyService } from '../body-service.js';
import { backOfficeRoutes } from './back-office-routes.js';
import { logStepEvents } from './step-events.js';

/** The CloudEvents `service` of each body's back office (`<reverse-DNS name>.v<major>`). */
export function backOfficeEventService(service: string): string {
  return `be.passerelle.${service.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase())}.v1`;
}

/** The door name of a service's back office: its NATS resources and its realm (`backoffice-commune`). */
export function backOfficeDoorName(service: string): string {
  return `backoffice-${service}`;
}

/** What a plugin registered beside the back office (a case officer's web page) is given. */
export interface BackOfficeContext {
  body: BodyService<DossierRecord>;
  door: Door;
  contracts: Contracts;
}

/** Settings of {@link createBackOffice}. */
export interface BackOfficeOptions {
  contracts: Contracts;
  /** At least 32 random bytes kept outside NATS: every key of the door derives from it. */
  secret: Uint8Array;
  /** The door's public base URL (links, the OpenAPI server, the token URL). */
  publicUrl: string;
  logger?: Logger;
  /** Stream and bucket replicas (default 1). */
  replicas?: number;
  /** `false`: the door's streams and buckets were provisioned by an operator. */
  create?: boolean;
  /** Door settings tests shorten (webhook retries, heartbeats, token lifetime). */
  door?: Pick<
    DoorOptions,
    'webhooks' | 'heartbeatMs' | 'tokenLifetimeMs' | 'tokenRateLimit' | 'idempotencyTtlMs'
  >;
  /**
   * Plugins served by the same app after the back office's API (a case officer's web page), each given
   * the body, its door and the contracts. Routes they add say their `scope` or `public`, like the door's.
   */
  plugins?: readonly FastifyPluginAsync<BackOfficeContext>[];
}

/** The door of each back-office app (its clients: `door.clients.create`). */
const doors = new WeakMap<FastifyInstance, Door>();

/** The door of an app {@link createBackOffice} made. */
export function backOfficeDoor(app: FastifyInstance): Door {
  const door = doors.get(app);
  if (!door) throw new Error('backOfficeDoor(): not an app created by createBackOffice');
  return door;
}

/**
 * The back office of a running body service: a fastify app on the door (`@passerelle/door`: problems,
 * client credentials with the scopes read/decide/admin, `Idempotency-Key`, webhooks and the event stream,
 * `/openapi.json`) with the routes of {@link backOfficeRoutes}, generated from the body's table, and each
 * step the body decides logged as a CloudEvent. One piece of code for every body. The app is returned
 * without listening; closing it stops the event logging and the webhook deliveries (not the service).
 *
 * @example
 * ```ts
 * const region = await createRegionalAuthorityService(config);
 * const app = await createBackOffice(region, { contracts, secret, publicUrl: 'https://backoffice.region.example.be' });
 * await app.listen({ host: '127.0.0.1', port: 8101 });
 * ```
 */
export async function createBackOffice<S extends DossierRecord>(
  service: BodyService<S>,
  options: BackOfficeOptions,
): Promise<FastifyInstance> {
  const body = service as unknown as BodyService<DossierRecord>;
  const name = backOfficeDoorName(body.service);
  const logger = options.logger?.child({ component: 'back-office' });
  const door = await Door.open({
    ...options.door,
    name,
    nc: body.connection(),
    secret: options.secret,
    publicUrl: options.publicUrl,
    service: backOfficeEventService(body.service),
    api: {
      title: `Passerelle back office: ${body.service}`,
      version: '1.0.0',
      description: `The back-office API of the ${body.service} (${body.participants.join(', ')}): the worklist with legal deadlines, each dossier as this body keeps it (decrypted), one operation per action of the body's table, and every step as a CloudEvent (signed webhooks, Server-Sent Events). Errors are RFC 9457 problems typed per the Belgif REST guide, with the Passerelle catalogue code as \`code\`.`,
    },
    ...(options.replicas !== undefined ? { replicas: options.replicas } : {}),
    ...(options.create !== undefined ? { create: options.create } : {}),
    ...(logger ? { logger } : {}),
  });
  const app = fastify({
    ...doorServerOptions(),
    ...(logger ? { loggerInstance: logger } : {}),
    bodyLimit: 256 * 1024,
  });
  doors.set(app, door);
  const stopEvents = logStepEvents(door, (listener) => body.onStep(listener), logger ?? silentLogger);
  app.addHook('onClose', async () => {
    await stopEvents();
    await door.close();
  });
  // problems, access, Idempotency-Key, the OpenAPI document, tokens, clients, webhooks, events
  await door.register(app);
  await app.register(backOfficeRoutes, { body, door, contracts: options.contracts });
  for (const plugin of options.plugins ?? []) {
    await app.register(plugin, { body, door, contracts: options.contracts });
  }
  return app;
}

const silentLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
