import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startTestServer, type TestNatsServer } from './harness.js';
import type { NatsServerOptions } from './server.js';

/**
 * Starts one real server for the enclosing `describe` (or file): before all its tests, stopped and
 * cleaned after them. When a test fails, the server's log is printed beside the failure.
 *
 * @example
 * ```ts
 * const nats = useNatsServer();
 * test('exchange - publishes', async () => {
 *   const nc = await connect({ servers: nats.url });
 * });
 * ```
 */
export function useNatsServer(options: NatsServerOptions = {}): {
  readonly url: string;
  readonly server: TestNatsServer;
} {
  let server: TestNatsServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  }, 30_000);
  beforeEach((ctx) => {
    ctx.onTestFailed(() => {
      if (server) console.error(`--- nats-server log (${server.url}) ---\n${server.log()}`);
    });
  });
  return {
    get url() {
      if (!server) throw new Error('useNatsServer(): the server is used before beforeAll ran');
      return server.url;
    },
    get server() {
      if (!server) throw new Error('useNatsServer(): the server is used before beforeAll ran');
      return server;
    },
  };
}
