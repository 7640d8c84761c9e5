import { jetstreamManager } from '@nats-io/jetstream';
import { StreamNames } from '@passerelle/exchange';
import { describe, expect, test } from 'vitest';
import { type Person, memoryLogger, seedDossier } from './fixtures.js';
import { startAuditor, useParticipants } from './participants-hook.js';

// Known personal data, sent end to end encrypted in the application payloads.
const PEOPLE: Person[] = [
  { familyName: 'Vandenberghe-Nakamura', givenNames: 'Émilie', passportNumber: 'JP4471920' },
  { familyName: 'Oyelaran', givenNames: 'Chukwuemeka', passportNumber: 'A11223344' },
  { familyName: 'Dąbrowska', givenNames: 'Zofia', passportNumber: 'PL9087123' },
];
const SECRETS = PEOPLE.flatMap((p) => [p.familyName, p.givenNames, p.passportNumber]);

describe('auditor personal data', () => {
  const net = useParticipants((p) => delivered.push(JSON.stringify(p)));
  const delivered: string[] = [];

  test('personal data - names and passport numbers never appear in the LEDGER bytes nor in the auditor log', async () => {
    const { logger, text } = memoryLogger('trace');
    const auditor = await startAuditor(net, {
      checkpointEvery: 5,
      logger,
      viewer: { token: 'personal-data-test-token-0123456789', port: 0 },
    });
    for (const [i, person] of PEOPLE.entries()) {
      await seedDossier(net.participants, `DOS-PII-000${i + 1}`, person);
    }
    await auditor.caughtUp();
    // The viewer reads and logs too: render every dossier and the home page.
    const headers = { authorization: 'Bearer personal-data-test-token-0123456789' };
    const pages: string[] = [];
    for (let i = 0; i < PEOPLE.length; i++) {
      const res = await fetch(`${auditor.viewerUrl}/dossier?id=DOS-PII-000${i + 1}`, { headers });
      expect(res.status).toBe(200);
      pages.push(await res.text());
    }
    await auditor.close();

    // The data did travel: the recipients decrypted it.
    const payloads = delivered.join('\n');
    for (const s of SECRETS) expect(payloads).toContain(s);

    // Every LEDGER message, raw: subject, headers and body.
    const jsm = await jetstreamManager(net.nc);
    const info = await jsm.streams.info(StreamNames.ledger);
    expect(info.state.messages).toBeGreaterThanOrEqual(PEOPLE.length * 8);
    const raw: Buffer[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(StreamNames.ledger, { seq });
      expect(m).not.toBeNull();
      const h = m!.header;
      const headerText = h
        ? h
            .keys()
            .map((k) => `${k}: ${h.values(k).join(',')}`)
            .join('\n')
        : '';
      raw.push(Buffer.from(m!.subject), Buffer.from(headerText), Buffer.from(m!.data));
    }
    const bytes = Buffer.concat(raw);
    const log = text();
    expect(log.length).toBeGreaterThan(0);
    for (const s of SECRETS) {
      for (const form of [
        Buffer.from(s, 'utf8'),
        Buffer.from(s, 'latin1'),
        Buffer.from(JSON.stringify(s).slice(1, -1)),
      ]) {
        expect(bytes.includes(form), `ledger holds ${s}`).toBe(false);
      }
      expect(log, `log holds ${s}`).not.toContain(s);
      expect(pages.join('\n'), `viewer shows ${s}`).not.toContain(s);
    }
  });
});
