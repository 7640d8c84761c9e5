import { jetstreamManager } from '@nats-io/jetstream';
import { connectNats } from '@passerelle/exchange';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { runCliCaptured as capture } from '../src/internal.js';
import { connectProvisioned } from './fixtures.js';

const DOSSIER = '0190d1a8-7c1e-4b7e-9d1b-3c3f2e6a1b20';
const OTHER = '0190d1a8-0000-4000-8000-00000000ffff';

function envelope(id: string, type: string, sender: string, recipient: string, dossierId: string) {
  return JSON.stringify({
    meta: {
      id,
      type,
      schemaVersion: 1,
      sender,
      recipient,
      dossierId,
      issuedAt: '2026-11-26T10:00:00.000Z',
      correlationId: id,
      causationId: null,
    },
    jwe: 'SECRET-CIPHERTEXT-Moreau-Okafor',
    seal: 'a.b.c',
  });
}

function receipt(messageId: string, type: string, sender: string, receiver: string, dossierId: string) {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', kid: 'k', typ: 'pex-receipt+jws' })}.${part({
    messageId,
    type,
    dossierId,
    sender,
    receiver,
    envelopeSha256: '0'.repeat(64),
    receivedAt: '2026-11-26T10:00:00.250Z',
    status: 'accepted',
  })}.sig`;
}

describe('passerelle dossier trace', () => {
  const nats = useNatsServer();
  afterEach(() => vi.restoreAllMocks());

  test('dossier trace - prints the dossier’s envelopes with their receipts, meta only, other dossiers left out', async () => {
    const { nc, js } = await connectProvisioned(nats.url);
    const pub = async (subject: string, body: string, msgID: string) => js.publish(subject, body, { msgID });
    const m1 = '0190f5c2-aaaa-7bbb-8ccc-000000000001';
    const m2 = '0190f5c2-aaaa-7bbb-8ccc-000000000002';
    const m3 = '0190f5c2-aaaa-7bbb-8ccc-000000000003';
    await pub(
      'pex.msg.application-submitted.portal-demo.region-bruxelles',
      envelope(m1, 'application-submitted', 'portal-demo', 'region-bruxelles', DOSSIER),
      m1,
    );
    await pub(
      'pex.msg.application-submitted.portal-demo.region-wallonie',
      envelope(m3, 'application-submitted', 'portal-demo', 'region-wallonie', OTHER),
      m3,
    );
    await pub(
      'pex.rcpt.region-bruxelles.portal-demo',
      receipt(m1, 'application-submitted', 'portal-demo', 'region-bruxelles', DOSSIER),
      `rcpt-${m1}`,
    );
    await pub(
      'pex.msg.completeness-ruled.region-bruxelles.portal-demo',
      envelope(m2, 'completeness-ruled', 'region-bruxelles', 'portal-demo', DOSSIER),
      m2,
    );
    await nc.close();

    const text = await capture(['dossier', 'trace', DOSSIER, '--server', nats.url]);
    expect(text.code).toBe(0);
    const lines = text.out.split('\n');
    expect(lines[0]).toContain(`dossier ${DOSSIER}: 2 messages, 1 receipted`);
    expect(lines[1]).toMatch(
      /application-submitted\s+portal-demo → region-bruxelles\s+0190f5c2-aaaa-7bbb-8ccc-000000000001\s+receipt 10:00:00.250 \(\+250 ms\)/,
    );
    expect(lines[2]).toMatch(
      /completeness-ruled\s+region-bruxelles → portal-demo\s+0190f5c2-aaaa-7bbb-8ccc-000000000002\s+no receipt yet/,
    );
    expect(text.out).not.toContain(m3);
    expect(text.out).not.toContain('SECRET-CIPHERTEXT');

    const json = await capture(['dossier', 'trace', DOSSIER, '--server', nats.url, '--json']);
    const trace = JSON.parse(json.out);
    expect(trace.messages.map((m: { type: string }) => m.type)).toEqual([
      'application-submitted',
      'completeness-ruled',
    ]);
    expect(trace.messages[0].receipt).toMatchObject({
      receiver: 'region-bruxelles',
      receivedAt: '2026-11-26T10:00:00.250Z',
    });
    expect(trace.scanned).toBe(4);
    expect(json.out).not.toContain('SECRET-CIPHERTEXT');

    const none = await capture(['dossier', 'trace', 'no-such-dossier-0000', '--server', nats.url]);
    expect(none.code).toBe(1);
    expect(none.out).toContain('0 messages');
  });

  test('dossier trace --since - reads only what the stream stored since then; a time after the last message reads nothing and returns', async () => {
    const { nc, js } = await connectProvisioned(nats.url);
    const dossier = '0190d1a8-7c1e-4b7e-9d1b-3c3f2e6a9999';
    const early = '0190f5c2-bbbb-7bbb-8ccc-000000000001';
    const late = '0190f5c2-bbbb-7bbb-8ccc-000000000002';
    const subject = 'pex.msg.application-submitted.portal-demo.region-bruxelles';
    await js.publish(
      subject,
      envelope(early, 'application-submitted', 'portal-demo', 'region-bruxelles', dossier),
      {
        msgID: early,
      },
    );
    await new Promise((r) => setTimeout(r, 1_100));
    const between = new Date();
    await new Promise((r) => setTimeout(r, 100));
    await js.publish(
      subject,
      envelope(late, 'application-submitted', 'portal-demo', 'region-bruxelles', dossier),
      {
        msgID: late,
      },
    );
    await nc.close();

    type Trace = { messages: { messageId: string }[]; scanned: number };
    // (the exit code is 1 when no message is found; the JSON is printed all the same)
    const trace = async (...args: string[]): Promise<Trace> =>
      JSON.parse(
        (await capture(['dossier', 'trace', dossier, '--server', nats.url, '--json', ...args])).out,
      ) as Trace;
    expect((await trace('--since', '1h')).messages.map((m) => m.messageId)).toEqual([early, late]);
    const recent = await trace('--since', between.toISOString());
    expect(recent.messages.map((m) => m.messageId)).toEqual([late]);
    expect(recent.scanned).toBe(1);
    const started = Date.now();
    const future = await trace('--since', new Date(Date.now() + 3_600_000).toISOString());
    expect([future.messages.length, future.scanned]).toEqual([0, 0]);
    expect(Date.now() - started).toBeLessThan(5_000);
    const text = await capture([
      'dossier',
      'trace',
      dossier,
      '--server',
      nats.url,
      '--since',
      between.toISOString(),
    ]);
    expect(text.out.split('\n')[0]).toContain(`(EXCHANGE since ${between.toISOString()}, 1 records read)`);
    // no consumer is left behind on the server
    const probe = await connectNats({ servers: nats.url });
    const consumers = await (await jetstreamManager(probe)).consumers.list('EXCHANGE').next();
    expect(consumers.filter((c) => c.config.durable_name === undefined)).toEqual([]);
    await probe.close();
    for (const bad of ['yesterday', '2027-13-45', '2027-02-30', '10w', '999999d', '2027-03-01T08:00:00']) {
      const r = await capture(['dossier', 'trace', dossier, '--server', nats.url, '--since', bad]);
      expect([bad, r.code]).toEqual([bad, 1]);
      expect(r.err).toMatch(/ERR_CONFIG_INVALID: since must be/);
    }
  });
});
