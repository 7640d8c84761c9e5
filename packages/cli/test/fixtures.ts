import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats, provisionStreams } from '@passerelle/exchange';

/**
 * A connection to the test server, its streams provisioned as a deployment has them: what a CLI command
 * then reads is what the test publishes there. The test closes `nc`.
 */
export async function connectProvisioned(
  url: string,
): Promise<{ nc: NatsConnection; jsm: JetStreamManager; js: JetStreamClient }> {
  const nc = await connectNats({ servers: url });
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  await provisionStreams(jsm);
  return { nc, jsm, js: jetstream(nc) };
}
