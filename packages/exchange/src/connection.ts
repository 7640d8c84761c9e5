import type { JetStreamManager } from '@nats-io/jetstream';
import { type ConnectionOptions, type NatsConnection, connect } from '@nats-io/transport-node';
import { PasserelleError } from '@passerelle/errors';
import semver from 'semver';

/**
 * Oldest nats-server release Passerelle supports: the first of the 2.12 line with the fixes of
 * CVE-2025-30215, CVE-2026-33222 and CVE-2026-33248, and with every server feature the exchange uses
 * (docs/DESIGN.md, "The NATS server"). The harness's pin (`@passerelle/testing`) names the same minimum.
 */
export const MIN_SERVER_VERSION = '2.12.6';

/** Whether dotted version `a` is at least `b` (major, minor, patch; a pre-release counts as its release). */
export function versionAtLeast(a: string, b: string): boolean {
  return semver.gte(semver.coerce(a) ?? '0.0.0', semver.coerce(b) ?? '0.0.0');
}

/** Throws `ERR_SERVER_VERSION` when the connected server is older than {@link MIN_SERVER_VERSION}. */
export function assertServerVersion(nc: NatsConnection): string {
  const version = nc.info?.version ?? '0.0.0';
  if (!versionAtLeast(version, MIN_SERVER_VERSION)) {
    throw new PasserelleError(
      'ERR_SERVER_VERSION',
      `nats-server ${version} at ${nc.getServer()} is too old: Passerelle needs ${MIN_SERVER_VERSION} or newer.`,
      { details: { version } },
    );
  }
  return version;
}

/**
 * The JetStream API level the exchange needs: 2, that of nats-server 2.12, whose features the streams use
 * (per-message TTL, level 1) or may use. A server says its level in every account info answer.
 */
export const REQUIRED_JS_API_LEVEL = 2;

/**
 * Throws `ERR_SERVER_VERSION` unless the JetStream API that answers is at {@link REQUIRED_JS_API_LEVEL} or
 * above: a server's version string can be patched or hidden by a proxy, its API level is what it serves.
 */
export async function assertJetStreamApiLevel(jsm: JetStreamManager): Promise<number> {
  const level = (await jsm.getAccountInfo()).api.level ?? 0;
  if (level < REQUIRED_JS_API_LEVEL) {
    throw new PasserelleError(
      'ERR_SERVER_VERSION',
      `The JetStream API answers at level ${level}; Passerelle needs level ${REQUIRED_JS_API_LEVEL} (nats-server ${MIN_SERVER_VERSION} or newer).`,
      { details: { level, required: REQUIRED_JS_API_LEVEL } },
    );
  }
  return level;
}

/**
 * Connects to NATS and refuses servers older than {@link MIN_SERVER_VERSION}.
 *
 * @example
 * ```ts
 * const nc = await connectNats({ servers: 'nats://127.0.0.1:4222', name: 'commune-21004' });
 * ```
 */
export async function connectNats(options: ConnectionOptions): Promise<NatsConnection> {
  const nc = await connect(options);
  try {
    assertServerVersion(nc);
  } catch (err) {
    await nc.close();
    throw err;
  }
  return nc;
}
