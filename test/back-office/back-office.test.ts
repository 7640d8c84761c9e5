import { Validator } from '@seriousme/openapi-schema-validator';
import { addDays, toIsoDate } from '@passerelle/procedure';
import { type WebhookReceiver, startWebhookReceiver } from '@passerelle/testing';
import { useNatsServer } from '@passerelle/testing/vitest';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  COMMUNE,
  OE,
  POST,
  REGION,
  type BackOffice,
  type World,
  listenEvents,
  fileWithFee,
  newKey,
  uploadDocument,
  startWorld,
} from './world.js';
import type { DoorCaller } from '../support/door-caller.js';
import { ictFirstApplication } from '../procedure/harness.js';

const POLL = { timeout: 30_000, interval: 100 };
const OFFICER = 'off-3f9a27c1';
const today = (offset = 0): string => addDays(toIsoDate(new Date()), offset);

/** The path of a dossier at a body. */
const dossierPath = (participant: string, dossierId: string): string =>
  `/v1/participants/${participant}/dossiers/${dossierId}`;

/** Takes an action through a back office, as a case-management system does: officer and key in headers. */
function act(
  caller: DoorCaller,
  participant: string,
  dossierId: string,
  action: string,
  body: unknown,
  key = newKey(),
) {
  return caller.call('POST', `${dossierPath(participant, dossierId)}/${action}`, body, {
    'idempotency-key': key,
    'passerelle-officer': OFFICER,
  });
}

/** Waits until the body's worklist, read over HTTP, owes `action` on the dossier. */
async function owed(bo: BackOffice, dossierId: string, action: string): Promise<Record<string, unknown>> {
  let item: Record<string, unknown> | undefined;
  await expect
    .poll(async () => {
      const res = await bo.viewer.call('GET', `/v1/workItems?pageSize=100`);
      expect(res.status, res.text).toBe(200);
      item = (res.json.items as Record<string, unknown>[]).find(
        (i) => i['dossierId'] === dossierId && i['action'] === action,
      );
      return item !== undefined;
    }, POLL)
    .toBe(true);
  return item!;
}

describe('back office - the administrations act through their doors, over HTTP only', () => {
  const nats = useNatsServer();
  let world!: World;
  let receiver!: WebhookReceiver;
  let regionEvents!: ReturnType<typeof listenEvents>;
  const webhookSecrets = new Map<string, string>();

  beforeAll(async () => {
    world = await startWorld(nats.url);
    receiver = await startWebhookReceiver();
    for (const [name, bo] of [
      ['region', world.region],
      ['office', world.office],
    ] as const) {
      const res = await bo.viewer.call('POST', '/webhooks', { url: `${receiver.base}/${name}` });
      expect(res.status, res.text).toBe(201);
      webhookSecrets.set(name, res.json.secret as string);
    }
    regionEvents = listenEvents(world.region.viewer);
    await regionEvents.open;
  });
  afterAll(async () => {
    regionEvents?.source.close();
    await world?.close();
    await receiver?.close();
  });

  test('back office - a dossier from the portal through the region, the Office, the post and the commune', async () => {
    const portal = world.portal.integrator;
    // the integrator uploads the documents and files the application with its fee proof
    const upload = (n: number) => uploadDocument(portal, n);
    const passport = await upload(1);
    // the procedure scenarios' application (to commune 21004 via Lagos), with the documents just uploaded
    const application = ictFirstApplication({
      documents: {
        passportCopy: passport,
        employmentContract: await upload(2),
        healthInsurance: {
          form: 'employer-undertaking',
          document: await upload(3),
          coversUntil: '2040-12-31',
        },
        medicalCertificate: await upload(4),
        criminalRecord: await upload(5),
      },
    });
    const dossierId = await fileWithFee(portal, application, {
      proof: 6,
      paidOn: today(),
      paymentReference: 'FEE-2027-0001',
    });

    // the region: the work authorisation is owed, with its dossier readable and decrypted
    const work = await owed(world.region, dossierId, 'decide-work');
    expect(work['href']).toBe(`${world.region.origin}${dossierPath(REGION, dossierId)}`);
    const regionDossier = await world.region.viewer.call('GET', dossierPath(REGION, dossierId));
    expect(regionDossier.status, regionDossier.text).toBe(200);
    expect(regionDossier.json.phase).toBe('admissible');
    expect(regionDossier.json.available.map((a: { action: string }) => a.action)).toEqual([
      'request-information',
      'decide-work',
    ]);
    const received = regionDossier.json.received as {
      type: string;
      from: string;
      payload: { applicant: { passportNumber: string } };
    }[];
    expect(received.map((r) => r.type)).toEqual(['application-submitted', 'fee-proof-submitted']);
    expect(received[0]!.from).toBe('portal-acme');
    expect(received[0]!.payload.applicant.passportNumber).toBe('A09876543');
    // a document the application referenced, streamed decrypted: the bytes the integrator uploaded
    const listed = (regionDossier.json.documents as { id: string; href: string; pointer: string }[]).find(
      (d) => d.id === passport.sha256,
    );
    expect(listed?.pointer).toBe('/documents/passportCopy');
    const bytes = await world.region.viewer.call('GET', listed!.href);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('content-type')).toBe('application/pdf');
    expect(bytes.headers.get('x-content-type-options')).toBe('nosniff');
    expect(bytes.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(bytes.bytes.toString('utf8')).toMatch(/^%PDF-1\.7 document 1 /);

    // the Office: a residence decision before the work authorisation is out of sequence
    await expect
      .poll(async () => (await world.office.viewer.call('GET', dossierPath(OE, dossierId))).status, POLL)
      .toBe(200);
    const early = await act(world.office.officer, OE, dossierId, 'decideResidence', { decision: 'granted' });
    expect(early.status, early.text).toBe(409);
    expect(early.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(early.json).toMatchObject({
      type: 'urn:problem-type:passerelle:outOfSequence',
      code: 'ERR_OUT_OF_SEQUENCE',
      status: 409,
    });

    // a client without the decide scope is refused; an invalid body is named by its JSON pointers
    const period = { from: today(40), to: today(400) };
    const viewer = await act(world.region.viewer, REGION, dossierId, 'decideWork', {
      decision: 'granted',
      period,
    });
    expect(viewer.status).toBe(403);
    expect(viewer.json).toMatchObject({
      type: 'urn:problem-type:belgif:missingScope',
      code: 'ERR_SCOPE_MISSING',
    });
    const invalid = await act(world.region.officer, REGION, dossierId, 'decideWork', {
      decision: 'granted',
      period: { from: 'soon', to: today(400) },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.json.type).toBe('urn:problem-type:belgif:badRequest');
    expect(invalid.json.issues.map((i: { in: string; name: string }) => `${i.in} ${i.name}`)).toContain(
      'body /period/from',
    );
    expect(invalid.text).not.toContain('soon');

    // the work authorisation, decided once however often the request is retried
    const key = newKey();
    const decideWork = () =>
      act(world.region.officer, REGION, dossierId, 'decideWork', { decision: 'granted', period }, key);
    const decided = await decideWork();
    expect(decided.status, decided.text).toBe(200);
    expect(decided.json).toMatchObject({ action: 'decide-work', phase: 'work-decided' });
    const again = await decideWork();
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(decided.json);
    const afterWork = (await world.region.viewer.call('GET', dossierPath(REGION, dossierId))).json;
    expect(afterWork.decisions).toEqual([
      expect.objectContaining({ action: 'decide-work', by: { clientId: 'region-cms', officerId: OFFICER } }),
    ]);
    expect(afterWork.timeline.at(-1)).toMatchObject({
      kind: 'action',
      type: 'decide-work',
      by: { clientId: 'region-cms', officerId: OFFICER },
      sent: [expect.objectContaining({ type: 'work-authorisation-decided' })],
    });

    // the Office decides residence over HTTP, once it has the work authorisation
    await owed(world.office, dossierId, 'decide-residence');
    const residence = await act(world.office.officer, OE, dossierId, 'decideResidence', {
      decision: 'granted',
    });
    expect(residence.status, residence.text).toBe(200);
    const officeDossier = (await world.office.viewer.call('GET', dossierPath(OE, dossierId))).json;
    expect(
      (officeDossier.received as { type: string }[]).filter((r) => r.type === 'work-authorisation-decided'),
    ).toHaveLength(1);

    // the post issues the visa, the commune registers the arrival and issues the permit
    await owed(world.post, dossierId, 'issue-visa');
    expect((await act(world.post.officer, POST, dossierId, 'issueVisa', {})).status).toBe(200);
    await expect
      .poll(
        async () =>
          (
            (await world.commune.viewer.call('GET', dossierPath(COMMUNE, dossierId))).json?.available as
              { action: string }[] | undefined
          )?.map((a) => a.action),
        POLL,
      )
      .toContain('register-arrival');
    const arrival = await act(world.commune.officer, COMMUNE, dossierId, 'registerArrival', {
      enteredOn: today(41),
      reportedOn: today(42),
    });
    expect(arrival.status, arrival.text).toBe(200);
    // Art. 105/47 §2 al. 2: the residence check is owed first, then the permit
    await owed(world.commune, dossierId, 'check-residence');
    const check = await act(world.commune.officer, COMMUNE, dossierId, 'checkResidence', {
      outcome: 'positive',
      checkedOn: today(42),
    });
    expect(check.status, check.text).toBe(200);
    await owed(world.commune, dossierId, 'issue-permit');
    expect((await act(world.commune.officer, COMMUNE, dossierId, 'issuePermit', {})).status).toBe(200);
    await expect
      .poll(
        async () => (await world.office.viewer.call('GET', dossierPath(OE, dossierId))).json.phase as string,
        POLL,
      )
      .toBe('permit-issued');
    await expect
      .poll(async () => (await portal.call('GET', `/v1/dossiers/${dossierId}`)).json.state as string, POLL)
      .toBe('permit-issued');

    // every step of the region is one event: on its webhook, signed, and on its event stream, once each
    const regionSteps = (await world.region.viewer.call('GET', dossierPath(REGION, dossierId))).json.timeline
      .length as number;
    const forDossier = (path: string) =>
      receiver.received.filter((r) => r.path === path && JSON.parse(r.body).subject === dossierId);
    await expect.poll(() => forDossier('/region').length, POLL).toBe(regionSteps);
    const hook = new Webhook(webhookSecrets.get('region')!);
    const events = forDossier('/region').map(
      (d) =>
        hook.verify(d.body, d.headers as Record<string, string>) as {
          id: string;
          type: string;
          subjectseq: number;
        },
    );
    expect(events.map((e) => e.type)).toContain('be.passerelle.regionalAuthority.v1.dossiers.notify.acted');
    expect(events.map((e) => e.subjectseq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: regionSteps }, (_, i) => i + 1),
    );
    await expect
      .poll(() => regionEvents.received.filter((r) => r.event.subject === dossierId).length, POLL)
      .toBe(regionSteps);
    const streamed = regionEvents.received
      .filter((r) => r.event.subject === dossierId)
      .map((r) => r.event.id);
    expect(new Set(streamed).size).toBe(streamed.length);
    expect(new Set(streamed)).toEqual(new Set(events.map((e) => e.id)));
    expect(forDossier('/office').length).toBeGreaterThan(0);

    // a delivery tampered with, signed with another secret, or replayed later is refused by the library
    const delivery = forDossier('/region')[0]!;
    const headers = delivery.headers as Record<string, string>;
    expect(() => hook.verify(delivery.body.replace(dossierId, 'D-forged-0001'), headers)).toThrow(
      WebhookVerificationError,
    );
    expect(() => new Webhook(webhookSecrets.get('office')!).verify(delivery.body, headers)).toThrow(
      WebhookVerificationError,
    );
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 10 * 60_000);
      expect(() => hook.verify(delivery.body, headers)).toThrow('Message timestamp too old');
    } finally {
      vi.useRealTimers();
    }
  });

  test('back office - every OpenAPI document, the portal’s too, validates with an independent validator', async () => {
    const docs = [world.region, world.office, world.post, world.commune].map((bo) => bo.origin);
    for (const origin of [...docs, world.portal.origin]) {
      const res = await fetch(`${origin}/openapi.json`);
      expect(res.status).toBe(200);
      const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(doc.openapi).toBe('3.1.0');
      const result = await new Validator().validate(doc);
      expect(result.errors ?? [], origin).toEqual([]);
      expect(result.valid).toBe(true);
    }
    // one POST per action of the body's table, beside the worklist and the dossier
    const region = (await (await fetch(`${world.region.origin}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(
      region.paths['/v1/participants/{participantId}/dossiers/{dossierId}/decideWork']?.['post']?.security,
    ).toEqual([{ doorToken: ['decide'] }]);
    expect(region.paths['/v1/workItems']?.['get']?.security).toEqual([{ doorToken: ['read'] }]);
    const commune = (await (await fetch(`${world.commune.origin}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    const actions = world.commune.service.actions().map((a) => a.name);
    expect(actions).toContain('issue-permit');
    for (const action of actions) {
      const segment = action.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
      expect(commune.paths, action).toHaveProperty([
        `/v1/participants/{participantId}/dossiers/{dossierId}/${segment}`,
      ]);
    }
  });

  test('back office - the worklist pages with a cursor and filters; no token, no officer or an unknown dossier is refused', async () => {
    const first = await world.region.viewer.call('GET', '/v1/workItems?pageSize=1');
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ pageSize: 1 });
    const filtered = await world.region.viewer.call(
      'GET',
      `/v1/workItems?participantId=${REGION}&action=decide-work&overdue=true`,
    );
    expect(filtered.status, filtered.text).toBe(200);
    const other = await world.region.viewer.call('GET', '/v1/workItems?participantId=region-vlaanderen');
    expect(other.status).toBe(404);
    const missing = await world.region.viewer.call('GET', dossierPath(REGION, 'D-missing-0001'));
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      type: 'urn:problem-type:belgif:resourceNotFound',
      code: 'ERR_UNKNOWN_DOSSIER',
    });
    // no token, no access; an action without the officer who takes it is refused before anything is decided
    const anonymous = await fetch(`${world.region.origin}/v1/workItems`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { type: string }).type).toBe('urn:problem-type:belgif:noAccessToken');
    const unsigned = await world.region.officer.call(
      'POST',
      `${dossierPath(REGION, 'D-missing-0001')}/decideWork`,
      { decision: 'refused', reason: 'labour-market' },
      { 'idempotency-key': newKey() },
    );
    expect(unsigned.status).toBe(400);
    expect(unsigned.json).toMatchObject({
      code: 'ERR_OFFICER_INVALID',
      issues: [expect.objectContaining({ in: 'header', name: 'Passerelle-Officer' })],
    });
    const named = await act(world.region.officer, REGION, 'D-missing-0001', 'decideWork', {
      decision: 'refused',
      reason: 'labour-market',
    });
    expect(named.status).toBe(404);
    expect(named.json.code).toBe('ERR_UNKNOWN_DOSSIER');
    const bad = await world.region.viewer.call('GET', '/v1/workItems?cursor=forged.x');
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('ERR_CURSOR_INVALID');
  });
});
