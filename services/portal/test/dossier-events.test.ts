import type { DoorEvent } from '@passerelle/door';
import type { IncomingMessage } from '@passerelle/exchange';
import { type WebhookDelivery, type WebhookReceiver, startWebhookReceiver } from '@passerelle/testing';
import { EventSource } from 'eventsource';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { StateCipher } from '@passerelle/service-host';
import { DossierStore, STATUS_EVENT_TYPES, createPortalLogger } from '../src/index.js';
import { PORTAL_EVENT_SERVICE } from '../src/service.js';
import { statusHandlers } from '../src/status-feed.js';
import {
  type PortalClient,
  type TestIntegrator,
  example,
  useFilingPortal,
  SETTLE,
  PORTAL,
  REGION,
  FAMILY_NAME,
} from './fixtures.js';

const TYPE = (happened: string) => `${PORTAL_EVENT_SERVICE}.dossiers.notify.${happened}`;

/** What an integrator's receiver does with a delivery: the Standard Webhooks library's verification. */
function verify(secret: string, delivery: WebhookDelivery): DoorEvent {
  return new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>) as DoorEvent;
}

/** An integrator's SSE client on `GET /events`, collecting what it receives. */
function listen(origin: string, who: TestIntegrator) {
  const received: { id: string; event: DoorEvent }[] = [];
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const source = new EventSource(`${origin}/events`, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init?.headers, ...who.auth } }),
  });
  source.onopen = () => opened();
  source.onmessage = (e) =>
    received.push({ id: e.lastEventId, event: JSON.parse(e.data as string) as DoorEvent });
  return { source, received, open };
}

describe('portal dossier events', () => {
  const filing = useFilingPortal();
  let receiver: WebhookReceiver;
  const streams: EventSource[] = [];

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    for (const s of streams) s.close();
    await receiver?.close();
  });

  const context = { procedure: 'first', scheme: 'ict', regionId: REGION, portalId: PORTAL } as const;

  async function subscribe(client: PortalClient, path: string): Promise<{ id: string; secret: string }> {
    const res = await client.post('/webhooks', { url: `${receiver.base}${path}` });
    expect(res.status, res.text).toBe(201);
    return res.json as { id: string; secret: string };
  }

  test('events - each status change of a dossier reaches its integrator once, by signed webhook and by SSE, and no other integrator', async () => {
    const acmeHook = await subscribe(filing.acme, '/acme');
    const betaHook = await subscribe(filing.beta, '/beta');
    const acmeStream = listen(filing.portal.origin, filing.acmeWho);
    const betaStream = listen(filing.portal.origin, filing.betaWho);
    streams.push(acmeStream.source, betaStream.source);
    await Promise.all([acmeStream.open, betaStream.open]);

    const ours = await filing.file(filing.acme);
    const theirs = await filing.file(filing.beta);
    await vi.waitUntil(
      () => filing.atRegion.has(ours) && filing.atOe.has(ours) && filing.atRegion.has(theirs),
      SETTLE,
    );
    // the region asks for a document, the Immigration Office for the fee, then the region rules complete
    const answer = async (at: Map<string, IncomingMessage>, type: string, name: string, state: string) => {
      await at.get(ours)!.reply(type, example(type, name), { context });
      await vi.waitUntil(
        async () => (await filing.acme.get(`/v1/dossiers/${ours}`)).json.state === state,
        SETTLE,
      );
    };
    await answer(filing.atRegion, 'completeness-ruled', 'valid-missing-items', 'missing-items');
    await answer(filing.atOe, 'fee-payment-requested', 'valid-not-paid', 'fee-payment-requested');
    await filing.atRegion
      .get(ours)!
      .reply('completeness-ruled', example('completeness-ruled', 'valid-complete'), { context });
    await vi.waitUntil(
      async () => (await filing.acme.get(`/v1/dossiers/${ours}`)).json.events.length === 5,
      SETTLE,
    );
    // beta's dossier changes last
    await filing.atRegion
      .get(theirs)!
      .reply('completeness-ruled', example('completeness-ruled', 'valid-missing-items'), { context });

    // webhooks: each verified by the receiver's library, in the dossier's order by its counter
    await vi.waitUntil(() => receiver.at('/acme').length >= 3 && receiver.at('/beta').length >= 1, {
      timeout: 30_000,
    });
    const events = receiver.at('/acme').map((d) => verify(acmeHook.secret, d));
    expect(events.map((e) => e.subject)).toEqual([ours, ours, ours]);
    const ordered = [...events].sort((a, b) => a.subjectseq - b.subjectseq);
    expect(ordered.map((e) => e.subjectseq)).toEqual([1, 2, 3]);
    expect(ordered.map((e) => e.type)).toEqual([
      TYPE(STATUS_EVENT_TYPES['completeness-ruled']),
      TYPE(STATUS_EVENT_TYPES['fee-payment-requested']),
      TYPE(STATUS_EVENT_TYPES['completeness-ruled']),
    ]);
    expect(ordered[0]).toMatchObject({
      specversion: '1.0',
      source: `urn:passerelle:door:${PORTAL}`,
      service: PORTAL_EVENT_SERVICE,
      datacontenttype: 'application/json',
      data: {
        dossierId: ours,
        state: 'missing-items',
        closed: false,
        missingItems: example('completeness-ruled', 'valid-missing-items')['missingItems'],
        message: { type: 'completeness-ruled', from: REGION },
      },
    });
    // the fee request stays the dossier's state until the fee is settled, whatever the region rules
    expect(ordered.map((e) => (e.data as { state: string }).state)).toEqual([
      'missing-items',
      'fee-payment-requested',
      'fee-payment-requested',
    ]);
    for (const d of receiver.at('/acme')) {
      expect(d.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
      expect(d.body).not.toContain(FAMILY_NAME);
    }
    const betaEvents = receiver.at('/beta').map((d) => verify(betaHook.secret, d));
    expect(betaEvents.map((e) => [e.subject, e.subjectseq])).toEqual([[theirs, 1]]);

    // SSE: the same events, each once; beta's stream has only beta's
    await vi.waitUntil(() => acmeStream.received.length >= 3 && betaStream.received.length >= 1, {
      timeout: 30_000,
    });
    expect(acmeStream.received.map((r) => r.event.id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(new Set(acmeStream.received.map((r) => r.id)).size).toBe(3);
    expect(betaStream.received.map((r) => r.event.subject)).toEqual([theirs]);
    expect(betaStream.received[0]!.event).toEqual(betaEvents[0]);
  });

  test('events - a tampered delivery, another secret, and a delivery replayed later are refused by the receiver’s library', async () => {
    const hook = await subscribe(filing.acme, '/tamper');
    const dossierId = await filing.file(filing.acme);
    await vi.waitUntil(() => filing.atRegion.has(dossierId), SETTLE);
    await filing.atRegion
      .get(dossierId)!
      .reply('completeness-ruled', example('completeness-ruled', 'valid-missing-items'), { context });
    await vi.waitUntil(() => receiver.at('/tamper').length === 1, { timeout: 30_000 });
    const delivery = receiver.at('/tamper')[0]!;
    expect(verify(hook.secret, delivery).subject).toBe(dossierId);
    const tampered = { ...delivery, body: delivery.body.replace('"missing-items"', '"admissible"') };
    expect(tampered.body).not.toBe(delivery.body);
    expect(() => verify(hook.secret, tampered)).toThrow(WebhookVerificationError);
    const other = await subscribe(filing.acme, '/tamper-other');
    expect(() => verify(other.secret, delivery)).toThrow(WebhookVerificationError);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 10 * 60_000);
      expect(() => verify(hook.secret, delivery)).toThrow('Message timestamp too old');
    } finally {
      vi.useRealTimers();
    }
  });

  test('events - a message handled again changes the dossier once and is logged once', async () => {
    const dossierId = await filing.file(filing.acme);
    const hook = await subscribe(filing.acme, '/again');
    // the portal's own handlers, as the exchange calls them when it delivers a message again
    const handlers = statusHandlers({
      participant: PORTAL,
      dossiers: await DossierStore.open(
        filing.world.nc,
        PORTAL,
        StateCipher.fromKeyring(filing.world.storage.get(PORTAL)!, 'portal dossiers'),
        { create: false },
      ),
      door: filing.portal.door,
      logger: createPortalLogger({ level: 'silent' }),
    });
    const message = {
      meta: {
        type: 'completeness-ruled',
        sender: REGION,
        id: '0190d1a8-7c1e-7b7e-9d1b-000000000001',
        dossierId,
      },
      payload: example('completeness-ruled', 'valid-missing-items'),
    };
    await handlers['completeness-ruled']!(message);
    await handlers['completeness-ruled']!(message);
    const status = await filing.acme.get(`/v1/dossiers/${dossierId}`);
    expect(
      status.json.events.filter((e: { messageId: string }) => e.messageId === message.meta.id),
    ).toHaveLength(1);
    await vi.waitUntil(() => receiver.at('/again').length >= 1, { timeout: 30_000 });
    const logged = await filing.portal.door.events.page({ subject: dossierId, limit: 10 });
    expect(logged.map((l) => l.event.subjectseq)).toEqual([1]);
    expect(receiver.at('/again').map((d) => verify(hook.secret, d).subject)).toEqual([dossierId]);
  });
});
