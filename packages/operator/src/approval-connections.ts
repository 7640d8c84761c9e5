import type { NatsConnection } from '@nats-io/transport-node';
import type { OperatorHome } from './operator-home.js';

/** Whom a connection of the operator speaks for (see {@link OperatorHome.connect}). */
type Speaker = Parameters<OperatorHome['connect']>[0];

function keyOf(as: Speaker): string {
  return typeof as === 'string' ? as : `admin:${as.admin}`;
}

/**
 * The connections of one lifecycle step, opened as soon as it knows it needs them (a TLS handshake each,
 * overlapping the step's other work) and all closed when it ends, whether it succeeded or not.
 */
export class ApprovalConnections {
  private readonly opened = new Map<string, Promise<NatsConnection>>();

  constructor(
    private readonly home: OperatorHome,
    private readonly servers: string[],
  ) {}

  /** The connection as `as`, opening it on first use. */
  open(as: Speaker): Promise<NatsConnection> {
    const key = keyOf(as);
    let connection = this.opened.get(key);
    if (!connection) {
      connection = this.home.connect(as, this.servers);
      // a connection that failed to open is reported by whoever awaits it, not as an unhandled rejection
      connection.catch(() => undefined);
      this.opened.set(key, connection);
    }
    return connection;
  }

  /** Closes the connection as `as`, if it was opened. */
  async close(as: Speaker): Promise<void> {
    const key = keyOf(as);
    const connection = this.opened.get(key);
    this.opened.delete(key);
    const nc = await connection?.catch(() => undefined);
    await nc?.close();
  }

  /** Closes every connection still open. */
  async closeAll(): Promise<void> {
    const all = [...this.opened.values()];
    this.opened.clear();
    await Promise.all(
      all.map(async (connection) => {
        const nc = await connection.catch(() => undefined);
        await nc?.close();
      }),
    );
  }
}
