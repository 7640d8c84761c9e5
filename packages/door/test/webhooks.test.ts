import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JetStreamApiError, jetstreamManager } from '@nats-io/jetstream';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type DoorEvent } from '../src/index.js';
import { checkWebhookUrl, refusedAddress, webhookConsumerName } from '../src/internal.js';
import { POLL, bearer, http, useDemoDoor, clientToken, postJson } from './fixtures.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback: answers each path with its scripted statuses in turn (then 200). */
async function startReceiver() {
  const received: Received[] = [];
  const scripts = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const script = scripts.get(path);
      res.statusCode =
        script && script.length > 0
          ? script.shift()!
          : scripts.has(`${path}#always`)
            ? scripts.get(`${path}#always`)![0]!
            : 200;
      res.end('thanks');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    at: (path: string) => received.filter((r) => r.path === path),
    /** The next answers to `path`. */
    answer: (path: string, ...statuses: number[]) => scripts.set(path, statuses),
    /** Every answer to `path` from now on. */
    always: (path: string, status: number) => scripts.set(`${path}#always`, [status]),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What a receiver does with a delivery: the Standard Webhooks library's verification. */
function verify(secret: string, delivery: Received): DoorEvent {
  return new Webhook(secret).verify(delivery.body, delivery.headers as Record<string, string>) as DoorEvent;
}

describe('door webhooks', () => {
  const demo = useDemoDoor();
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let reader: string;
  let neighbour: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    reader = await clientToken(demo, 'portal-wib', ['read']);
    neighbour = await clientToken(demo, 'portal-other', ['read']);
  });
  afterAll(async () => {
    await receiver?.close();
  });

  async function subscribe(
    path: string,
    types?: string[],
    token = reader,
  ): Promise<{ id: string; secret: string }> {
    const res = await postJson(demo, token, '/webhooks', {
      url: `${receiver.base}${path}`,
      ...(types ? { types } : {}),
    });
    expect(res.status, res.text).toBe(201);
    return res.json as { id: string; secret: string };
  }

  /** The items at `path` once there are `count` of them (deliveries and dead letters are logged apart). */
  async function itemsOnce<T>(path: string, count: number): Promise<T[]> {
    let items: T[] = [];
    await expect
      .poll(async () => {
        items = (await http(demo, 'GET', path, bearer(reader))).json.items;
        return items.length;
      }, POLL)
      .toBe(count);
    return items;
  }

  const append = (subject: string, happened = 'updated', data?: unknown) =>
    demo.door.append({ resourceType: 'dossiers', happened, subject, data });

  test('webhooks - a delivery is the CloudEvent, signed per Standard Webhooks: the receiver’s library accepts it', async () => {
    const sub = await subscribe('/signed');
    expect(sub.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const shown = await http(demo, 'GET', `/webhooks/${sub.id}`, bearer(reader));
    expect(shown.status).toBe(200);
    expect(shown.json.secret).toBeUndefined();
    expect(shown.text).not.toContain(sub.secret.slice(6));
    const logged = await append('dossier-wh01', 'decided', { outcome: 'granted' });
    await expect.poll(() => receiver.at('/signed').length, POLL).toBe(1);
    const delivery = receiver.at('/signed')[0]!;
    expect(delivery.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(delivery.headers['webhook-id']).toBe(logged.event.id);
    expect(verify(sub.secret, delivery)).toEqual(logged.event);
  });

  test('webhooks - a tampered body, a wrong secret and an old delivery replayed later are refused by the library', async () => {
    const sub = await subscribe('/tamper');
    await append('dossier-wh02', 'decided', { outcome: 'refused' });
    await expect.poll(() => receiver.at('/tamper').length, POLL).toBe(1);
    const delivery = receiver.at('/tamper')[0]!;
    expect(() => verify(sub.secret, delivery)).not.toThrow();
    const tampered = { ...delivery, body: delivery.body.replace('"refused"', '"granted"') };
    expect(tampered.body).not.toBe(delivery.body);
    expect(() => verify(sub.secret, tampered)).toThrow(WebhookVerificationError);
    const other = await subscribe('/tamper-other');
    expect(() => verify(other.secret, delivery)).toThrow(WebhookVerificationError);
    // the same delivery, captured and sent again ten minutes later: its signed timestamp is too old
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 10 * 60_000);
      expect(() => verify(sub.secret, delivery)).toThrow('Message timestamp too old');
    } finally {
      vi.useRealTimers();
    }
  });

  test('webhooks - a failing receiver is retried with growing delays; the delivery log has every attempt', async () => {
    const sub = await subscribe('/retry');
    receiver.answer('/retry', 500, 503);
    const logged = await append('dossier-wh03');
    await expect.poll(() => receiver.at('/retry').length, POLL).toBe(3);
    const arrivals = receiver.at('/retry');
    // the same webhook-id every time: the receiver can drop a repeat
    expect(new Set(arrivals.map((a) => a.headers['webhook-id']))).toEqual(new Set([logged.event.id]));
    for (const arrival of arrivals) expect(verify(sub.secret, arrival)).toEqual(logged.event);
    const log = await itemsOnce<{
      attempt: number;
      status: number;
      outcome: string;
      at: string;
      nextAttemptAt?: string;
    }>(`/webhooks/${sub.id}/deliveries`, 3);
    expect(log.map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [1, 500, 'retrying'],
      [2, 503, 'retrying'],
      [3, 200, 'delivered'],
    ]);
    const gaps = [
      Date.parse(log[1]!.at) - Date.parse(log[0]!.at),
      Date.parse(log[2]!.at) - Date.parse(log[1]!.at),
    ];
    // backoff 50 ms then 100 ms (plus up to 10 % jitter and the time to answer)
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(log[0]!.nextAttemptAt).toBeDefined();
  });

  test('webhooks - after its attempts a delivery is a dead letter; replayed once the receiver is back, it leaves the list', async () => {
    const sub = await subscribe('/dead');
    receiver.always('/dead', 500);
    const logged = await append('dossier-wh04');
    const dead = await itemsOnce<{ eventId: string; attempts: number; lastStatus: number }>(
      `/webhooks/${sub.id}/deadLetters`,
      1,
    );
    expect(dead[0]).toMatchObject({
      eventId: logged.event.id,
      attempts: 3,
      lastStatus: 500,
      position: logged.position,
    });
    expect(receiver.at('/dead')).toHaveLength(3);
    const replayOnce = () =>
      http(demo, 'POST', `/webhooks/${sub.id}/deliveries/${logged.event.id}/replay`, bearer(reader), '{}');
    const failedReplay = await replayOnce();
    expect(failedReplay.json).toMatchObject({ outcome: 'failed', status: 500, replay: true });
    receiver.always('/dead', 200);
    const replay = await replayOnce();
    expect(replay.status).toBe(200);
    expect(replay.json).toMatchObject({
      eventId: logged.event.id,
      outcome: 'delivered',
      status: 200,
      replay: true,
    });
    expect(verify(sub.secret, receiver.at('/dead').at(-1)!)).toEqual(logged.event);
    const after = await http(demo, 'GET', `/webhooks/${sub.id}/deadLetters`, bearer(reader));
    expect(after.json.items).toEqual([]);
  });

  test('webhooks - a replay of everything after a delivered event, or since a time, sends those events again', async () => {
    const sub = await subscribe('/since', ['be.passerelle.demo.v1.dossiers.notify.decided']);
    const first = await append('dossier-wh05', 'decided');
    await append('dossier-wh05', 'updated');
    const second = await append('dossier-wh05', 'decided');
    const third = await append('dossier-wh06', 'decided');
    await expect.poll(() => receiver.at('/since').length, POLL).toBe(3);
    // the types filter held: the update was not sent
    expect(receiver.at('/since').map((r) => verify(sub.secret, r).id)).toEqual([
      first.event.id,
      second.event.id,
      third.event.id,
    ]);
    const replay = await postJson(demo, reader, `/webhooks/${sub.id}/replays`, {
      afterEventId: first.event.id,
    });
    expect(replay.status).toBe(202);
    expect(replay.json).toEqual({ fromPosition: first.position + 1, toPosition: expect.any(Number) });
    await expect.poll(() => receiver.at('/since').length, POLL).toBe(5);
    expect(
      receiver
        .at('/since')
        .slice(3)
        .map((r) => verify(sub.secret, r).id),
    ).toEqual([second.event.id, third.event.id]);
    const since = await postJson(demo, reader, `/webhooks/${sub.id}/replays`, { since: third.event.time });
    expect(since.status).toBe(202);
    await expect.poll(() => receiver.at('/since').length, POLL).toBe(6);
    expect(verify(sub.secret, receiver.at('/since')[5]!).id).toBe(third.event.id);
    const both = await postJson(demo, reader, `/webhooks/${sub.id}/replays`, {
      afterEventId: first.event.id,
      since: third.event.time,
    });
    expect(both.status).toBe(400);
    const unknown = await postJson(demo, reader, `/webhooks/${sub.id}/replays`, {
      afterEventId: '0192d0c4-8f43-7b6e-9a1e-2f0d2c1e4a55',
    });
    expect([unknown.status, unknown.json.code]).toEqual([404, 'ERR_EVENT_NOT_FOUND']);
  });

  test('webhooks - each client sees only its own subscriptions; a deleted one has no consumer left', async () => {
    const sub = await subscribe('/mine');
    for (const [method, path] of [
      ['GET', `/webhooks/${sub.id}`],
      ['GET', `/webhooks/${sub.id}/deliveries`],
      ['DELETE', `/webhooks/${sub.id}`],
    ] as const) {
      const res = await http(demo, method, path, { authorization: `Bearer ${neighbour}` });
      expect([res.status, res.json.type], `${method} ${path}`).toEqual([
        404,
        'urn:problem-type:belgif:resourceNotFound',
      ]);
    }
    const mine = await http(demo, 'GET', '/webhooks', bearer(reader));
    expect(mine.json.items.map((s: { id: string }) => s.id)).toContain(sub.id);
    const theirs = await http(demo, 'GET', '/webhooks', bearer(neighbour));
    expect(theirs.json.items).toEqual([]);
    const deleted = await http(demo, 'DELETE', `/webhooks/${sub.id}`, { authorization: `Bearer ${reader}` });
    expect(deleted.status).toBe(204);
    const jsm = await jetstreamManager(demo.nc);
    await expect(
      jsm.consumers.info(demo.door.events.stream, webhookConsumerName(sub.id)),
    ).rejects.toBeInstanceOf(JetStreamApiError);
    expect((await http(demo, 'GET', `/webhooks/${sub.id}`, bearer(reader))).status).toBe(404);
  });

  test('webhooks - the delivery log is a collection paged by cursor links', async () => {
    const sub = await subscribe('/paged');
    for (let i = 0; i < 3; i++) await append(`dossier-pg0${i}`);
    await expect.poll(() => receiver.at('/paged').length, POLL).toBe(3);
    await itemsOnce(`/webhooks/${sub.id}/deliveries?pageSize=5`, 3);
    const seen: string[] = [];
    let next: string | undefined = `/webhooks/${sub.id}/deliveries?pageSize=2`;
    while (next) {
      const page = await http(demo, 'GET', next.replace(demo.origin, ''), bearer(reader));
      expect(page.status).toBe(200);
      expect(page.json.pageSize).toBe(2);
      seen.push(...page.json.items.map((a: { subject: string }) => a.subject));
      next = page.json.next as string | undefined;
      if (next) expect(next.startsWith(`${demo.origin}/webhooks/`)).toBe(true);
    }
    expect(seen).toEqual(['dossier-pg00', 'dossier-pg01', 'dossier-pg02']);
  });

  test('webhooks - URLs that would make the door call its own network are refused (SSRF)', async () => {
    const refused = [
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/latest/meta-data/',
      'http://[fe80::1]/hook',
      'http://100.100.100.200/latest/meta-data/',
      'http://10.1.2.3/hook',
      'http://192.168.1.10/hook',
      'http://0.0.0.0/hook',
      'ftp://127.0.0.1/hook',
      'http://user:pw@127.0.0.1/hook',
      'http://127.0.0.1/hook#fragment',
      'not a url',
    ];
    for (const url of refused) {
      const res = await postJson(demo, reader, '/webhooks', { url });
      expect(res.status, url).toBe(400);
      expect(res.json, url).toMatchObject({
        type: 'urn:problem-type:belgif:badRequest',
        code: 'ERR_WEBHOOK_URL_REFUSED',
        issues: [expect.objectContaining({ in: 'body', name: '/url' })],
      });
    }
    // the default policy: public https only; loopback (also through a name), private and plain http refused
    await expect(checkWebhookUrl('https://127.0.0.1/hook', {})).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_URL_REFUSED',
    });
    await expect(checkWebhookUrl('https://localhost/hook', {})).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_URL_REFUSED',
    });
    await expect(checkWebhookUrl('http://203.0.113.7/hook', {})).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_URL_REFUSED',
    });
    await expect(checkWebhookUrl('https://203.0.113.7/hook', {})).resolves.toBeInstanceOf(URL);
    expect(refusedAddress('127.0.0.1', {})).toBe('a loopback address');
    expect(refusedAddress('127.0.0.1', { allowLoopback: true })).toBeUndefined();
    expect(refusedAddress('169.254.169.254', { allowLoopback: true, allowPrivate: true })).toBe(
      'a link-local or metadata address',
    );
    expect(refusedAddress('fd00:ec2::254', { allowPrivate: true })).toBe('a link-local or metadata address');
    expect(refusedAddress('10.0.0.1', { allowPrivate: true })).toBeUndefined();
  });
});
