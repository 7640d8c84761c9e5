import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { DoorEvent } from './cloud-event.js';
import { type WebhookUrlPolicy, guardedLookup, refusedAddress } from './webhook-url.js';

/** What a delivery attempt got back. */
export interface SendResult {
  ok: boolean;
  status?: number;
  error?: string;
  durationMs: number;
}

/** The media type of a structured-mode CloudEvent (CloudEvents HTTP binding). */
export const CLOUDEVENTS_MEDIA_TYPE = 'application/cloudevents+json; charset=utf-8';

/** What is read of a receiver's answer: its status only; its body is drained up to this size, then cut. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The body and headers of one delivery: the CloudEvent in structured JSON, signed per Standard Webhooks
 * with the `standardwebhooks` library (`webhook-id` the event id, the same on every attempt so that the
 * receiver drops a repeat; `webhook-timestamp` the attempt's time; `webhook-signature` `v1,<HMAC-SHA256>`).
 *
 * @example
 * ```ts
 * const { body, headers } = signedDelivery(event, 'whsec_…', new Date());
 * ```
 */
export function signedDelivery(
  event: DoorEvent,
  secret: string,
  at: Date,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(event);
  const signature = new Webhook(secret).sign(event.id, at, body);
  return {
    body,
    headers: {
      'content-type': CLOUDEVENTS_MEDIA_TYPE,
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}

/**
 * POSTs one signed delivery and reports what came back: `ok` for a 2xx, the status otherwise, or a fixed
 * word for no answer (`timeout`, `connection refused`, `address refused`, `connection failed`). Redirects
 * are not followed; the address connected to is checked against the policy (no DNS rebinding).
 */
export function sendDelivery(
  url: URL,
  delivery: { body: string; headers: Record<string, string> },
  options: { policy: WebhookUrlPolicy; timeoutMs: number },
): Promise<SendResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // an address written in the URL is not resolved: check it here (the policy may have changed since)
  if (isIP(host) && refusedAddress(host, options.policy)) {
    return Promise.resolve({ ok: false, error: 'address refused', durationMs: elapsed() });
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: Omit<SendResult, 'durationMs'>): void => {
      if (settled) return;
      settled = true;
      resolve({ ...result, durationMs: elapsed() });
    };
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...delivery.headers, 'content-length': String(Buffer.byteLength(delivery.body)) },
        lookup: guardedLookup(options.policy),
        timeout: options.timeoutMs,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let read = 0;
        res.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        const done = (): void => settle({ ok: status >= 200 && status < 300, status });
        res.on('end', done);
        res.on('close', done);
        res.on('error', done);
      },
    );
    req.on('timeout', () => {
      settle({ ok: false, error: 'timeout' });
      req.destroy();
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      settle({
        ok: false,
        error:
          err.code === 'EADDRREFUSED'
            ? 'address refused'
            : err.code === 'ECONNREFUSED'
              ? 'connection refused'
              : 'connection failed',
      });
    });
    req.end(delivery.body);
  });
}
