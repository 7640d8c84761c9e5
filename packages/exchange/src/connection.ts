import { type ConnectionOptions, type NatsConnection, connect } from '@nats-io/transport-node';
import { PasserelleError } from '@passerelle/errors';

/**
 * Oldest nats-server release Passerelle supports: the first of the 2.12 line with the fixes of
 * CVE-2025-30215, CVE-2026-33222 and CVE-2026-33248, and with every server feature the exchange uses
 * (docs/DESIGN.md, "The NATS server"). The harness's pin (`@passerelle/testing`) names the same minimum.
 */
export const MIN_SERVER_VERSION = '2.12.6';

/** Whether dotted version `a` is at least `b`. */
export function versionAtLeast(a: string, b: string): boolean {
  const pa = a.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
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
