import { createLogger } from '@passerelle/exchange';
import {
  type ImmigrationOfficeService,
  createImmigrationOfficeService,
} from '@passerelle/immigration-office';
import { addDays, toIsoDate } from '@passerelle/procedure';
import { type DeadlineScans, scheduleDeadlineScans } from '@passerelle/service-host';
import { freeLoopbackPort } from '@passerelle/testing';
import { useNatsServer } from '@passerelle/testing/vitest';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  COMMUNE,
  OE,
  PORTAL,
  REGION,
  TEST_CONSUMER,
  fileWithFee,
  uploadDocument,
  participantsOf,
  startBackOffice,
  startPortal,
} from './world.js';
import type { DoorCaller } from '../support/door-caller.js';
import { type WebhookReceiver, startWebhookReceiver } from '@passerelle/testing';

const POLL = { timeout: 30_000, interval: 100 };

/** What a webhook receiver got, verified with the subscription's Standard Webhooks secret. */
function verified(receiver: WebhookReceiver, path: string, secret: string) {
  const hook = new Webhook(secret);
  return receiver.at(path).map(
    (r) =>
      hook.verify(r.body, r.headers as Record<string, string>) as {
        type: string;
        subject: string;
        data: Record<string, unknown>;
      },
  );
}

describe('deadlines - an overrun reaches the body and the integrator, once', () => {
  const nats = useNatsServer();
  // the services' clock: today, until the test moves it past the deadline
  let clock = new Date();
  const realToday = toIsoDate(new Date());
  const running: { close(): Promise<void> }[] = [];
  let receiver!: WebhookReceiver;
  let integrator!: DoorCaller;
  let officer!: DoorCaller;
  let officeMetrics!: string;
  let office!: ImmigrationOfficeService;
  let scans: DeadlineScans | undefined;
  let startOffice!: () => Promise<ImmigrationOfficeService>;

  beforeAll(async () => {
    const { keys, storage, directory, contracts } = await participantsOf([PORTAL, OE, REGION, COMMUNE]);
    const consumer = TEST_CONSUMER;
    const metricsPort = await freeLoopbackPort();
    officeMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
    startOffice = () =>
      createImmigrationOfficeService({
        participants: [keys.get(OE)!],
        storageKeys: [storage.get(OE)!],
        directory,
        contracts,
        servers: nats.url,
        consumer,
        outboxRetryMs: 250,
        metricsPort,
        now: () => clock,
        logger: createLogger('office', { level: 'silent' }),
      });
    office = await startOffice();
    running.push({ close: () => office.close() });
    ({ officer } = await startBackOffice(office, contracts, 'office', running));

    ({ integrator } = await startPortal(nats.url, { keys, storage, directory, contracts }, running));
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await scans?.close();
    for (const r of running.reverse()) await r.close().catch(() => undefined);
    await receiver?.close();
  });

  test("Art. 26/2 §3 - a family member's 90 days overrun: the Office's worklist, metric and event, the integrator's status and signed event; once, across scans and a restart", async () => {
    // webhooks: the integrator's on the portal, the body's case system on the back office
    const hooks = new Map<string, string>();
    for (const [name, caller] of [
      ['integrator', integrator],
      ['office', officer],
    ] as const) {
      const res = await caller.call('POST', '/webhooks', { url: `${receiver.base}/${name}` });
      expect(res.status, res.text).toBe(201);
      hooks.set(name, res.json.secret as string);
    }
    const upload = (n: number) => uploadDocument(integrator, n);
    const requestedPeriod = { from: addDays(realToday, 40), to: addDays(realToday, 400) };
    const dossierId = await fileWithFee(
      integrator,
      {
        category: 'ict',
        procedure: 'first',
        workplaceCommuneId: COMMUNE,
        residenceCommuneId: COMMUNE,
        familyMemberOf: { scheme: 'transfer' },
        applicant: {
          familyName: 'Okafor',
          givenNames: 'Chidi',
          birthDate: '2015-04-12',
          nationality: 'NGA',
          passportNumber: 'A07654321',
          email: 'chidi@example.org',
          passportExpiresOn: '2040-12-31',
        },
        employer: { name: 'Acme Engineering SA', enterpriseNumber: '0403170701', email: 'hr@example.com' },
        requestedPeriod,
        documents: {
          passportCopy: await upload(1),
          healthInsurance: { form: 'insurer', document: await upload(2), coversUntil: '2040-12-31' },
          familyLink: await upload(3),
        },
        submittedAt: new Date().toISOString(),
      },
      { proof: 4, paidOn: realToday, paymentReference: 'FEE-2027-0002' },
    );
    const worklist = async (query: string) => {
      const res = await officer.call('GET', `/v1/workItems?pageSize=100&${query}`);
      expect(res.status, res.text).toBe(200);
      return (res.json.items as Record<string, unknown>[]).filter((i) => i['dossierId'] === dossierId);
    };
    // the residence decision is owed within the 90 days from the application; nothing overdue yet
    const due = addDays(realToday, 90);
    await expect.poll(async () => (await worklist('action=decide-residence')).length, POLL).toBe(1);
    expect((await worklist('overdue=false'))[0]).toMatchObject({ action: 'decide-residence', deadline: due });

    // the services' clock moves past the deadline; the scans `pnpm start` and the service processes run
    clock = new Date(`${addDays(realToday, 100)}T10:00:00Z`);
    scans = scheduleDeadlineScans(office, {
      intervalMs: 3_600_000,
      logger: createLogger('t', { level: 'silent' }),
    });
    await scans!.scan();
    await scans!.scan(); // a second scan reports nothing more

    // the body: its worklist shows the action overdue, its metrics count the overrun and the overdue action
    const overdue = await worklist('overdue=true');
    expect(overdue).toEqual([expect.objectContaining({ action: 'decide-residence', deadline: due })]);
    expect(overdue[0]!['workingDaysLeft']).toBeLessThan(0);
    const metrics = await (await fetch(officeMetrics)).text();
    expect(metrics).toMatch(
      /pex_deadline_overruns_total\{deadline="family-decision",participant="immigration-office"\} 1\n/,
    );
    expect(metrics).toMatch(
      /pex_worklist_overdue\{action="decide-residence",participant="immigration-office"\} 1\n/,
    );
    // … and its case system the deadline step, signed, as a back-office event
    await expect
      .poll(
        () => verified(receiver, '/office', hooks.get('office')!).filter((e) => e.subject === dossierId),
        POLL,
      )
      .toContainEqual(
        expect.objectContaining({
          type: expect.stringMatching(/\.dossiers\.notify\.expired$/),
          data: expect.objectContaining({
            step: 'deadline',
            type: 'decision-deadline',
            summary: 'family-decision',
          }),
        }),
      );

    // the integrator: the dossier's status names the deadline passed, and a signed CloudEvent said so
    await expect
      .poll(
        async () => (await integrator.call('GET', `/v1/dossiers/${dossierId}`)).json.overdue as unknown,
        POLL,
      )
      .toEqual([
        {
          deadline: 'family-decision',
          article: 'AR 8.10.1981 Art. 26/2 §3, 26/2/1 §3',
          dueOn: due,
          reportedOn: addDays(realToday, 100),
          reportedBy: OE,
        },
      ]);
    await expect
      .poll(
        () =>
          verified(receiver, '/integrator', hooks.get('integrator')!).filter((e) => e.subject === dossierId),
        POLL,
      )
      .toContainEqual(
        expect.objectContaining({
          type: expect.stringMatching(/\.dossiers\.notify\.deadlinePassed$/),
          data: expect.objectContaining({
            overdue: [expect.objectContaining({ deadline: 'family-decision' })],
          }),
        }),
      );
    // no personal data in what the integrator's event carries
    const events = verified(receiver, '/integrator', hooks.get('integrator')!);
    expect(JSON.stringify(events)).not.toMatch(/Okafor|Chidi|A07654321/);

    // a restarted Office reports nothing again: the dossier keeps the overrun it reported
    await scans!.close();
    scans = undefined;
    await office.close();
    office = await startOffice();
    expect(await office.checkDeadlines()).toEqual([]);
    const status = await integrator.call('GET', `/v1/dossiers/${dossierId}`);
    expect(
      (status.json.events as { type: string }[]).filter((e) => e.type === 'deadline-overrun'),
    ).toHaveLength(1);
  });
});
