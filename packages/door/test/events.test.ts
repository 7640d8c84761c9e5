import { randomUUID } from 'node:crypto';
import { EventSource } from 'eventsource';
import { beforeAll, describe, expect, test } from 'vitest';
import { type DoorEvent } from '../src/index.js';
import { SUBJECT_SEQUENCE_ATTRIBUTE, buildDoorEvent, checkDoorEvent } from '../src/internal.js';
import {
  type DemoDoor,
  POLL,
  bearer,
  http,
  makeClient,
  tokenFor,
  useDemoDoor,
  clientToken,
} from './fixtures.js';

const ORIGIN = { service: 'be.passerelle.demo.v1', source: 'urn:passerelle:door:demo' };

/** An SSE connection with a token, collecting what it receives. */
function listen(demo: DemoDoor, token: () => string, query = '', lastEventId?: string) {
  const received: { id: string; event: DoorEvent }[] = [];
  let opened!: () => void;
  const open = new Promise<void>((resolve) => (opened = resolve));
  const errors: unknown[] = [];
  const source = new EventSource(`${demo.origin}/events${query}`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers: {
          ...init?.headers,
          authorization: `Bearer ${token()}`,
          ...(lastEventId && !(init?.headers as Record<string, string> | undefined)?.['Last-Event-ID']
            ? { 'last-event-id': lastEventId }
            : {}),
        },
      }),
  });
  source.onopen = () => opened();
  source.onerror = (e) => errors.push(e);
  source.onmessage = (e) =>
    received.push({ id: e.lastEventId, event: JSON.parse(e.data as string) as DoorEvent });
  return { source, received, open, errors };
}

describe('door events', () => {
  let reader: string;
  const demo = useDemoDoor({
    // a client reads the events of the dossiers whose id does not end with 9 (a stand-in for ownership)
    canRead: (client, event) => client.id !== 'partial-reader' || !event.subject.endsWith('9'),
  });

  beforeAll(async () => {
    reader = await clientToken(demo, 'reader', ['read']);
  });

  test('events - a CloudEvent with the Belgif attributes, checked by the cloudevents SDK', () => {
    const event = buildDoorEvent(
      ORIGIN,
      {
        resourceType: 'dossiers',
        happened: 'decided',
        subject: 'dossier-0001',
        data: { outcome: 'granted' },
      },
      1,
    );
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'be.passerelle.demo.v1.dossiers.notify.decided',
      service: 'be.passerelle.demo.v1',
      source: 'urn:passerelle:door:demo',
      subject: 'dossier-0001',
      datacontenttype: 'application/json',
      [SUBJECT_SEQUENCE_ATTRIBUTE]: 1,
    });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(Date.parse(event.time)).not.toBeNaN();
    const bad: [string, () => unknown][] = [
      [
        'subject with a name',
        () =>
          buildDoorEvent(
            ORIGIN,
            { resourceType: 'dossiers', happened: 'decided', subject: 'Jan Peeters' },
            1,
          ),
      ],
      [
        'subject with an e-mail',
        () => buildDoorEvent(ORIGIN, { resourceType: 'dossiers', happened: 'decided', subject: 'a@b.be' }, 1),
      ],
      [
        'type not lowerCamelCase',
        () => buildDoorEvent(ORIGIN, { resourceType: 'Dossiers', happened: 'decided', subject: 'd-1' }, 1),
      ],
      [
        'service without version',
        () =>
          buildDoorEvent(
            { ...ORIGIN, service: 'be.passerelle.demo' },
            { resourceType: 'dossiers', happened: 'decided', subject: 'd-1' },
            1,
          ),
      ],
      [
        'source not a URN',
        () =>
          buildDoorEvent(
            { ...ORIGIN, source: 'demo' },
            { resourceType: 'dossiers', happened: 'decided', subject: 'd-1' },
            1,
          ),
      ],
      [
        'id not a UUID',
        () =>
          buildDoorEvent(
            ORIGIN,
            { resourceType: 'dossiers', happened: 'decided', subject: 'd-1', id: '42' },
            1,
          ),
      ],
      [
        'counter zero',
        () => buildDoorEvent(ORIGIN, { resourceType: 'dossiers', happened: 'decided', subject: 'd-1' }, 0),
      ],
      ['no specversion', () => checkDoorEvent({ ...event, specversion: undefined })],
      ['extension name in capitals', () => checkDoorEvent({ ...event, SubjectSeq: 2 })],
    ];
    for (const [what, build] of bad)
      expect(build, what).toThrow(expect.objectContaining({ code: 'ERR_EVENT_INVALID' }));
  });

  test('events - each subject counts its own events 1, 2, 3…, even when appends to it race', async () => {
    const subject = `dossier-race-${randomUUID().slice(0, 8)}`;
    const appended = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        demo.door.append({ resourceType: 'dossiers', happened: 'updated', subject, data: { i } }),
      ),
    );
    expect(appended.map((a) => a.event.subjectseq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    // the log's order is the counter's order
    const inLog = await demo.door.events.page({ after: 0, subject, limit: 100 });
    expect(inLog.map((l) => l.event.subjectseq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const another = await demo.door.append({
      resourceType: 'dossiers',
      happened: 'updated',
      subject: `${subject}-b`,
    });
    expect(another.event.subjectseq).toBe(1);
    // nothing after the end, nothing of a subject never seen, nothing since a time to come
    expect(await demo.door.events.page({ after: await demo.door.events.lastPosition(), limit: 5 })).toEqual(
      [],
    );
    expect(await demo.door.events.page({ after: 0, subject: 'never-seen', limit: 5 })).toEqual([]);
    expect(await demo.door.events.page({ since: new Date(Date.now() + 3_600_000), limit: 5 })).toEqual([]);
  });

  test('events - the counter goes on from where it was when the subject’s events are gone from the stream', async () => {
    const subject = `dossier-purged-${randomUUID().slice(0, 8)}`;
    for (let i = 0; i < 3; i++)
      await demo.door.append({ resourceType: 'dossiers', happened: 'updated', subject });
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const jsm = await jetstreamManager(demo.nc);
    await jsm.streams.purge(demo.door.events.stream, { filter: demo.door.events.subjectOf(subject) });
    const next = await demo.door.append({ resourceType: 'dossiers', happened: 'updated', subject });
    expect(next.event.subjectseq).toBe(4);
  });

  test('events - an event appended again with the same id is logged once', async () => {
    const id = randomUUID();
    const first = await demo.door.append({
      resourceType: 'dossiers',
      happened: 'decided',
      subject: 'dossier-dup1',
      id,
    });
    const again = await demo.door.append({
      resourceType: 'dossiers',
      happened: 'decided',
      subject: 'dossier-dup1',
      id,
    });
    expect(again.position).toBe(first.position);
    expect(again.event).toEqual(first.event);
    expect(await demo.door.events.page({ after: 0, subject: 'dossier-dup1', limit: 10 })).toHaveLength(1);
  });

  test('events - SSE: every event once, in order, with its log position as id; Last-Event-ID resumes after it', async () => {
    const sse = listen(demo, () => reader, '?subject=dossier-sse1');
    await sse.open;
    const logged = [];
    for (let i = 0; i < 5; i++) {
      logged.push(
        await demo.door.append({
          resourceType: 'dossiers',
          happened: 'updated',
          subject: 'dossier-sse1',
          data: { i },
        }),
      );
    }
    await demo.door.append({ resourceType: 'dossiers', happened: 'updated', subject: 'dossier-other' });
    await expect.poll(() => sse.received.length, POLL).toBe(5);
    expect(sse.received.map((r) => r.id)).toEqual(logged.map((l) => String(l.position)));
    expect(sse.received.map((r) => r.event)).toEqual(logged.map((l) => l.event));
    sse.source.close();

    // a client that saw up to the second event comes back: it gets the third, fourth and fifth, once
    const resumed = listen(demo, () => reader, '?subject=dossier-sse1', String(logged[1]!.position));
    await resumed.open;
    await expect.poll(() => resumed.received.length, POLL).toBe(3);
    expect(resumed.received.map((r) => r.event.subjectseq)).toEqual([3, 4, 5]);
    const sixth = await demo.door.append({
      resourceType: 'dossiers',
      happened: 'closed',
      subject: 'dossier-sse1',
    });
    await expect.poll(() => resumed.received.length, POLL).toBe(4);
    expect(resumed.received[3]!.id).toBe(String(sixth.position));
    resumed.source.close();
  });

  test('events - SSE: types narrow the stream, the read policy scopes it, heartbeats are comments', async () => {
    const partial = await clientToken(demo, 'partial-reader', ['read']);
    const decided = listen(demo, () => reader, '?types=be.passerelle.demo.v1.dossiers.notify.decided');
    const scoped = listen(demo, () => partial);
    await Promise.all([decided.open, scoped.open]);
    await demo.door.append({ resourceType: 'dossiers', happened: 'updated', subject: 'dossier-t001' });
    await demo.door.append({ resourceType: 'dossiers', happened: 'decided', subject: 'dossier-t001' });
    await demo.door.append({ resourceType: 'dossiers', happened: 'decided', subject: 'dossier-t009' });
    await expect.poll(() => decided.received.length, POLL).toBe(2);
    expect(decided.received.map((r) => r.event.subject)).toEqual(['dossier-t001', 'dossier-t009']);
    await expect.poll(() => scoped.received.length, POLL).toBe(2);
    expect(scoped.received.map((r) => r.event.subject)).toEqual(['dossier-t001', 'dossier-t001']);
    decided.source.close();
    scoped.source.close();

    // the raw stream: a comment first, heartbeats as comments, `id:` and one `data:` line per event
    const controller = new AbortController();
    const res = await fetch(`${demo.origin}/events?subject=dossier-raw1`, {
      headers: { authorization: `Bearer ${reader}` },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader2 = res.body!.getReader();
    let text = '';
    const logged = await demo.door.append({
      resourceType: 'dossiers',
      happened: 'updated',
      subject: 'dossier-raw1',
    });
    while (!text.includes(': heartbeat') || !text.includes('data: ')) {
      const { value } = await reader2.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text.startsWith(': stream open\n\n')).toBe(true);
    expect(text).toContain(`id: ${logged.position}\ndata: ${JSON.stringify(logged.event)}\n\n`);
  });

  test('events - SSE: no token is 401; a read scope is needed; a revoked client’s open stream ends', async () => {
    expect((await http(demo, 'GET', '/events')).status).toBe(401);
    const decider = await clientToken(demo, 'decider-only', ['decide']);
    expect((await http(demo, 'GET', '/events', bearer(decider))).status).toBe(403);
    const bad = await http(demo, 'GET', '/events', bearer(reader, { 'last-event-id': 'yesterday' }));
    expect(bad.status).toBe(400);

    const admin = await clientToken(demo, 'door-admin', ['admin']);
    const doomed = await makeClient(demo, 'doomed-reader', ['read']);
    const doomedToken = await tokenFor(demo, doomed);
    const controller = new AbortController();
    const res = await fetch(`${demo.origin}/events`, {
      headers: { authorization: `Bearer ${doomedToken}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const body = res.body!.getReader();
    await body.read();
    expect((await http(demo, 'POST', '/clients/doomed-reader/revoke', bearer(admin), '{}')).status).toBe(200);
    // the stream ends at the next heartbeat's check
    for (;;) {
      const { done } = await body.read();
      if (done) break;
    }
    controller.abort();
  });
});
