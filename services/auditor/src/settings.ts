import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type PrivateJwk } from '@passerelle/envelope';
import { P256_JWK_RULE, isPrivateJwk } from '@passerelle/envelope/internal';
import type { PasserelleError } from '@passerelle/errors';
import { defineSettings } from '@passerelle/settings';
import { AUDITOR_SETTINGS_SCHEMA, VIEWER_TOKEN_PATTERN } from './settings-schema.js';

/**
 * The auditor's start-up settings, read from the environment by {@link readAuditorSettings}; each is
 * described, with its variable and default, in {@link AUDITOR_SETTINGS_SCHEMA}.
 */
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
  /** `PASSERELLE_LOG_LEVEL` (default info). */
  logLevel: string;
}

/** The auditor's settings schema, compiled once. */
const auditorSettings = defineSettings<AuditorSettingValues>('auditor', AUDITOR_SETTINGS_SCHEMA);

/** The settings as the schema gives them, before the token and TLS files are read. */
interface AuditorSettingValues extends Omit<AuditorSettings, 'token' | 'viewerTls' | 'directoryState'> {
  token?: string;
  tokenFile?: string;
  viewerTlsCert?: string;
  viewerTlsKey?: string;
  directoryState?: string;
}

/**
 * Reads and validates the auditor's settings from the environment against
 * {@link AUDITOR_SETTINGS_SCHEMA}; throws ERR_CONFIG_INVALID naming the first bad setting by JSON pointer
 * and variable (never echoing a token or key).
 *
 * @example
 * ```ts
 * const settings = await readAuditorSettings(process.env);
 * ```
 */
export async function readAuditorSettings(
  env: Readonly<Record<string, string | undefined>>,
): Promise<AuditorSettings> {
  const { token, tokenFile, viewerTlsCert, viewerTlsKey, directoryState, ...values } = auditorSettings.read({
    env,
  });
  return {
    ...values,
    token: token ?? (await readToken(tokenFile!)),
    directoryState: directoryState ?? join(dirname(values.keyFile), 'directory-state.auditor.json'),
    ...(viewerTlsCert && viewerTlsKey ? { viewerTls: await readViewerTls(viewerTlsCert, viewerTlsKey) } : {}),
  };
}

/** The viewer token from the first line of its file, of the form the schema gives `token`. */
async function readToken(file: string): Promise<string> {
  let token: string | undefined;
  try {
    token = (await readFile(file, 'utf8')).split(/\r?\n/)[0]?.trim();
  } catch (cause) {
    throw auditorSettings.invalid('/tokenFile', `(${file}) cannot be read`, cause);
  }
  if (!token || !new RegExp(VIEWER_TOKEN_PATTERN).test(token)) {
    throw auditorSettings.invalid(
      '/tokenFile',
      'must hold a token of 16 to 512 printable characters without spaces',
    );
  }
  return token;
}

/**
 * The viewer's certificate and key (the schema requires both or neither): readable, PEM, the key readable
 * by its owner only and the certificate's own, the certificate within its validity.
 */
async function readViewerTls(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  const read = async (setting: string, file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch {
      throw auditorSettings.invalid(setting, `(${file}) cannot be read`);
    }
  };
  const cert = await read('/viewerTlsCert', certFile);
  const key = await read('/viewerTlsKey', keyFile);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw auditorSettings.invalid('/viewerTlsCert', `(${certFile}) is not a PEM certificate`);
  }
  const now = Date.now();
  if (Date.parse(certificate.validTo) < now || Date.parse(certificate.validFrom) > now) {
    throw auditorSettings.invalid(
      '/viewerTlsCert',
      `(${certFile}) is not valid now (${certificate.validTo})`,
    );
  }
  if (process.platform !== 'win32' && ((await stat(keyFile)).mode & 0o077) !== 0) {
    throw auditorSettings.invalid('/viewerTlsKey', `(${keyFile}) is readable by others; chmod 600 it`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw auditorSettings.invalid('/viewerTlsKey', `(${keyFile}) is not a PEM private key`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw auditorSettings.invalid('/viewerTlsKey', `(${keyFile}) is not the key of ${certFile}`);
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
    throw auditorSettings.invalid('/keyFile', `(${path}) cannot be read as JSON`);
  }
  if (process.platform !== 'win32' && ((await stat(path)).mode & 0o077) !== 0) {
    throw auditorSettings.invalid('/keyFile', `(${path}) is readable by others; chmod 600 it`);
  }
  if (typeof data === 'object' && data !== null && 'encryption' in data) {
    throw auditorSettings.invalid(
      '/keyFile',
      'holds encryption keys: the auditor takes its signing key only',
    );
  }
  if (!isPrivateJwk(data) || (data.use !== undefined && data.use !== 'sig')) {
    throw auditorSettings.invalid('/keyFile', `is not a private P-256 signing JWK (${P256_JWK_RULE}, and d)`);
  }
  return data;
}

/**
 * `ERR_CONFIG_INVALID` for an auditor setting whose file turns out unusable after the schema accepted it
 * (the TSA's roots), worded like the schema's own.
 */
export function invalidAuditorSetting(pointer: string, problem: string, cause?: unknown): PasserelleError {
  return auditorSettings.invalid(pointer, problem, cause);
}
