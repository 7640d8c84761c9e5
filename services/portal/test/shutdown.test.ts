import { readFileSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type World, integrator, makeWorld, newKey, startPortal, PORTAL } from './fixtures.js';

// Its own server: the test removes the EXCHANGE stream.
describe('portal shutdown', () => {
  const nats = useNatsServer();
  let world: World;

  beforeAll(async () => {
    world = await makeWorld(nats.url, [PORTAL, 'region-bruxelles', 'immigration-office']);
  });
  afterAll(async () => {
    await world?.close();
  });

  test('portal - closing while an application retries its publish answers 503 ERR_NOT_SENT (the closing its cause), without a dossier, and closes', async () => {
    const portal = await startPortal(world, nats.url, PORTAL, { listen: false });
    const app = portal.app;
    const headers = (await integrator(portal, 'acme-hr')).auth;
    const body = JSON.parse(
      readFileSync(
        new URL(
          '../../../schemas/examples/application-submitted.v2/valid-ict-first-application.json',
          import.meta.url,
        ),
        'utf8',
      ),
    ) as { documents: Record<string, unknown> };
    const upload = async (): Promise<unknown> =>
      (
        await app.inject({
          method: 'POST',
          url: '/v1/documents',
          headers: { ...headers, 'content-type': 'application/pdf', 'idempotency-key': newKey() },
          payload: Buffer.from('%PDF-1.7 a document'),
        })
      ).json().document;
    for (const slot of ['passportCopy', 'employmentContract', 'medicalCertificate', 'criminalRecord']) {
      body.documents[slot] = await upload();
    }
    body.documents['healthInsurance'] = {
      form: 'employer-undertaking',
      document: await upload(),
      coversUntil: '2040-12-31',
    };

    // no stream takes the application: its publish retries ("no responders") for half a minute
    await (await jetstreamManager(world.nc)).streams.delete('EXCHANGE');
    // a real HTTP request in flight (Fastify lets those end before its onClose hooks run)
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const answer = fetch(`${address}/v1/dossiers`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': 'shutdown-acme-0001' },
      body: JSON.stringify(body),
    });
    // the application is on its way: the exchange has recorded it in the portal's outbox, and retries
    const outbox = await new Kvm(world.nc).open(`pex-outbox-${PORTAL}`);
    const recorded = async (): Promise<boolean> => {
      for await (const _key of await outbox.keys()) return true;
      return false;
    };
    await vi.waitUntil(recorded, { timeout: 15_000, interval: 20 });
    const closed = app.close();
    const res = await answer;
    expect(res.status).toBe(503);
    // the answer ends its connection, so that the client's keep-alive does not hold the shutdown
    expect(res.headers.get('connection')).toBe('close');
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    const error = (await res.json()) as { code: string; dossierId?: string };
    // no stream took it, so nothing was sent: the dossier it opened goes, and a retry is safe
    expect(error).toMatchObject({ code: 'ERR_NOT_SENT' });
    expect(error.dossierId).toBeUndefined();
    await closed;
  });
});
