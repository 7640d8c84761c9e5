import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type KeyResolver, proveMessage } from '@passerelle/audit';
import type { Logger } from '@passerelle/exchange';
import type { CheckpointVerifier } from '../entry-checks.js';
import { type ExportCheck, checkExportFile } from '../export-check.js';
import type { LedgerIndex } from '../ledger-index.js';
import type { RecorderStats } from '../recorder.js';
import { dossierTimeline } from '../timeline.js';
import { VIEWER_CSS, VIEWER_JS } from './assets.js';
import { ViewerAuth } from './auth.js';
import { errorPage, exportPage, homePage, loginPage, timelinePage } from './pages.js';

/** The strict policy of every response: only this origin's stylesheet and script, no frames, no inline code. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const DOSSIER_ID = /^[A-Za-z0-9-]{8,64}$/;
const MESSAGE_ID = /^[A-Za-z0-9-]{8,64}$/;
const MAX_UPLOADS_KEPT = 20;

/** Options of {@link startViewer}. */
export interface ViewerOptions {
  index: LedgerIndex;
  checkpoints: CheckpointVerifier;
  resolver: KeyResolver;
  /** The bearer token security officers present. */
  token: string;
  host?: string;
  port?: number;
  /** An export file to show at /export (evidence handed over out of band). */
  exportFile?: string;
  /** Largest export accepted by upload, in bytes (default 64 MiB). */
  maxUploadBytes?: number;
  recorderStats?: () => RecorderStats;
  /** Counts the inputs the auditor refused into DEADLETTER. */
  refusedCount?: () => Promise<number>;
  logger: Logger;
}

/** The running viewer. */
export interface Viewer {
  /** `http://host:port` */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(body);
}

const HTML = 'text/html; charset=utf-8';

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpProblem(413, `The upload exceeds ${limit} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Starts the read-only web viewer: `/` ledger state, `/dossier?id=` a dossier's timeline with the
 * verification status of every message and receipt, `/proof/<messageId>` the inclusion proof JSON,
 * `/export` the configured export file's verification and an upload form, `/exports/<id>` an uploaded
 * export's result. Every page needs the token (401 and a login form otherwise); every value is escaped;
 * the CSP allows only this origin's stylesheet and script.
 *
 * @example
 * ```ts
 * const viewer = await startViewer({ index, checkpoints, resolver, token, port: 8090, logger });
 * console.log(viewer.url);
 * ```
 */
export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const { index, checkpoints, resolver, logger } = options;
  const auth = new ViewerAuth(options.token);
  const maxUpload = options.maxUploadBytes ?? 64 * 1024 * 1024;
  const uploads = new Map<string, ExportCheck>();
  let configuredCheck: { key: string; result: Promise<ExportCheck> } | undefined;

  const configuredExport = async (): Promise<ExportCheck | undefined> => {
    const path = options.exportFile;
    if (!path) return undefined;
    const s = await stat(path).catch(() => undefined);
    if (!s) return undefined;
    const key = `${s.size}:${s.mtimeMs}`;
    if (configuredCheck?.key !== key) {
      configuredCheck = { key, result: checkExportFile(path, basename(path), resolver) };
    }
    return configuredCheck.result;
  };

  const overview = async (): Promise<string> => {
    await index.refresh();
    const last = index.lastCheckpoint;
    const counts = index.counts;
    const stats = options.recorderStats?.();
    const refused = await options.refusedCount?.().catch(() => undefined);
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
  };

  const proof = async (messageId: string): Promise<string> => {
    await index.refresh();
    const seq = await index.envelopeSeq(messageId);
    if (seq === undefined) throw new HttpProblem(404, 'No message with this id is in the ledger.');
    const cp = await index.checkpointCovering(seq);
    if (!cp)
      throw new HttpProblem(409, 'No checkpoint covers this message yet; try again after the next one.');
    const p = await proveMessage(await index.entries(cp.firstSeq, cp.seq), messageId, resolver);
    return JSON.stringify(p, null, 2) + '\n';
  };

  const upload = async (req: IncomingMessage, url: URL): Promise<string> => {
    if (!/^application\/x-ndjson\b/.test(req.headers['content-type'] ?? '')) {
      throw new HttpProblem(415, 'Send the export as application/x-ndjson.');
    }
    const body = await readBody(req, maxUpload);
    const dir = await mkdtemp(join(tmpdir(), 'pex-auditor-upload-'));
    try {
      const file = join(dir, 'export.jsonl');
      await writeFile(file, body, { mode: 0o600 });
      const name = (url.searchParams.get('name') ?? 'upload.jsonl').slice(0, 200);
      const result = await checkExportFile(file, name, resolver);
      const id = randomBytes(12).toString('base64url');
      uploads.set(id, result);
      while (uploads.size > MAX_UPLOADS_KEPT) uploads.delete(uploads.keys().next().value as string);
      logger.info(
        { upload: id, ok: result.report?.ok ?? false, failingSeq: result.report?.failure?.seq },
        'export checked',
      );
      return id;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://viewer.invalid');
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET' && path === '/static/viewer.css')
      return send(res, 200, VIEWER_CSS, 'text/css; charset=utf-8');
    if (method === 'GET' && path === '/static/viewer.js')
      return send(res, 200, VIEWER_JS, 'text/javascript; charset=utf-8');
    if (method === 'POST' && path === '/login') {
      const form = new URLSearchParams((await readBody(req, 4096)).toString('utf8'));
      if (auth.tokenMatches(form.get('token') ?? '')) {
        return send(res, 303, '', HTML, {
          location: '/',
          'set-cookie': auth.openSession(req.headers['x-forwarded-proto'] === 'https'),
        });
      }
      logger.warn({ path }, 'viewer login refused');
      return send(res, 401, loginPage('The token is not valid.'), HTML, {
        'www-authenticate': 'Bearer realm="passerelle-audit"',
      });
    }
    if (!auth.authorized(req)) {
      return send(res, 401, loginPage(), HTML, { 'www-authenticate': 'Bearer realm="passerelle-audit"' });
    }
    if (method === 'GET' && path === '/') return send(res, 200, await overview(), HTML);
    if (method === 'GET' && path === '/dossier') {
      const id = url.searchParams.get('id') ?? '';
      if (!DOSSIER_ID.test(id))
        throw new HttpProblem(400, 'A dossier id has 8 to 64 letters, digits or hyphens.');
      return send(res, 200, timelinePage(await dossierTimeline(index, checkpoints, resolver, id)), HTML);
    }
    const proofMatch = /^\/proof\/([^/]+)$/.exec(path);
    if (method === 'GET' && proofMatch) {
      const id = proofMatch[1] as string;
      if (!MESSAGE_ID.test(id)) throw new HttpProblem(400, 'Not a message id.');
      return send(res, 200, await proof(id), 'application/json; charset=utf-8', {
        'content-disposition': `attachment; filename="proof-${id}.json"`,
      });
    }
    if (method === 'GET' && path === '/export') {
      return send(res, 200, exportPage(await configuredExport(), Boolean(options.exportFile)), HTML);
    }
    if (method === 'POST' && path === '/exports') {
      const id = await upload(req, url);
      return send(res, 201, JSON.stringify({ id }), 'application/json; charset=utf-8');
    }
    const uploadMatch = /^\/exports\/([A-Za-z0-9_-]{16})$/.exec(path);
    if (method === 'GET' && uploadMatch) {
      const result = uploads.get(uploadMatch[1] as string);
      if (!result) throw new HttpProblem(404, 'This upload is no longer kept; upload the file again.');
      return send(res, 200, exportPage(result, false), HTML);
    }
    throw new HttpProblem(404, 'No such page.');
  };

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const status = err instanceof HttpProblem ? err.status : 500;
      const message =
        err instanceof HttpProblem ? err.message : 'The ledger could not be read; see the auditor log.';
      if (status === 500)
        logger.error(
          { code: (err as { code?: unknown }).code, path: req.url?.split('?')[0] },
          'viewer error',
        );
      if (res.headersSent) return void res.end();
      if (req.method === 'POST' && req.url?.startsWith('/exports')) {
        return send(res, status, JSON.stringify({ error: message }), 'application/json; charset=utf-8');
      }
      send(res, status, errorPage(status === 404 ? 'Not found' : 'Error', message), HTML);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8090, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
