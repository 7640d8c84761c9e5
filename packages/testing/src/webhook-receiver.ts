import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a {@link WebhookReceiver} received. */
export interface WebhookDelivery {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** An integrator's webhook endpoint on loopback, keeping every delivery. */
export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>`: a subscription's URL is this and a path. */
  readonly base: string;
  /** Every delivery so far, in the order received. */
  readonly received: readonly WebhookDelivery[];
  /** The deliveries to `path`. */
  at(path: string): WebhookDelivery[];
  close(): Promise<void>;
}

/**
 * Starts a webhook receiver on a free loopback port: every request is kept and answered `status`
 * (200 unless told).
 *
 * @example
 * ```ts
 * const receiver = await startWebhookReceiver();
 * await client.post('/webhooks', { url: `${receiver.base}/acme` });
 * await vi.waitUntil(() => receiver.at('/acme').length > 0, { timeout: 30_000 });
 * ```
 */
export async function startWebhookReceiver(status = 200): Promise<WebhookReceiver> {
  const received: WebhookDelivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.statusCode = status;
      res.end('thanks');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    at: (path) => received.filter((r) => r.path === path),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
