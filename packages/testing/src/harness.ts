import { startNatsContainer } from './container.js';
import { type NatsServerOptions, startNatsServer } from './server.js';

/** What a test needs of a server, whichever way it was started. */
export interface TestNatsServer extends AsyncDisposable {
  readonly url: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts the server tests run against: the local nats-server binary by default, or the official image
 * through testcontainers when `PASSERELLE_TEST_NATS=container` (Docker needed).
 */
export async function startTestServer(
  options: NatsServerOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<TestNatsServer> {
  if (env['PASSERELLE_TEST_NATS'] === 'container') return startNatsContainer();
  return startNatsServer(options);
}
