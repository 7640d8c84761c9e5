import { DecisionArchive } from '@passerelle/documents';
import { decisionDocument } from '@passerelle/procedure';
import { describe, expect, test, vi } from 'vitest';
import {
  OE,
  OFFICER,
  reachPhase,
  OFFLINE_POST,
  ictFirstApplication,
  newDossierId,
  useProcedure,
  submit,
  today,
} from './harness.js';

const visa = (number: string): unknown => ({
  visaType: 'D',
  visaNumber: number,
  issuedOn: today(),
  validity: { from: today(), to: today(300) },
});

describe('out-of-sequence messages go to the dead letters with a stable code', () => {
  const h = useProcedure();

  test('bad input - a visa for an unknown dossier: ERR_UNKNOWN_DOSSIER, the office keeps working', async () => {
    const post = await h.connectAs('post-ankara');
    const [sent] = await post.send('visa-issued', visa('D-ROGUE0001'), {
      to: OE,
      dossierId: 'D-UNKNOWN-0001',
    });
    const dead = await h.waitForDeadLetter(OE, 'ERR_UNKNOWN_DOSSIER');
    expect(dead).toMatchObject({
      participant: OE,
      messageId: sent!.id,
      originalSubject: `pex.msg.visa-issued.post-ankara.${OE}`,
    });
    expect(dead.reason).toContain('D-UNKNOWN-0001');
    // the service hears of the rejection once its dead letter is stored: waited for, not assumed
    await vi.waitUntil(() =>
      h.events.some(
        (e) =>
          e.service === 'immigration-office' && e.kind === 'rejected' && e.code === 'ERR_UNKNOWN_DOSSIER',
      ),
    );

    // The office still handles the next dossier end to end.
    const id = newDossierId('after');
    await submit(h, id, ictFirstApplication());
    await reachPhase(h.office, OE, id, 'visa-issued');
  });

  test('bad input - a decision on a closed dossier: ERR_DOSSIER_CLOSED', async () => {
    const id = newDossierId('closed');
    h.overrides.residence.set(id, { decision: 'refused', reason: 'fraud' });
    await submit(h, id, ictFirstApplication());
    await h.waitForPortal(id, 'residence-decided');
    expect((await h.office.dossier(OE, id))?.phase).toBe('closed');

    const region = await h.connectAs('region-bruxelles');
    const [sent] = await region.send(
      'work-authorisation-decided',
      {
        decision: 'granted',
        decidedOn: today(),
        period: { from: today(40), to: today(400) },
        decisionDocument: {
          sha256: 'a'.repeat(64),
          mediaType: 'application/json',
          size: 10,
          objectKey: 'decisions/x.json',
        },
      },
      { to: OE, dossierId: id },
    );
    const dead = await h.waitForDeadLetter(OE, 'ERR_DOSSIER_CLOSED');
    expect(dead.messageId).toBe(sent!.id);
    expect((await h.office.dossier(OE, id))?.phase).toBe('closed');
  });

  test('bad input - a second decision for the same step (a second visa): ERR_DUPLICATE_DECISION', async () => {
    const id = newDossierId('twice');
    await submit(h, id, ictFirstApplication());
    await reachPhase(h.office, OE, id, 'visa-issued');
    const first = (await h.office.dossier(OE, id))?.visa;

    const post = await h.connectAs('post-lagos');
    const [sent] = await post.send('visa-issued', visa('D-SECOND0001'), { to: OE, dossierId: id });
    const dead = await h.waitForDeadLetter(OE, 'ERR_DUPLICATE_DECISION');
    expect(dead.messageId).toBe(sent!.id);
    expect((await h.office.dossier(OE, id))?.visa).toEqual(first);
  });

  test('bad input - a visa from a post the dossier does not name: ERR_NOT_COMPETENT; the named post is heard', async () => {
    const id = newDossierId('otherpost');
    await submit(h, id, ictFirstApplication({ consularPostId: OFFLINE_POST }));
    await h.waitForMessages(id, 'residence-decided', 4);
    await reachPhase(h.office, OE, id, 'granted');

    const other = await h.connectAs('post-ankara');
    const [wrong] = await other.send('visa-issued', visa('D-OTHER0001'), { to: OE, dossierId: id });
    const dead = await h.waitForDeadLetter(OE, 'ERR_NOT_COMPETENT');
    expect(dead.messageId).toBe(wrong!.id);
    expect((await h.office.dossier(OE, id))?.phase).toBe('granted');

    const named = await h.connectAs(OFFLINE_POST);
    await named.send('visa-issued', visa('D-TOKYO0001'), { to: OE, dossierId: id });
    await reachPhase(h.office, OE, id, 'visa-issued');
  });

  test("ordering - a region's ruling that overtakes the application is redelivered until the application is in", async () => {
    const id = newDossierId('overtake');
    const app = ictFirstApplication();
    const region = await h.connectAs('region-bruxelles');
    // the region's admissibility document, stored before its ruling as the region does
    const admissibility = decisionDocument({
      document: 'admissibility',
      issuer: 'region-bruxelles',
      dossierId: id,
      issuedOn: today(),
      article: 'Agreement of 5 March 2021',
      outcome: 'complete',
    });
    await (await DecisionArchive.open(h.nc)).put(admissibility.ref.objectKey, admissibility.bytes);
    const ruling = { outcome: 'complete', ruledOn: today(), admissibilityDocument: admissibility.ref };
    await region.send('completeness-ruled', ruling, { to: OE, dossierId: id });
    await h.portal.send('application-submitted', app, { to: OE, dossierId: id });
    await reachPhase(h.office, OE, id, 'admissible');

    // Never followed by its application: dead-lettered with the retryable code once the deliveries are spent.
    const orphan = newDossierId('orphan');
    const [sent] = await region.send('completeness-ruled', ruling, { to: OE, dossierId: orphan });
    const dead = await h.waitForDeadLetter(OE, 'ERR_DOSSIER_NOT_YET_KNOWN');
    expect(dead).toMatchObject({ messageId: sent!.id, deliveries: 3 });
  });

  test('bad input - a desk action out of sequence is refused at once (permit before arrival)', async () => {
    const id = newDossierId('desk');
    await submit(h, id, ictFirstApplication());
    await reachPhase(h.communes, 'commune-21004', id, 'annex-46-received');
    await expect(h.communes.act('commune-21004', id, 'issue-permit', {}, OFFICER)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_SEQUENCE',
    });
    await expect(h.communes.act('commune-11002', id, 'issue-permit', {}, OFFICER)).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_DOSSIER',
    });
    await expect(h.communes.act('commune-99999', id, 'issue-permit', {}, OFFICER)).rejects.toMatchObject({
      code: 'ERR_NOT_HOSTED',
    });
  });
});
