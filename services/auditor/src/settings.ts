import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type PrivateJwk } from '@passerelle/envelope';
import { P256_JWK_RULE, isPrivateJwk } from '@passerelle/envelope/internal';
import { PasserelleError } from '@passerelle/errors';

/** The auditor's start-up settings, read from the environment by {@link readAuditorSettings}. */
export interface AuditorSettings {
  /** `PASSERELLE_NATS_URL` (comma-separated; default nats://127.0.0.1:4222). */
  servers: string[];
  /** `PASSERELLE_AUDITOR_KEY`: the auditor's private signing JWK file (mode 0600). */
  keyFile: string;
  /** `PASSERELLE_ANCHOR`: the trust anchor's public key file. */
  anchor: string;
  /** `PASSERELLE_DIRECTORY_FILE`: an offline directory export instead of the live directory bucket. */
  directoryFile?: string;
  /**
   * `PASSERELLE_DIRECTORY_STATE`: the directory entries this host has accepted (mode 0600), so that a restart
   * refuses an older one put back in the bucket (default `directory-state.auditor.json` beside the key file).
   */
  directoryState: string;
  /** `PASSERELLE_AUDITOR_TOKEN`, or the first line of the file `PASSERELLE_AUDITOR_TOKEN_FILE`. */
  token: string;
  /** `PASSERELLE_VIEWER_HOST` (default 127.0.0.1) and `PASSERELLE_VIEWER_PORT` (default 8090). */
  viewerHost: string;
  viewerPort: number;
  /**
   * `PASSERELLE_VIEWER_TLS_CERT` and `PASSERELLE_VIEWER_TLS_KEY`: PEM files of the certificate (chain) and
   * private key with which the viewer serves HTTPS itself (read and checked here); both or neither.
   */
  viewerTls?: { cert: string; key: string };
  /** `PASSERELLE_CHECKPOINT_EVERY` entries (default 1000). */
  checkpointEvery: number;
  /** `PASSERELLE_CHECKPOINT_SECONDS` (default 60; 0: by count only). */
  checkpointSeconds: number;
  /** `PASSERELLE_EXPORT_FILE`: a ledger export the viewer shows at /export. */
  exportFile?: string;
  /** `PASSERELLE_TSA_URL`: the RFC 3161 time-stamping authority that timestamps checkpoints. */
  tsaUrl?: string;
  /** `PASSERELLE_TSA_TRUST`: PEM file of the roots the TSA's certificate must chain to (with the URL). */
  tsaTrust?: string;
  /** `PASSERELLE_TIMESTAMP_SECONDS`: the batch window of timestamp requests (default 10). */
  timestampSeconds: number;
  /** `PASSERELLE_METRICS_PORT`: Prometheus /metrics and the probes on loopback (absent: not served). */
  metricsPort?: number;
  /** `PASSERELLE_ARCHIVE_DIR`: the folder the ledger rolls into (absent: no archive). */
  archiveDir?: string;
  /** `PASSERELLE_ARCHIVE_SECONDS`: how often the ledger is archived (default 3600). */
  archiveSeconds: number;
  /** `PASSERELLE_ARCHIVE_SEGMENT_ENTRIES`: entries per segment at most (default 100 000). */
  archiveSegmentEntries: number;
  /** `PASSERELLE_ARCHIVE_TRIM`: `retention` (default, LEDGER's own limits) or `purge` (after each segment). */
  archiveTrim: 'retention' | 'purge';
  /**
   * `PASSERELLE_LEDGER_MAX_AGE_DAYS`: with an archive, the age limit the auditor gives LEDGER, never short of
   * an entry not archived yet (absent: LEDGER's limits are left as the operator set them).
   */
  ledgerMaxAgeDays?: number;
}

function bad(setting: string, problem: string): PasserelleError {
  return new PasserelleError('ERR_CONFIG_INVALID', `auditor setting ${setting} ${problem}`, {
    details: { setting },
  });
}

function integer(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw bad(name, `must be an integer from ${min} to ${max}`);
  return n;
}

/**
 * Reads and validates the auditor's settings from the environment; throws ERR_CONFIG_INVALID naming the
 * first bad setting (never echoing a token or key).
 *
 * @example
 * ```ts
 * const settings = await readAuditorSettings(process.env);
 * ```
 */
export async function readAuditorSettings(
  env: Readonly<Record<string, string | undefined>>,
): Promise<AuditorSettings> {
  const servers = (env['PASSERELLE_NATS_URL'] ?? 'nats://127.0.0.1:4222')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (servers.length === 0 || !servers.every((s) => /^(nats|tls|wss?):\/\/[^\s]+$/.test(s))) {
    throw bad('PASSERELLE_NATS_URL', 'must be one or more nats:// URLs, comma-separated');
  }
  const keyFile = env['PASSERELLE_AUDITOR_KEY'];
  if (!keyFile) throw bad('PASSERELLE_AUDITOR_KEY', "is required (the auditor's private signing JWK file)");
  const anchor = env['PASSERELLE_ANCHOR'];
  if (!anchor) throw bad('PASSERELLE_ANCHOR', "is required (the trust anchor's public key file)");
  let token = env['PASSERELLE_AUDITOR_TOKEN'];
  const tokenFile = env['PASSERELLE_AUDITOR_TOKEN_FILE'];
  if (!token && tokenFile) {
    try {
      token = (await readFile(tokenFile, 'utf8')).split(/\r?\n/)[0]?.trim();
    } catch {
      throw bad('PASSERELLE_AUDITOR_TOKEN_FILE', `(${tokenFile}) cannot be read`);
    }
  }
  const tokenSetting =
    tokenFile && !env['PASSERELLE_AUDITOR_TOKEN']
      ? 'PASSERELLE_AUDITOR_TOKEN_FILE'
      : 'PASSERELLE_AUDITOR_TOKEN';
  if (!token)
    throw bad('PASSERELLE_AUDITOR_TOKEN', 'or PASSERELLE_AUDITOR_TOKEN_FILE is required (the viewer token)');
  if (!/^[\x21-\x7e]{16,512}$/.test(token)) {
    throw bad(tokenSetting, 'must hold a token of 16 to 512 printable characters without spaces');
  }
  const viewerHost = env['PASSERELLE_VIEWER_HOST'] || '127.0.0.1';
  const viewerPort = integer(env, 'PASSERELLE_VIEWER_PORT', 8090, 0, 65535);
  const checkpointEvery = integer(env, 'PASSERELLE_CHECKPOINT_EVERY', 1000, 1, 1_000_000);
  const checkpointSeconds = integer(env, 'PASSERELLE_CHECKPOINT_SECONDS', 60, 0, 86_400);
  const viewerTls = await readViewerTls(env);
  const directoryFile = env['PASSERELLE_DIRECTORY_FILE'] || undefined;
  const directoryState =
    env['PASSERELLE_DIRECTORY_STATE'] || join(dirname(keyFile), 'directory-state.auditor.json');
  const exportFile = env['PASSERELLE_EXPORT_FILE'] || undefined;
  const tsaUrl = env['PASSERELLE_TSA_URL'] || undefined;
  if (tsaUrl && !/^https?:\/\/[^\s]+$/.test(tsaUrl))
    throw bad('PASSERELLE_TSA_URL', 'must be an http(s) URL');
  const tsaTrust = env['PASSERELLE_TSA_TRUST'] || undefined;
  if (tsaUrl && !tsaTrust) {
    throw bad('PASSERELLE_TSA_TRUST', "is required with PASSERELLE_TSA_URL (a PEM file of the TSA's roots)");
  }
  const timestampSeconds = integer(env, 'PASSERELLE_TIMESTAMP_SECONDS', 10, 1, 86_400);
  const archiveDir = env['PASSERELLE_ARCHIVE_DIR'] || undefined;
  const archiveSeconds = integer(env, 'PASSERELLE_ARCHIVE_SECONDS', 3600, 1, 7 * 86_400);
  const archiveSegmentEntries = integer(env, 'PASSERELLE_ARCHIVE_SEGMENT_ENTRIES', 100_000, 1, 100_000_000);
  const archiveTrim = env['PASSERELLE_ARCHIVE_TRIM'] || 'retention';
  if (archiveTrim !== 'retention' && archiveTrim !== 'purge') {
    throw bad('PASSERELLE_ARCHIVE_TRIM', 'must be retention or purge');
  }
  const ledgerMaxAgeDays =
    env['PASSERELLE_LEDGER_MAX_AGE_DAYS'] === undefined || env['PASSERELLE_LEDGER_MAX_AGE_DAYS'] === ''
      ? undefined
      : integer(env, 'PASSERELLE_LEDGER_MAX_AGE_DAYS', 0, 1, 36_500);
  if (ledgerMaxAgeDays !== undefined && !archiveDir) {
    throw bad(
      'PASSERELLE_LEDGER_MAX_AGE_DAYS',
      'needs PASSERELLE_ARCHIVE_DIR: only archived entries may age out',
    );
  }
  const metricsPort =
    env['PASSERELLE_METRICS_PORT'] === undefined || env['PASSERELLE_METRICS_PORT'] === ''
      ? undefined
      : integer(env, 'PASSERELLE_METRICS_PORT', 0, 0, 65535);
  return {
    servers,
    keyFile,
    anchor,
    token,
    viewerHost,
    viewerPort,
    checkpointEvery,
    checkpointSeconds,
    ...(viewerTls ? { viewerTls } : {}),
    timestampSeconds,
    archiveSeconds,
    archiveSegmentEntries,
    archiveTrim,
    ...(ledgerMaxAgeDays !== undefined ? { ledgerMaxAgeDays } : {}),
    ...(archiveDir ? { archiveDir } : {}),
    ...(directoryFile ? { directoryFile } : {}),
    directoryState,
    ...(exportFile ? { exportFile } : {}),
    ...(tsaUrl ? { tsaUrl } : {}),
    ...(tsaTrust ? { tsaTrust } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
  };
}

/**
 * The viewer's certificate and key, when both settings are given: readable, PEM, the key readable by its
 * owner only and the certificate's own, the certificate within its validity.
 */
async function readViewerTls(
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ cert: string; key: string } | undefined> {
  const certFile = env['PASSERELLE_VIEWER_TLS_CERT'] || undefined;
  const keyFile = env['PASSERELLE_VIEWER_TLS_KEY'] || undefined;
  if (!certFile && !keyFile) return undefined;
  if (!certFile) throw bad('PASSERELLE_VIEWER_TLS_CERT', 'is required with PASSERELLE_VIEWER_TLS_KEY');
  if (!keyFile) throw bad('PASSERELLE_VIEWER_TLS_KEY', 'is required with PASSERELLE_VIEWER_TLS_CERT');
  const read = async (setting: string, file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch {
      throw bad(setting, `(${file}) cannot be read`);
    }
  };
  const cert = await read('PASSERELLE_VIEWER_TLS_CERT', certFile);
  const key = await read('PASSERELLE_VIEWER_TLS_KEY', keyFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw bad('PASSERELLE_VIEWER_TLS_CERT', `(${certFile}) is not a PEM certificate`);
  }
  const now = Date.now();
  if (Date.parse(certificate.validTo) < now || Date.parse(certificate.validFrom) > now) {
    throw bad('PASSERELLE_VIEWER_TLS_CERT', `(${certFile}) is not valid now (${certificate.validTo})`);
  }
  if (process.platform !== 'win32' && ((await stat(keyFile)).mode & 0o077) !== 0) {
    throw bad('PASSERELLE_VIEWER_TLS_KEY', `(${keyFile}) is readable by others; chmod 600 it`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw bad('PASSERELLE_VIEWER_TLS_KEY', `(${keyFile}) is not a PEM private key`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw bad('PASSERELLE_VIEWER_TLS_KEY', `(${keyFile}) is not the key of ${certFile}`);
  }
  return { cert, key };
}

/**
 * Loads the auditor's private signing key: a single private JWK in a file readable by its owner only.
 * A participant key file holding encryption keys is refused — the auditor must never be able to decrypt.
 *
 * @example
 * ```ts
 * const auditorKey = await loadAuditorKey('/etc/passerelle/auditor/signing.private.json');
 * ```
 */
export async function loadAuditorKey(path: string): Promise<PrivateJwk> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    throw bad('PASSERELLE_AUDITOR_KEY', `(${path}) cannot be read as JSON`);
  }
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) {
    throw bad('PASSERELLE_AUDITOR_KEY', `(${path}) is readable by others; chmod 600 it`);
  }
  if (typeof data === 'object' && data !== null && 'encryption' in data) {
    throw bad('PASSERELLE_AUDITOR_KEY', 'holds encryption keys: the auditor takes its signing key only');
  }
  if (!isPrivateJwk(data) || (data.use !== undefined && data.use !== 'sig')) {
    throw bad('PASSERELLE_AUDITOR_KEY', `is not a private P-256 signing JWK (${P256_JWK_RULE}, and d)`);
  }
  return data;
}
