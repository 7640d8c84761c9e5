import { DecisionArchive, type DocumentRef } from '@passerelle/documents';
import type { ApplicationSubmitted } from '@passerelle/procedure';
import { sampleShortTermMobility } from '@passerelle/service-host/testing';
import { describe, expect, test } from 'vitest';
import {
  OE,
  OFFICER,
  PORTAL,
  addFirstMemberStatePermit,
  contextOf,
  doc,
  feeProof,
  ictFirstApplication,
  newDossierId,
  submit,
  today,
  useProcedure,
  reachPhase,
} from './harness.js';

/** Noon (UTC) of the Brussels date `offsetDays` from today (see paths.test.ts). */
const at = (offsetDays: number): Date => new Date(`${today(offsetDays)}T12:00:00Z`);

/**
 * The notification of a short-term mobility: an ICT specialist holding a Dutch ICT permit, 60 days in
 * Antwerp, filed by the integrator for the host entity.
 */
function notification(documents: ApplicationSubmitted['documents'] = {}): ApplicationSubmitted {
  const app = ictFirstApplication({
    regionId: 'region-vlaanderen',
    workplaceCommuneId: 'commune-11002',
    ict: sampleShortTermMobility(today(400)),
    requestedPeriod: { from: today(30), to: today(89) },
    documents: {
      passportCopy: doc(71),
      employmentContract: doc(72),
      firstMemberStatePermit: doc(73),
      ...documents,
    },
  });
  delete app.consularPostId;
  delete app.residenceCommuneId;
  return app;
}

describe('short-term mobility (Art. 105/43; directive 2014/66/EU Art. 21), end to end', () => {
  const h = useProcedure();

  test('short-term mobility - complete notification: the 20 days run, a case officer states no objection; no region, no fee, no permit', async () => {
    const id = newDossierId('stm');
    await submit(h, id, notification(), null);
    const [ruling] = await h.waitForPortal(id, 'completeness-ruled');
    expect(ruling?.meta.sender).toBe(OE);
    expect(ruling?.payload).toMatchObject({ outcome: 'complete', ruledOn: today() });
    // the Office's worklist owes the answer by the 20th day
    const work = await h.office.worklist({ participant: OE });
    expect(work.filter((w) => w.dossierId === id)).toEqual([
      expect.objectContaining({ action: 'decide-mobility', deadline: today(20) }),
    ]);
    expect(await h.office.available(OE, id)).toContain('decide-mobility');

    await h.office.act(OE, id, 'decide-mobility', { decision: 'no-objection' }, OFFICER);
    const [answer] = await h.waitForPortal(id, 'short-term-mobility-decided');
    expect(answer?.payload).toMatchObject({
      outcome: 'no-objection',
      tacit: false,
      notifiedOn: today(),
      objectionDeadline: today(20),
      period: { from: today(30), to: today(89) },
    });
    // the attestation the host entity keeps: the decision document, read back with its hash
    const ref = (answer!.payload as { decisionDocument: DocumentRef }).decisionDocument;
    const read = await (await DecisionArchive.open(h.nc, { create: false })).read(ref);
    expect(JSON.parse(new TextDecoder().decode(read))).toMatchObject({
      document: 'short-term-mobility',
      dossierId: id,
      issuer: OE,
      outcome: 'no-objection',
      period: { from: today(30), to: today(89) },
    });
    expect((await h.office.dossier(OE, id))?.phase).toBe('closed');
    // only the integrator and the Office took part: no region, no post, no commune; no fee, no permit
    const seen = h.seen.get(id) ?? [];
    expect(new Set(seen.flatMap((m) => [m.sender, m.recipient]))).toEqual(new Set([PORTAL, OE]));
    expect(seen.map((m) => m.type).sort()).toEqual(
      ['application-submitted', 'completeness-ruled', 'short-term-mobility-decided'].sort(),
    );
  });

  test('short-term mobility - no objection within the 20 days: the scan after them attests it tacitly', async () => {
    const id = newDossierId('stm-tacit');
    await submit(h, id, notification(), null);
    await reachPhase(h.office, OE, id, 'admissible');
    const tacit = (runs: { step: string; dossierId: string }[]) =>
      runs.filter((r) => r.step === 'objection-deadline' && r.dossierId === id);
    expect(tacit(await h.office.checkDeadlines(at(20), { dossierIds: [id] }))).toEqual([]);
    expect(tacit(await h.office.checkDeadlines(at(21), { dossierIds: [id] }))).toEqual([
      expect.objectContaining({ deadline: today(20), phase: 'closed' }),
    ]);
    const [answer] = await h.waitForPortal(id, 'short-term-mobility-decided');
    expect(answer?.payload).toMatchObject({ outcome: 'no-objection', tacit: true, decidedOn: today(21) });
  });

  test('short-term mobility - incomplete notification asked once; completed, a case officer objects within the 20 days; a fee proof is refused', async () => {
    const id = newDossierId('stm-obj');
    const app = notification();
    delete app.documents.firstMemberStatePermit;
    await submit(h, id, app, null);
    const [asked] = await h.waitForPortal(id, 'completeness-ruled');
    expect(asked?.payload).toMatchObject({
      outcome: 'missing-items',
      missingItems: ['firstMemberStatePermit'],
    });
    // not complete: no answer of no objection yet
    await expect(
      h.office.act(OE, id, 'decide-mobility', { decision: 'no-objection' }, OFFICER),
    ).rejects.toMatchObject({ code: 'ERR_OUT_OF_SEQUENCE' });

    await addFirstMemberStatePermit(h, id, app, 74, today(400));
    const [, complete] = await h.waitForPortal(id, 'completeness-ruled', 2);
    expect(complete?.payload).toMatchObject({ outcome: 'complete' });
    await reachPhase(h.office, OE, id, 'admissible');

    // the notification owes no fee: a proof sent anyway is refused, with its code, never counted
    const [sent] = await h.portal.send('fee-proof-submitted', feeProof(), {
      dossierId: id,
      context: contextOf(app),
    });
    const dead = await h.waitForDeadLetter(OE, 'ERR_OUT_OF_SEQUENCE');
    expect(dead.messageId).toBe(sent!.id);

    await h.office.act(
      OE,
      id,
      'decide-mobility',
      { decision: 'objected', reason: 'conditions-not-met' },
      OFFICER,
    );
    const [answer] = await h.waitForPortal(id, 'short-term-mobility-decided');
    expect(answer?.payload).toMatchObject({ outcome: 'objected', reason: 'conditions-not-met' });
    await expect(
      h.office.act(OE, id, 'decide-mobility', { decision: 'no-objection' }, OFFICER),
    ).rejects.toMatchObject({ code: 'ERR_DOSSIER_CLOSED' });
  });
});
