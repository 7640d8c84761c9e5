import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { type IncomingHttpHeaders, request } from 'node:http';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { PasserelleError } from '@passerelle/errors';
import { freeLoopbackPort } from '@passerelle/testing';
import fastify, { type FastifyInstance } from 'fastify';
import {
  type CollectionPage,
  CursorCodec,
  Door,
  type DoorOptions,
  type DoorScope,
  collectionPage,
  collectionSchema,
  doorServerOptions,
  pageQuerySchema,
} from '../src/index.js';
import { bootstrapDoorClient } from '../src/internal.js';
import { QUICK_TEST_DOOR_SETTINGS } from '../src/testing/quick-settings.js';

/** A door on a real nats-server, a fastify app listening on loopback, and a client per scope set. */
export interface DemoDoor {
  nc: NatsConnection;
  door: Door;
  app: FastifyInstance;
  origin: string;
  port: number;
  secret: Buffer;
  /** How often the decision handler ran, per dossier. */
  decisionRuns: Map<string, number>;
  /** Opens the gate of `POST /slow/:key` requests waiting on it. */
  releaseSlow: () => void;
  /** How many slow requests are waiting at their gate. */
  slowWaiting: () => number;
  /** Makes the next `POST /flaky` calls fail with a 5xx, `n` times. */
  failNext: (n: number) => void;
  /** Run ids seen by `POST /flaky`. */
  flakyRuns: string[];
  clock: { now: number };
  close(): Promise<void>;
}

/** A client of the demo door: its id, secret and a way to get a token. */
export interface DemoClient {
  id: string;
  secret: string;
}

export const DOSSIERS = Array.from({ length: 7 }, (_, i) => ({
  dossierId: `dossier-${String(i + 1).padStart(4, '0')}`,
  state: i % 2 === 0 ? 'open' : 'closed',
}));

/** The door on a fresh connection, configured for fast tests (short backoffs, loopback webhooks). */
async function openDemo(
  natsUrl: string,
  overrides: Partial<DoorOptions>,
  name: string,
): Promise<{ nc: NatsConnection; secret: Buffer; port: number; publicUrl: string; door: Door }> {
  const nc = await connect({ servers: natsUrl });
  const secret = randomBytes(32);
  const port = await freeLoopbackPort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const door = await Door.open({
    name,
    nc,
    secret,
    publicUrl,
    service: 'be.passerelle.demo.v1',
    api: { title: 'Demo door', version: '1.0.0' },
    ...QUICK_TEST_DOOR_SETTINGS,
    tokenRateLimit: { max: 20, windowMs: 60_000 },
    ...overrides,
  });
  return { nc, secret, port, publicUrl, door };
}

/** A decision route, idempotent and for officers, that counts its runs and logs an event per dossier. */
function decisionRoute(app: FastifyInstance, door: Door, decisionRuns: Map<string, number>): void {
  const decided = new Map<string, string>();
  app.post(
    '/dossiers/:dossierId/decisions',
    {
      config: { scope: 'decide', officer: true, idempotent: true },
      schema: {
        summary: 'Decide on a dossier',
        params: {
          type: 'object',
          required: ['dossierId'],
          properties: { dossierId: { type: 'string', pattern: '^[A-Za-z0-9-]{8,64}$' } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['outcome'],
          properties: {
            outcome: { type: 'string', enum: ['granted', 'refused'] },
            period: {
              type: 'object',
              additionalProperties: false,
              required: ['from', 'to'],
              properties: {
                from: { type: 'string', format: 'date' },
                to: { type: 'string', format: 'date' },
              },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { dossierId } = request.params as { dossierId: string };
      const body = request.body as { outcome: string };
      decisionRuns.set(dossierId, (decisionRuns.get(dossierId) ?? 0) + 1);
      if (decided.has(dossierId)) {
        throw new PasserelleError('ERR_DUPLICATE_DECISION', 'This dossier was decided already.');
      }
      decided.set(dossierId, body.outcome);
      const logged = await door.append({
        resourceType: 'dossiers',
        happened: 'decided',
        subject: dossierId,
        id: request.idempotency!.runId,
        data: { outcome: body.outcome },
      });
      return reply.code(201).send({
        dossierId,
        outcome: body.outcome,
        decidedBy: { client: request.client.id, officer: request.officer },
        event: { id: logged.event.id, subjectseq: logged.event.subjectseq },
      });
    },
  );
}

/** A paged collection of {@link DOSSIERS} and its items, as a back office lists its resources. */
function dossierRoutes(app: FastifyInstance, door: Door, publicUrl: string): void {
  app.get(
    '/dossiers',
    {
      config: { scope: 'read' },
      schema: {
        querystring: pageQuerySchema({
          max: 5,
          defaultSize: 3,
          filters: { state: { type: 'array', items: { type: 'string', enum: ['open', 'closed'] } } },
        }),
        response: {
          200: collectionSchema({
            type: 'object',
            properties: {
              dossierId: { type: 'string' },
              state: { type: 'string' },
              href: { type: 'string' },
            },
          }),
        },
      },
    },
    async (request): Promise<CollectionPage<unknown>> => {
      const query = request.query as { pageSize: number; cursor?: string; state?: string[] };
      const after = query.cursor
        ? door.cursors.decode<string>(CursorCodec.collectionOf(request), query.cursor)
        : '';
      const matching = DOSSIERS.filter((d) => !query.state || query.state.includes(d.state)).filter(
        (d) => d.dossierId > after,
      );
      const items = matching.slice(0, query.pageSize);
      return collectionPage(request, {
        publicUrl,
        cursors: door.cursors,
        items: items.map((d) => ({ ...d, href: `${publicUrl}/dossiers/${d.dossierId}` })),
        pageSize: query.pageSize,
        ...(matching.length > items.length ? { nextPosition: items[items.length - 1]!.dossierId } : {}),
      });
    },
  );

  app.get('/dossiers/:dossierId', { config: { scope: 'read' } }, async (request) => {
    const { dossierId } = request.params as { dossierId: string };
    const dossier = DOSSIERS.find((d) => d.dossierId === dossierId);
    if (!dossier) {
      throw new PasserelleError('ERR_DOSSIER_NOT_FOUND', 'No dossier has this id.', {
        details: { in: 'path', name: 'dossierId' },
      });
    }
    return dossier;
  });
}

/** Routes that show the plugins at their edges: public, failing with a secret, a small body limit. */
function edgeRoutes(app: FastifyInstance): void {
  app.get('/healthz', { config: { public: true } }, () => ({ status: 'UP' }));

  app.post('/boom', { config: { scope: 'read' } }, () => {
    throw new Error('connection to db-internal-7.example failed with password hunter2');
  });

  app.post('/notes', { config: { scope: 'decide' }, bodyLimit: 64 }, () => ({ ok: true }));
}

/** `POST /slow/:key`: idempotent requests held at a gate, so tests can overlap them at will. */
function slowRoute(app: FastifyInstance): Pick<DemoDoor, 'releaseSlow' | 'slowWaiting'> & { close(): void } {
  let gate: () => void = () => undefined;
  let gateOpen = new Promise<void>((resolve) => (gate = resolve));
  let waiting = 0;
  app.post('/slow/:key', { config: { scope: 'decide', idempotent: true } }, async () => {
    waiting++;
    await gateOpen;
    waiting--;
    return { done: true };
  });
  return {
    releaseSlow: () => {
      gate();
      gateOpen = new Promise<void>((resolve) => (gate = resolve));
    },
    slowWaiting: () => waiting,
    close: () => gate(),
  };
}

/** `POST /flaky`: an idempotent route that fails on demand, recording each run id. */
function flakyRoute(app: FastifyInstance): Pick<DemoDoor, 'failNext' | 'flakyRuns'> {
  let failures = 0;
  const flakyRuns: string[] = [];
  app.post('/flaky', { config: { scope: 'decide', idempotent: true } }, async (request, reply) => {
    flakyRuns.push(request.idempotency!.runId);
    if (failures > 0) {
      failures--;
      throw new PasserelleError('ERR_NOT_SENT', 'The exchange did not take the message.');
    }
    return reply.code(202).send({ accepted: true, runId: request.idempotency!.runId });
  });
  return { failNext: (n) => (failures = n), flakyRuns };
}

/**
 * Starts a demo door: the door's own routes plus a small back office (decisions, a collection, a route
 * that fails) using every plugin, as a service would.
 */
export async function startDemoDoor(
  natsUrl: string,
  overrides: Partial<DoorOptions> = {},
  name = `demo-${randomBytes(3).toString('hex')}`,
): Promise<DemoDoor> {
  const { nc, secret, port, publicUrl, door } = await openDemo(natsUrl, overrides, name);
  const clock = { now: Date.now() };
  const app = fastify({ ...doorServerOptions(), logger: false });
  await door.register(app);
  const decisionRuns = new Map<string, number>();
  decisionRoute(app, door, decisionRuns);
  dossierRoutes(app, door, publicUrl);
  edgeRoutes(app);
  const slow = slowRoute(app);
  const flaky = flakyRoute(app);
  await app.listen({ host: '127.0.0.1', port });
  return {
    nc,
    door,
    app,
    origin: publicUrl,
    port,
    secret,
    decisionRuns,
    releaseSlow: slow.releaseSlow,
    slowWaiting: slow.slowWaiting,
    ...flaky,
    clock,
    async close() {
      slow.close();
      await app.close();
      await nc.close();
    },
  };
}

/**
 * Starts a nats-server and a demo door for the suite: the door answers from the first test on and is
 * closed after the last.
 */
export function useDemoDoor(overrides: Partial<DoorOptions> = {}): DemoDoor {
  const nats = useNatsServer();
  const demo = {} as DemoDoor;
  beforeAll(async () => {
    Object.assign(demo, await startDemoDoor(nats.url, overrides));
  });
  afterAll(async () => {
    await demo.close?.();
  });
  return demo;
}

/**
 * Tokens of clients of the demo door, made before the suite's first test and named by the suite:
 * `useClientTokens(demo, { decider: ['case-desk', ['read', 'decide']] }).decider`.
 */
export function useClientTokens<N extends string>(
  demo: DemoDoor,
  clients: Record<N, [id: string, scopes: DoorScope[]]>,
): Record<N, string> {
  const tokens = {} as Record<N, string>;
  beforeAll(async () => {
    for (const [name, [id, scopes]] of Object.entries(clients) as [N, [string, DoorScope[]]][]) {
      tokens[name] = await clientToken(demo, id, scopes);
    }
  });
  return tokens;
}

/** Creates a client of the demo door through the bootstrap function (as a set-up script would). */
export async function makeClient(demo: DemoDoor, id: string, scopes: DoorScope[]): Promise<DemoClient> {
  const { secret } = await bootstrapDoorClient(demo.nc, {
    door: demo.door.options.name,
    secret: demo.secret,
    id,
    scopes,
  });
  return { id, secret };
}

/** An HTTP answer. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read problem bodies member by member
  json: any;
}

/** One request, with the request-target written exactly as given (fetch would normalise it). */
export function http(
  demo: { port: number },
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: demo.port,
        method,
        path: target,
        headers:
          body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `Authorization: Basic` for a client id and secret (each form-urlencoded first, RFC 6749 §2.3.1). */
export function basic(client: DemoClient): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(client.id)}:${encodeURIComponent(client.secret)}`).toString('base64')}`;
}

/** A token of `client` from the token endpoint. */
export async function tokenFor(demo: DemoDoor, client: DemoClient, scope?: string): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) });
  const res = await http(
    demo,
    'POST',
    '/oauth2/token',
    { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    form.toString(),
  );
  if (res.status !== 200) throw new Error(`token refused: ${res.status} ${res.text}`);
  return (res.json as { access_token: string }).access_token;
}

/** A token of a new client `id` of the demo door with `scopes`. */
export async function clientToken(demo: DemoDoor, id: string, scopes: DoorScope[]): Promise<string> {
  return tokenFor(demo, await makeClient(demo, id, scopes));
}

/** `POST path` with `token` under the idempotency key `key`. */
export function postKeyed(
  demo: DemoDoor,
  token: string,
  path: string,
  key: string,
  body: string,
): Promise<Answer> {
  return http(demo, 'POST', path, bearer(token, { 'idempotency-key': key }), body);
}

/** `POST path` with `token` and `body` as JSON. */
export function postJson(demo: DemoDoor, token: string, path: string, body: unknown): Promise<Answer> {
  return http(demo, 'POST', path, bearer(token), JSON.stringify(body));
}

/** `POST /dossiers/:dossierId/decisions` by an officer, with `token`; `extra` adds headers. */
export function postDecision(
  demo: DemoDoor,
  token: string,
  dossierId: string,
  body: string,
  extra: Record<string, string> = {},
): Promise<Answer> {
  const headers = bearer(token, { 'passerelle-officer': 'off-3f9a27c1', ...extra });
  return http(demo, 'POST', `/dossiers/${dossierId}/decisions`, headers, body);
}

/** JSON request headers with a bearer token. */
export function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extra };
}

/**
 * How `expect.poll` waits for what other processes do (a delivery, a log entry): generously, since the
 * machine may be busy; a test that passes does not wait for the limit.
 */
export const POLL = { timeout: 20_000, interval: 20 } as const;
