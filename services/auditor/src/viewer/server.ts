import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type KeyResolver, proveMessage } from '@passerelle/audit';
import type { Logger } from '@passerelle/exchange';
import { type FastifyReply, type FastifyRequest, fastify } from 'fastify';
import type { CheckpointVerifier } from '../entry-checks.js';
import { type ExportCheck, checkExportFile } from '../export-check.js';
import type { LedgerIndex } from '../ledger-index.js';
import type { RecorderStats } from '../recorder.js';
import { dossierTimeline } from '../timeline.js';
import { type CredentialAttempts, viewerAccess } from './access.js';
import { VIEWER_CSS, VIEWER_JS } from './assets.js';
import { HttpProblem } from './http-problem.js';
import { errorPage, exportPage, homePage, timelinePage } from './pages.js';

/** The strict policy of every response: only this origin's stylesheet and script, no frames, no inline code. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Headers of every answer, refusals included. */
const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

const DOSSIER_ID = /^[A-Za-z0-9-]{8,64}$/;
const MESSAGE_ID = /^[A-Za-z0-9-]{8,64}$/;
const UPLOAD_ID = /^[A-Za-z0-9_-]{16}$/;
const MAX_UPLOADS_KEPT = 20;
const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** Settings of the web viewer: what the auditor's operator chooses. */
export interface ViewerConfig {
  /** Bearer token security officers present (at least 16 characters). */
  token: string;
  /** Listen address (default 127.0.0.1) and port (default 8090; 0 picks a free one). */
  host?: string;
  port?: number;
  /**
   * Serve HTTPS with this certificate (chain) and private key, PEM (`readAuditorSettings` reads and checks
   * them); the session cookie is then always `Secure`. Without it the viewer serves HTTP, and marks the
   * cookie `Secure` only behind a proxy that sets `X-Forwarded-Proto: https`.
   */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Wrong tokens one client address may present per window before it gets 429 (default 5 a minute). */
  credentialAttempts?: CredentialAttempts;
  /** A ledger export file to show and verify at /export (evidence handed over out of band). */
  exportFile?: string;
  /** Largest export accepted by upload, in bytes (default 64 MiB). */
  maxUploadBytes?: number;
}

/** Options of {@link startViewer}: its settings and what the auditor gives it to show. */
export interface ViewerOptions extends ViewerConfig {
  index: LedgerIndex;
  checkpoints: CheckpointVerifier;
  resolver: KeyResolver;
  recorderStats?: () => RecorderStats;
  /** Counts the inputs the auditor refused into DEADLETTER. */
  refusedCount?: () => Promise<number>;
  logger: Logger;
}

/** The running viewer. */
export interface Viewer {
  /** `http://host:port`, or `https://host:port` with TLS. */
  readonly url: string;
  readonly server: HttpServer | HttpsServer;
  close(): Promise<void>;
}

/** Whether a request is an upload, whose answers are JSON for the page's script. */
const isUpload = (request: FastifyRequest): boolean =>
  request.method === 'POST' && request.routeOptions.url === '/exports';

/** A framework refusal (body too large, wrong media type, bad path) as a sentence without request data. */
function frameworkProblem(err: unknown, request: FastifyRequest, maxUpload: number): HttpProblem {
  const status = (err as { statusCode?: unknown }).statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) {
    return new HttpProblem(500, 'The ledger could not be read; see the auditor log.');
  }
  if (status === 413 && isUpload(request))
    return new HttpProblem(413, `The upload exceeds ${maxUpload} bytes.`);
  if (status === 415 && isUpload(request))
    return new HttpProblem(415, 'Send the export as application/x-ndjson.');
  return new HttpProblem(status, `The request is malformed (${status}).`);
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: HttpProblem): FastifyReply {
  void reply.code(problem.status).headers(SECURITY_HEADERS).headers(problem.headers);
  if (isUpload(request)) return reply.type(JSON_TYPE).send(JSON.stringify({ error: problem.message }));
  return reply.type(HTML).send(errorPage(problem.status === 404 ? 'Not found' : 'Error', problem.message));
}

/** A query parameter given once (a repeated or absent one is `undefined`). */
function queryValue(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Starts the read-only web viewer (fastify): `/` ledger state, `/dossier?id=` a dossier's timeline with the
 * verification status of every message and receipt, `/proof/<messageId>` the inclusion proof JSON,
 * `/export` the configured export file's verification and an upload form, `/exports/<id>` an uploaded
 * export's result. Every page needs the token (401 and a login form otherwise; wrong tokens are
 * rate-limited per client address); every value is escaped; the CSP allows only this origin's stylesheet
 * and script. With `tls`, it serves HTTPS.
 *
 * @example
 * ```ts
 * const viewer = await startViewer({ index, checkpoints, resolver, token, port: 8090, logger });
 * console.log(viewer.url);
 * ```
 */
export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const maxUpload = options.maxUploadBytes ?? 64 * 1024 * 1024;
  const app = createViewerApp(options, maxUpload);
  await app.register(viewerAccess, {
    token: options.token,
    tls: options.tls !== undefined,
    ...(options.credentialAttempts ? { attempts: options.credentialAttempts } : {}),
    logger: options.logger,
  });
  await registerViewerRoutes(app, new LedgerViews(options), options, maxUpload);

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8090 });
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `${options.tls ? 'https' : 'http'}://${host}:${address.port}`,
    server: app.server,
    close: () => app.close(),
  };
}

/**
 * What the viewer's pages show, apart from HTTP: the ledger's state, proofs, and export checks (the
 * configured file's, cached until it changes, and the last uploads').
 */
class LedgerViews {
  readonly #options: ViewerOptions;
  readonly #uploads = new Map<string, ExportCheck>();
  #configuredCheck: { key: string; result: Promise<ExportCheck> } | undefined;

  constructor(options: ViewerOptions) {
    this.#options = options;
  }

  async configuredExport(): Promise<ExportCheck | undefined> {
    const path = this.#options.exportFile;
    if (!path) return undefined;
    const s = await stat(path).catch(() => undefined);
    if (!s) return undefined;
    const key = `${s.size}:${s.mtimeMs}`;
    if (this.#configuredCheck?.key !== key) {
      this.#configuredCheck = { key, result: checkExportFile(path, basename(path), this.#options.resolver) };
    }
    return this.#configuredCheck.result;
  }

  async overview(): Promise<string> {
    const { index, checkpoints } = this.#options;
    await index.refresh();
    const last = index.lastCheckpoint;
    const counts = index.counts;
    const stats = this.#options.recorderStats?.();
    const refused = await this.#options.refusedCount?.().catch(() => undefined);
    return homePage({
      lastSeq: index.lastSeq,
      checkpoints: counts.checkpoints,
      envelopes: counts.envelopes,
      receipts: counts.receipts,
      ...(index.chainBreak ? { chainBreak: index.chainBreak } : {}),
      ...(last ? { lastCheckpoint: await checkpoints.check(last.seq) } : {}),
      uncheckpointed: index.lastSeq - (last?.seq ?? 0),
      ...(stats ? { recorder: stats } : {}),
      ...(refused !== undefined ? { refused } : {}),
    });
  }

  async proof(messageId: string): Promise<string> {
    const { index, resolver } = this.#options;
    await index.refresh();
    const seq = await index.envelopeSeq(messageId);
    if (seq === undefined) throw new HttpProblem(404, 'No message with this id is in the ledger.');
    const cp = await index.checkpointCovering(seq);
    if (!cp)
      throw new HttpProblem(409, 'No checkpoint covers this message yet; try again after the next one.');
    const p = await proveMessage(await index.entries(cp.firstSeq, cp.seq), messageId, resolver);
    return JSON.stringify(p, null, 2) + '\n';
  }

  /** Checks an uploaded export and keeps its result under a new id (the oldest go first). */
  async upload(body: Buffer, name: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'pex-auditor-upload-'));
    try {
      const file = join(dir, 'export.jsonl');
      await writeFile(file, body, { mode: 0o600 });
      const result = await checkExportFile(file, name.slice(0, 200), this.#options.resolver);
      const id = randomBytes(12).toString('base64url');
      this.#uploads.set(id, result);
      while (this.#uploads.size > MAX_UPLOADS_KEPT)
        this.#uploads.delete(this.#uploads.keys().next().value as string);
      this.#options.logger.info(
        { upload: id, ok: result.report?.ok ?? false, failingSeq: result.report?.failure?.seq },
        'export checked',
      );
      return id;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  uploaded(id: string): ExportCheck | undefined {
    return this.#uploads.get(id);
  }
}

// Every answer, refusals and framework errors included, carries the security headers and the same error
// page; only the bodies a route takes are parsed.
function createViewerApp(options: ViewerOptions, maxUpload: number) {
  const { logger } = options;
  const app = fastify({
    logger: false,
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    bodyLimit: 4096,
    // closing ends keep-alive connections at once (a browser's would hold the shutdown)
    forceCloseConnections: true,
    // a path whose %xx do not decode is refused before any hook: the same page and headers
    frameworkErrors: (err, request, reply) =>
      void sendProblem(request, reply, frameworkProblem(err, request, maxUpload)),
  });
  // Only the bodies a route takes: a login form, an export (each in its scope).
  app.removeAllContentTypeParsers();
  app.addHook('onRequest', async (_request, reply) => {
    void reply.headers(SECURITY_HEADERS);
  });
  app.setErrorHandler(async (err, request, reply) => {
    const problem = err instanceof HttpProblem ? err : frameworkProblem(err, request, maxUpload);
    if (problem.status === 500) {
      logger.error(
        { code: (err as { code?: unknown }).code, route: request.routeOptions.url },
        'viewer error',
      );
    }
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler(() => {
    throw new HttpProblem(404, 'No such page.');
  });
  return app;
}

// The pages, behind the access plugin registered before them; inputs are checked against their shapes
// before they reach the ledger or a file name.
async function registerViewerRoutes(
  app: ReturnType<typeof createViewerApp>,
  views: LedgerViews,
  options: ViewerOptions,
  maxUpload: number,
): Promise<void> {
  const { index, checkpoints, resolver } = options;
  const asset = { config: { public: true } };
  app.get('/static/viewer.css', asset, (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(VIEWER_CSS),
  );
  app.get('/static/viewer.js', asset, (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(VIEWER_JS),
  );
  app.get('/', async (_request, reply) => reply.type(HTML).send(await views.overview()));
  app.get('/dossier', async (request, reply) => {
    const id = queryValue(request, 'id') ?? '';
    if (!DOSSIER_ID.test(id))
      throw new HttpProblem(400, 'A dossier id has 8 to 64 letters, digits or hyphens.');
    return reply.type(HTML).send(timelinePage(await dossierTimeline(index, checkpoints, resolver, id)));
  });
  app.get<{ Params: { messageId: string } }>('/proof/:messageId', async (request, reply) => {
    const id = request.params.messageId;
    if (!MESSAGE_ID.test(id)) throw new HttpProblem(400, 'Not a message id.');
    return reply
      .type(JSON_TYPE)
      .header('content-disposition', `attachment; filename="proof-${id}.json"`)
      .send(await views.proof(id));
  });
  app.get('/export', async (_request, reply) =>
    reply.type(HTML).send(exportPage(await views.configuredExport(), Boolean(options.exportFile))),
  );
  await app.register((scope, _options, registered) => {
    scope.addContentTypeParser('application/x-ndjson', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    scope.post('/exports', { bodyLimit: maxUpload }, async (request, reply) => {
      // a POST without a body reaches here with none: it is not an export either
      if (!Buffer.isBuffer(request.body))
        throw new HttpProblem(415, 'Send the export as application/x-ndjson.');
      const id = await views.upload(request.body, queryValue(request, 'name') ?? 'upload.jsonl');
      return reply.code(201).type(JSON_TYPE).send(JSON.stringify({ id }));
    });
    registered();
  });
  app.get<{ Params: { uploadId: string } }>('/exports/:uploadId', async (request, reply) => {
    if (!UPLOAD_ID.test(request.params.uploadId)) throw new HttpProblem(404, 'No such page.');
    const result = views.uploaded(request.params.uploadId);
    if (!result) throw new HttpProblem(404, 'This upload is no longer kept; upload the file again.');
    return reply.type(HTML).send(exportPage(result, false));
  });
}
