/**
 * A TCP relay on loopback between two servers, which a test can cut and restore: the network link of a
 * leaf node to its hub, without stopping either server or disturbing the leaf's local clients.
 */
import { type Server, type Socket, createServer, connect } from 'node:net';

/** A link that can be cut and restored. */
export interface LinkProxy {
  /** The port to dial instead of the target's. */
  readonly port: number;
  /** Drops every relayed connection and refuses new ones until {@link restore}. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** Relays `127.0.0.1:<port>` to `127.0.0.1:<targetPort>`. */
export async function startLinkProxy(targetPort: number): Promise<LinkProxy> {
  let up = true;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the link proxy has no port');
  return {
    port: address.port,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    restore() {
      up = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
