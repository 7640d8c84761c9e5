import { createHash } from 'node:crypto';
import { DecisionArchive, type DocumentRef } from '@passerelle/documents';
import { addDays, type ApplicationSubmitted, addWorkingDays } from '@passerelle/procedure';
import { addYears } from '@passerelle/procedure/internal';
import { describe, expect, test, vi } from 'vitest';
import {
  OE,
  OFFICER,
  SETTLE,
  reachPhase,
  PORTAL,
  addFirstMemberStatePermit,
  arriveAndIssuePermit,
  checkResidenceAndIssuePermit,
  contextOf,
  doc,
  feeProof,
  feeRefusals,
  ictFirstApplication,
  newDossierId,
  overruns,
  useProcedure,
  submit,
  toPermitIssued,
  today,
} from './harness.js';

/**
 * Noon (UTC) of the Brussels date `offsetDays` from today: the services read dates in Brussels time, and
 * adding whole days of 24 h to the current instant can land on the day before or after when a change of
 * summer time falls in between.
 */
const at = (offsetDays: number): Date => new Date(`${today(offsetDays)}T12:00:00Z`);

/**
 * A long-term mobility to Wallonia (commune 62063), no post involved: a specialist holding a Dutch ICT
 * permit until `permitValidUntil`, asking for `days` from 30 days on; its documents numbered from `firstDoc`.
 */
function mobilityApplication(permitValidUntil: string, days: number, firstDoc: number): ApplicationSubmitted {
  const app = ictFirstApplication({
    regionId: 'region-wallonie',
    workplaceCommuneId: 'commune-62063',
    residenceCommuneId: 'commune-62063',
    ict: {
      scheme: 'mobility',
      role: 'specialist',
      priorIctStayInLast3Years: false,
      firstMemberState: {
        country: 'NL',
        permitValidUntil,
        address: { street: 'Keizersgracht 1', postalCode: '1015', city: 'Amsterdam', country: 'NL' },
      },
    },
    requestedPeriod: { from: today(30), to: today(30 + days) },
    documents: {
      passportCopy: doc(firstDoc),
      employmentContract: doc(firstDoc + 1),
      healthInsurance: { form: 'insurer', document: doc(firstDoc + 2), coversUntil: '2040-12-31' },
      firstMemberStatePermit: doc(firstDoc + 3),
      criminalRecord: doc(firstDoc + 4),
    },
  });
  delete app.consularPostId;
  return app;
}

describe('single-permit procedure, end to end', () => {
  const h = useProcedure();

  /** Recipients of every `type` message of a dossier. */
  const recipientsOf = async (dossierId: string, type: string, count: number): Promise<string[]> =>
    (await h.waitForMessages(dossierId, type, count)).map((m) => m.recipient).sort();

  test('path 1 - ICT first application granted: annex 46 copies, visa, arrival in 8 working days, annex 49 extended, annex 60 for at most 3 years', async () => {
    const id = newDossierId('ict');
    const app = ictFirstApplication({ requestedPeriod: { from: today(40), to: today(40 + 5 * 365) } });
    await submit(h, id, app);

    const [ruling] = await h.waitForPortal(id, 'completeness-ruled');
    expect(ruling?.payload).toMatchObject({ outcome: 'complete' });
    const [work] = await h.waitForPortal(id, 'work-authorisation-decided');
    // Three years less a day from the start: the legal maximum, not the five years asked for.
    const maxEnd = addDays(addYears(app.requestedPeriod.from, 3), -1);
    expect(work?.payload).toMatchObject({
      decision: 'granted',
      period: { from: app.requestedPeriod.from, to: maxEnd },
      ictRole: 'manager',
    });

    // Art. 105/46 §1, §3: annex 46 to the region, the consular post and the commune (and the portal).
    expect(await recipientsOf(id, 'residence-decided', 4)).toEqual(
      ['commune-21004', PORTAL, 'post-lagos', 'region-bruxelles'].sort(),
    );
    const [annex46] = await h.waitForPortal(id, 'residence-decided');
    expect(annex46?.payload).toMatchObject({
      annex: '46',
      period: { to: maxEnd },
      permitToIssue: 'annex-60',
      visaRequired: true,
    });
    // The portal's projection carries no identity (agreement projection).
    expect(annex46?.payload).not.toHaveProperty('holder');
    // The decision document it references is in the object store, encrypted: the bucket holds a random
    // name and ciphertext; the reference's key reads it back, with the hash the message names.
    const ref = (annex46?.payload as { decisionDocument: DocumentRef }).decisionDocument;
    expect(ref.objectKey).toMatch(/^d1\/[A-Za-z0-9_-]{22}\/[A-Za-z0-9_-]{43}$/);
    const { Objm } = await import('@nats-io/obj');
    const bucket = await new Objm(h.nc).open('pex-decisions');
    const stored = await bucket.getBlob(ref.objectKey.split('/').slice(0, 2).join('/'));
    expect(stored).not.toBeNull();
    expect(Buffer.from(stored!).includes(id)).toBe(false);
    expect(Buffer.from(stored!).includes('granted')).toBe(false);
    const read = await (await DecisionArchive.open(h.nc, { create: false })).read(ref);
    expect(createHash('sha256').update(read).digest('hex')).toBe(ref.sha256);
    expect(JSON.parse(new TextDecoder().decode(read))).toMatchObject({
      document: '46',
      dossierId: id,
      issuer: OE,
      outcome: 'granted',
    });

    // Art. 105/47 §1: the visa, without delay.
    const [visa] = await h.waitForMessages(id, 'visa-issued');
    expect(visa).toMatchObject({ sender: 'post-lagos', recipient: OE });
    await reachPhase(h.office, OE, id, 'visa-issued');
    const commune = await h.communes.dossier('commune-21004', id);
    expect(commune).toMatchObject({
      phase: 'annex-46-received',
      routing: { procedure: 'first', regionId: 'region-bruxelles', portalId: PORTAL },
    });

    // Art. 105/47 §2: reports on the 8th working day after entry; annex 49 at once, 45 days.
    const enteredOn = today(45);
    const reportedOn = addWorkingDays(enteredOn, 8);
    const arrived = await h.communes.act(
      'commune-21004',
      id,
      'register-arrival',
      { enteredOn, reportedOn },
      OFFICER,
    );
    expect(arrived.arrival).toMatchObject({ inTime: true, deadline: reportedOn });
    expect(arrived.provisional?.validity).toEqual({ from: reportedOn, to: addDays(reportedOn, 44) });
    await reachPhase(h.office, OE, id, 'arrived');

    const extended = await h.communes.act('commune-21004', id, 'extend-provisional', {}, OFFICER);
    expect(extended.provisional?.extensions).toBe(1);
    await h.waitForMessages(id, 'provisional-document-extended');

    // Art. 105/47 §2 al. 2: the residence check before the permit, told to the Office
    await h.communes.act(
      'commune-21004',
      id,
      'check-residence',
      { outcome: 'positive', checkedOn: reportedOn },
      OFFICER,
    );
    await vi.waitUntil(
      async () => (await h.office.dossier(OE, id))?.residenceCheck?.outcome === 'positive',
      SETTLE,
    );
    const issued = await h.communes.act('commune-21004', id, 'issue-permit', {}, OFFICER);
    expect(issued.permit).toMatchObject({
      kind: 'annex-60',
      validity: { from: app.requestedPeriod.from, to: maxEnd },
    });
    expect(await recipientsOf(id, 'permit-issued', 3)).toEqual([OE, PORTAL, 'region-bruxelles'].sort());
    await reachPhase(h.office, OE, id, 'permit-issued');
    await reachPhase(h.region, 'region-bruxelles', id, 'permit-issued');
    // One conversation: every message of the dossier carries the application's correlation id (the portal's
    // separate fee-proof send starts its own).
    const all = h.seen.get(id) ?? [];
    const conversation = all.find((m) => m.type === 'application-submitted')?.correlationId;
    expect(new Set(all.filter((m) => m.type !== 'fee-proof-submitted').map((m) => m.correlationId))).toEqual(
      new Set([conversation]),
    );
    // Extending the annex 49 after the permit is refused.
    await expect(
      h.communes.act('commune-21004', id, 'extend-provisional', {}, OFFICER),
    ).rejects.toMatchObject({
      code: 'ERR_OUT_OF_SEQUENCE',
    });
  });

  test('path 1 - an ICT trainee is authorised for at most 1 year (Art. 105/46 §2, 31 16°)', async () => {
    const id = newDossierId('trainee');
    const app = ictFirstApplication({
      ict: { scheme: 'transfer', role: 'trainee', priorIctStayInLast3Years: false },
      requestedPeriod: { from: today(40), to: today(40 + 3 * 365) },
    });
    await submit(h, id, app);
    const [annex46] = await h.waitForPortal(id, 'residence-decided');
    expect(annex46?.payload).toMatchObject({
      annex: '46',
      period: { to: addDays(addYears(app.requestedPeriod.from, 1), -1) },
    });
  });

  test('path 1 - no residence known at the decision: the commune registers the arrival on the annex 46 presented (Art. 105/47 §2)', async () => {
    const id = newDossierId('nocommune');
    const app = ictFirstApplication();
    delete app.residenceCommuneId;
    await submit(h, id, app);
    expect(await recipientsOf(id, 'residence-decided', 3)).toEqual(
      [PORTAL, 'post-lagos', 'region-bruxelles'].sort(),
    );
    await reachPhase(h.office, OE, id, 'visa-issued');
    await expect(
      h.communes.act('commune-21004', id, 'register-arrival', { enteredOn: today(41) }, OFFICER),
    ).rejects.toMatchObject({
      code: 'ERR_OUT_OF_SEQUENCE',
    });
    const [annex46] = await h.waitForPortal(id, 'residence-decided');
    const { period, decidedOn } = annex46!.payload as {
      period: { from: string; to: string };
      decidedOn: string;
    };
    await h.communes.act(
      'commune-21004',
      id,
      'register-arrival',
      {
        enteredOn: today(41),
        reportedOn: today(42),
        presented: {
          period,
          decidedOn,
          permitToIssue: 'annex-60',
          procedure: 'first',
          regionId: 'region-bruxelles',
          portalId: PORTAL,
        },
      },
      OFFICER,
    );
    await vi.waitUntil(
      async () => (await h.office.dossier(OE, id))?.routing.communeId === 'commune-21004',
      SETTLE,
    );
    await checkResidenceAndIssuePermit(h, 'commune-21004', id, today(42));
    expect(await recipientsOf(id, 'permit-issued', 3)).toEqual([OE, PORTAL, 'region-bruxelles'].sort());
  });

  test('path 2 - missing document: the region asks, the integrator completes, the dossier proceeds', async () => {
    const id = newDossierId('missing');
    const app = ictFirstApplication();
    delete app.documents.passportCopy;
    await submit(h, id, app);
    const [asked] = await h.waitForPortal(id, 'completeness-ruled');
    expect(asked?.payload).toMatchObject({ outcome: 'missing-items', missingItems: ['passportCopy'] });
    expect((await h.region.dossier('region-bruxelles', id))?.phase).toBe('awaiting-items');

    await h.portal.send(
      'documents-added',
      { reason: 'completion', documents: { passportCopy: doc(11) }, addedAt: new Date().toISOString() },
      { dossierId: id, context: contextOf(app) },
    );
    const rulings = await h.waitForPortal(id, 'completeness-ruled', 2);
    expect(rulings[1]?.payload).toMatchObject({ outcome: 'complete' });
    const [annex46] = await h.waitForPortal(id, 'residence-decided');
    expect(annex46?.payload).toMatchObject({ annex: '46' });
  });

  test('path 3 - fee proof missing and not supplied: the region asks for it, then declares the application inadmissible', async () => {
    const id = newDossierId('nofee');
    await submit(h, id, ictFirstApplication(), null);
    await reachPhase(h.office, OE, id, 'submitted');
    // the region too has opened the dossier (it reads every document first)
    await vi.waitUntil(async () => (await h.region.dossier('region-bruxelles', id)) !== undefined, SETTLE);
    // The region waits for the fee proof a few working days, then tells the applicant to provide it.
    expect(await h.region.checkDeadlines(at(0), { dossierIds: [id] })).toHaveLength(0);
    expect(await h.region.checkDeadlines(at(7), { dossierIds: [id] })).toHaveLength(1);
    const [asked] = await h.waitForPortal(id, 'completeness-ruled');
    expect(asked?.payload).toMatchObject({ outcome: 'missing-items', missingItems: ['fee-proof'] });
    // Still missing after the date given: inadmissible.
    expect(await h.region.checkDeadlines(at(40), { dossierIds: [id] })).toHaveLength(1);
    const rulings = await h.waitForPortal(id, 'completeness-ruled', 2);
    expect(rulings[1]?.payload).toMatchObject({ outcome: 'inadmissible', reason: 'fee-proof-missing' });
    await reachPhase(h.office, OE, id, 'closed');
    expect(h.seen.get(id)?.some((m) => m.type === 'work-authorisation-decided')).toBe(false);
  });

  test('path 4 - wrong fee amount: payment requested by the Immigration Office; unpaid → annex 43bis / 43; paid → proceeds', async () => {
    const partial = newDossierId('fee-part');
    const none = newDossierId('fee-none');
    const paid = newDossierId('fee-paid');
    await submit(h, partial, ictFirstApplication(), 10_000);
    await submit(h, none, ictFirstApplication(), 0);
    await submit(h, paid, ictFirstApplication(), 20_000);

    const [request] = await h.waitForPortal(partial, 'fee-payment-requested');
    expect(request?.payload).toMatchObject({
      reason: 'amount-incorrect',
      amountDue: { amountCents: 25_800 },
      amountReceived: { amountCents: 10_000 },
    });
    expect(await recipientsOf(partial, 'fee-payment-requested', 2)).toEqual(
      [PORTAL, 'region-bruxelles'].sort(),
    );
    const [requestNone] = await h.waitForPortal(none, 'fee-payment-requested');
    expect(requestNone?.payload).toMatchObject({ reason: 'not-paid', amountDue: { amountCents: 35_800 } });

    // Paid in full: the residence decision follows.
    await h.waitForPortal(paid, 'fee-payment-requested');
    await h.portal.send('fee-proof-submitted', feeProof(15_800), {
      dossierId: paid,
      context: contextOf(ictFirstApplication()),
    });
    const [granted] = await h.waitForPortal(paid, 'residence-decided');
    expect(granted?.payload).toMatchObject({ annex: '46' });

    // Unpaid by the date: refusal, 43bis for a partial payment, 43 for none.
    await h.waitForPortal(partial, 'work-authorisation-decided');
    await h.waitForPortal(none, 'work-authorisation-decided');
    const report = await h.office.checkDeadlines(at(40), { dossierIds: [partial, none] });
    expect(feeRefusals(report).sort()).toEqual([partial, none].sort());
    const [refusedPartial] = await h.waitForPortal(partial, 'residence-decided');
    expect(refusedPartial?.payload).toMatchObject({ annex: '43bis', feeCase: 'partially-paid' });
    const [refusedNone] = await h.waitForPortal(none, 'residence-decided');
    expect(refusedNone?.payload).toMatchObject({ annex: '43', feeCase: 'not-paid' });
    expect(await recipientsOf(none, 'residence-decided', 2)).toEqual([PORTAL, 'region-bruxelles'].sort());
    await reachPhase(h.region, 'region-bruxelles', none, 'closed');
  });

  test('path 4 - a fee proof whose document does not read back pays nothing: payment requested, the region asks for the proof', async () => {
    const id = newDossierId('fee-alt');
    const app = ictFirstApplication();
    await submit(h, id, app, null);
    // the full amount, but the proof's reference carries another key than the stored document's
    const proof = feeProof() as { proof: { objectKey: string } };
    const altered = proof.proof.objectKey.replace(
      /\/[^/]+$/,
      `/${Buffer.alloc(32, 3).toString('base64url')}`,
    );
    await h.portal.send(
      'fee-proof-submitted',
      { ...proof, proof: { ...proof.proof, objectKey: altered } },
      { dossierId: id, context: contextOf(app) },
    );
    const [request] = await h.waitForPortal(id, 'fee-payment-requested');
    expect(request?.payload).toMatchObject({ reason: 'not-paid', amountDue: { amountCents: 35_800 } });
    expect(await h.region.checkDeadlines(at(7), { dossierIds: [id] })).toHaveLength(1);
    const [asked] = await h.waitForPortal(id, 'completeness-ruled');
    expect(asked?.payload).toMatchObject({ outcome: 'missing-items', missingItems: ['fee-proof'] });
  });

  test('path 5 - residence refused: annex 48 to the bodies concerned, no visa, no commune copy', async () => {
    const id = newDossierId('refused');
    h.overrides.residence.set(id, { decision: 'refused', reason: 'public-order' });
    await submit(h, id, ictFirstApplication());
    const [annex48] = await h.waitForPortal(id, 'residence-decided');
    expect(annex48?.payload).toMatchObject({ annex: '48', reason: 'public-order' });
    expect(await recipientsOf(id, 'residence-decided', 2)).toEqual([PORTAL, 'region-bruxelles'].sort());
    await reachPhase(h.region, 'region-bruxelles', id, 'closed');
    expect((await h.office.dossier(OE, id))?.phase).toBe('closed');

    // A refused work authorisation ends in annex 48 too.
    const noWork = newDossierId('nowork');
    h.overrides.work.set(noWork, { decision: 'refused', reason: 'labour-market' });
    await submit(h, noWork, ictFirstApplication());
    const [refusal] = await h.waitForPortal(noWork, 'residence-decided');
    expect(refusal?.payload).toMatchObject({ annex: '48', reason: 'work-authorisation-refused' });
  });

  /** A renewal application of an ICT living in Antwerp, working in Antwerp. */
  const renewal = (passportNumber: string) =>
    ictFirstApplication({
      procedure: 'renewal',
      regionId: 'region-vlaanderen',
      workplaceCommuneId: 'commune-11002',
      residenceCommuneId: 'commune-11002',
      consularPostId: undefined,
      applicant: { ...ictFirstApplication().applicant, passportNumber },
      requestedPeriod: { from: today(20), to: today(20 + 365) },
      documents: {
        passportCopy: doc(21),
        currentPermit: doc(22),
        employmentContract: doc(23),
        healthInsurance: { form: 'insurer', document: doc(24), coversUntil: '2040-12-31' },
      },
    });

  test('path 6 - renewal granted: annex 46 copy to the commune, permit renewed for the new period', async () => {
    const id = newDossierId('renew');
    const app = renewal('R0000006');
    delete app.consularPostId;
    await h.communes.importPermit('commune-11002', 'R0000006', {
      permit: 'annex-60',
      permitNumber: 'A60-PREVIOUS06',
      validity: { from: today(-700), to: today(25) },
    });
    await submit(h, id, app);
    // Art. 105/51, 105/52: no consular post on a renewal; the commune gets the copy.
    expect(await recipientsOf(id, 'residence-decided', 3)).toEqual(
      ['commune-11002', PORTAL, 'region-vlaanderen'].sort(),
    );
    const [renewed] = await h.waitForPortal(id, 'permit-renewed');
    expect(renewed?.payload).toMatchObject({
      permit: 'annex-60',
      previousPermitNumber: 'A60-PREVIOUS06',
      communeId: 'commune-11002',
      validity: app.requestedPeriod,
    });
    expect(await recipientsOf(id, 'permit-renewed', 3)).toEqual([OE, PORTAL, 'region-vlaanderen'].sort());
    await reachPhase(h.office, OE, id, 'permit-issued');
    expect(await h.communes.registeredPermit('commune-11002', 'R0000006')).toMatchObject({
      validity: app.requestedPeriod,
    });
  });

  test('path 7 - renewal pending at expiry: annex 49 attestation for 30 days, extended once, a second extension refused', async () => {
    const id = newDossierId('pending');
    const app = renewal('R0000007');
    delete app.consularPostId;
    h.overrides.work.set(id, 'pending');
    await h.communes.importPermit('commune-11002', 'R0000007', {
      permit: 'annex-60',
      permitNumber: 'A60-PREVIOUS07',
      validity: { from: today(-730), to: today(-1) },
    });
    await submit(h, id, app);
    const [ruling] = await h.waitForPortal(id, 'completeness-ruled');
    expect(ruling?.payload).toMatchObject({ outcome: 'complete' });
    const admissibilityDocument = (ruling?.payload as { admissibilityDocument: never }).admissibilityDocument;

    const attested = await h.communes.act(
      'commune-11002',
      id,
      'attest-renewal-pending',
      {
        expiredPermitNumber: 'A60-PREVIOUS07',
        admissibilityDocument,
        passportNumber: 'R0000007',
        regionId: 'region-vlaanderen',
      },
      OFFICER,
    );
    expect(attested.provisional).toMatchObject({
      purpose: 'renewal-pending',
      validity: { from: today(), to: today(29) },
    });
    expect(await recipientsOf(id, 'renewal-pending-attested', 2)).toEqual([OE, 'region-vlaanderen'].sort());

    const once = await h.communes.act('commune-11002', id, 'extend-provisional', {}, OFFICER);
    expect(once.provisional).toMatchObject({ extensions: 1, validity: { from: today(30), to: today(59) } });
    await expect(
      h.communes.act('commune-11002', id, 'extend-provisional', {}, OFFICER),
    ).rejects.toMatchObject({
      code: 'ERR_EXTENSION_NOT_ALLOWED',
    });
    await vi.waitUntil(async () => (await h.office.dossier(OE, id))?.provisionalExtensions === 1, SETTLE);

    // The work decision is left to a case officer: it waits in the region's worklist, as the action it allows,
    // by the ICT directive's 90 days from the complete application (Directive 2014/66/EU Art. 15(1)).
    expect(await h.region.worklist({ participant: 'region-vlaanderen' })).toContainEqual(
      expect.objectContaining({
        participant: 'region-vlaanderen',
        dossierId: id,
        phase: 'admissible',
        action: 'decide-work',
        deadline: today(90),
      }),
    );
    expect(await h.region.available('region-vlaanderen', id)).toEqual(['request-information', 'decide-work']);

    // The decisions come: the commune renews the permit it attested.
    const decideWork = () =>
      h.region.act(
        'region-vlaanderen',
        id,
        'decide-work',
        { decision: 'granted', period: app.requestedPeriod },
        OFFICER,
        { stepId: `work-${id}` },
      );
    const decided = await decideWork();
    // who decided is kept with the dossier, under the request's key, and a retry decides nothing again
    expect(decided.taken).toEqual([
      { action: 'decide-work', stepId: `decide-work:work-${id}`, on: today(), by: OFFICER },
    ]);
    await decideWork();
    expect((await h.region.worklist()).some((w) => w.dossierId === id)).toBe(false);
    const [renewed] = await h.waitForPortal(id, 'permit-renewed');
    expect(h.seen.get(id)?.filter((m) => m.type === 'work-authorisation-decided')).toHaveLength(2); // OE, portal
    expect(renewed?.payload).toMatchObject({
      previousPermitNumber: 'A60-PREVIOUS07',
      validity: app.requestedPeriod,
    });
  });

  test("path 8 - long-term mobility: no visa, annex 61, the period never exceeds the first member state's permit", async () => {
    const id = newDossierId('mobility');
    const firstStateUntil = today(300);
    await submit(h, id, mobilityApplication(firstStateUntil, 700, 31));
    const [annex46] = await h.waitForPortal(id, 'residence-decided');
    expect(annex46?.payload).toMatchObject({
      annex: '46',
      visaRequired: false,
      permitToIssue: 'annex-61',
      period: { to: firstStateUntil },
    });
    expect(await recipientsOf(id, 'residence-decided', 3)).toEqual(
      ['commune-62063', PORTAL, 'region-wallonie'].sort(),
    );

    await reachPhase(h.communes, 'commune-62063', id, 'annex-46-received');
    // Reported after the 8 working days: registered all the same, and the overrun is reported (Art. 105/58).
    const late = addWorkingDays(today(30), 9);
    const arrived = await h.communes.act(
      'commune-62063',
      id,
      'register-arrival',
      {
        enteredOn: today(30),
        reportedOn: late,
      },
      OFFICER,
    );
    expect(arrived.arrival).toMatchObject({ inTime: false, deadline: addWorkingDays(today(30), 8) });
    expect(h.events).toContainEqual(
      expect.objectContaining({
        dossierId: id,
        kind: 'deadline',
        type: 'arrival-report',
        participant: 'commune-62063',
      }),
    );
    await reachPhase(h.office, OE, id, 'arrived');
    // Art. 105/58 al. 2: the residence check before the annex 61
    const issued = await checkResidenceAndIssuePermit(h, 'commune-62063', id, late);
    expect(issued.permit).toMatchObject({ kind: 'annex-61', validity: { to: firstStateUntil } });
    await h.waitForPortal(id, 'permit-issued');
    expect(h.seen.get(id)?.some((m) => m.type === 'visa-issued')).toBe(false);
  });

  test('path 8 - Art. 105/56 §2 4°: a first-state permit ending before the start is asked again; renewed, the dossier proceeds', async () => {
    const id = newDossierId('mobility-expired');
    // valid today, but not on the first day asked
    const app = mobilityApplication(today(20), 300, 36);
    await submit(h, id, app);
    // the ruling the texts provide, not an exception: incomplete, the permit asked for
    const [asked] = await h.waitForPortal(id, 'completeness-ruled');
    expect(asked?.payload).toMatchObject({
      outcome: 'missing-items',
      missingItems: ['firstMemberStatePermit'],
    });
    await addFirstMemberStatePermit(h, id, app, 41, today(200));
    const [annex46] = await h.waitForPortal(id, 'residence-decided');
    expect(annex46?.payload).toMatchObject({
      annex: '46',
      permitToIssue: 'annex-61',
      period: { to: today(200) },
    });
    expect((await h.region.dossier('region-wallonie', id))?.work).toEqual({
      decision: 'granted',
      period: { from: today(30), to: today(200) },
    });
  });

  test('path 12 - Art. 105/67: in doubt the region asks the employer through the back office; the answer comes as documents', async () => {
    const id = newDossierId('doubt');
    h.overrides.work.set(id, 'pending');
    const app = ictFirstApplication();
    await submit(h, id, app);
    await reachPhase(h.region, 'region-bruxelles', id, 'admissible');
    await h.region.act(
      'region-bruxelles',
      id,
      'request-information',
      { concern: 'means-of-subsistence', addressee: 'employer' },
      OFFICER,
    );
    const [request] = await h.waitForPortal(id, 'information-requested');
    expect(request?.payload).toMatchObject({
      concern: 'means-of-subsistence',
      addressee: 'employer',
      respondBy: addWorkingDays(today(), 15),
    });
    await h.portal.send(
      'documents-added',
      {
        reason: 'requested-by-authority',
        documents: { other: [doc(64)] },
        addedAt: new Date().toISOString(),
      },
      { dossierId: id, context: contextOf(app) },
    );
    await vi.waitUntil(
      async () => (await h.region.dossier('region-bruxelles', id))?.informationRequest === undefined,
      SETTLE,
    );
    await h.region.act(
      'region-bruxelles',
      id,
      'decide-work',
      { decision: 'granted', period: app.requestedPeriod },
      OFFICER,
    );
    await h.waitForPortal(id, 'work-authorisation-decided');
  });

  test('path 9 - end of stay: annex 52 to the commune, the region and the portal', async () => {
    const id = newDossierId('end');
    await toPermitIssued(h, id);

    // a desk entry that is not a date is refused with the step: nothing recorded, nothing kept to send
    const phase = (await h.office.dossier(OE, id))?.phase;
    const refused = await h.office
      .act(OE, id, 'end-stay', { reason: 'other', endsOn: 'JANSSENS Marie' }, OFFICER)
      .then(
        () => undefined,
        (err: unknown) => err as Error & { code: string },
      );
    expect(refused).toMatchObject({ code: 'ERR_ACTION_INPUT_INVALID' });
    expect(refused!.message).not.toContain('JANSSENS');
    expect((await h.office.dossier(OE, id))?.phase).toBe(phase);

    await h.office.act(
      OE,
      id,
      'end-stay',
      { reason: 'work-authorisation-withdrawn', endsOn: today(200) },
      OFFICER,
    );
    expect(await recipientsOf(id, 'stay-ended', 3)).toEqual(
      ['commune-21004', PORTAL, 'region-bruxelles'].sort(),
    );
    const [annex52] = await h.waitForPortal(id, 'stay-ended');
    expect(annex52?.payload).toMatchObject({
      annex: '52',
      endsOn: today(200),
      reason: 'work-authorisation-withdrawn',
    });
    await reachPhase(h.communes, 'commune-21004', id, 'closed');
    await reachPhase(h.region, 'region-bruxelles', id, 'closed');
    await expect(
      h.office.act(OE, id, 'end-stay', { reason: 'other', endsOn: today(201) }, OFFICER),
    ).rejects.toMatchObject({
      code: 'ERR_DOSSIER_CLOSED',
    });
  });

  test('path 10 - Art. 105/45 §2 5°: age from the birth date; under 18 no criminal record, eighteen today without one: incomplete', async () => {
    const minor = newDossierId('minor');
    // Art. 105/45 §2 5°: seventeen on the day of the application, by the birth date
    const base = ictFirstApplication();
    const minorApp = ictFirstApplication({
      applicant: { ...base.applicant, birthDate: addYears(today(30), -18) },
    });
    delete minorApp.documents.criminalRecord;
    await submit(h, minor, minorApp);
    const [complete] = await h.waitForPortal(minor, 'completeness-ruled');
    expect(complete?.payload).toMatchObject({ outcome: 'complete' });

    const adult = newDossierId('adult');
    const adultApp = ictFirstApplication({
      applicant: { ...base.applicant, birthDate: addYears(today(), -18) },
    });
    delete adultApp.documents.criminalRecord;
    await submit(h, adult, adultApp);
    const [incomplete] = await h.waitForPortal(adult, 'completeness-ruled');
    expect(incomplete?.payload).toMatchObject({ outcome: 'missing-items', missingItems: ['criminalRecord'] });
  });

  test('generic path - an EU Blue Card holder follows the single-permit path: annex 46, D visa, arrival, the single permit', async () => {
    const id = newDossierId('bluecard');
    const app = ictFirstApplication({
      category: 'eu-blue-card',
      requestedPeriod: { from: today(40), to: today(40 + 4 * 365) },
    });
    delete app.ict;
    await submit(h, id, app);
    const [annex46] = await h.waitForPortal(id, 'residence-decided');
    // No ICT maximum outside category 4: the requested period is authorised as asked.
    expect(annex46?.payload).toMatchObject({
      annex: '46',
      permitToIssue: 'single-permit',
      visaRequired: true,
      period: app.requestedPeriod,
    });
    await reachPhase(h.office, OE, id, 'visa-issued');
    const issued = await arriveAndIssuePermit(h, id);
    expect(issued.permit).toMatchObject({ kind: 'single-permit', validity: app.requestedPeriod });

    // A researcher also needs the hosting agreement; without a consular post named, annex 46 skips the post.
    const researcher = newDossierId('research');
    const rApp = ictFirstApplication({
      category: 'researcher',
      regionId: 'region-dg',
      workplaceCommuneId: 'commune-63023',
      residenceCommuneId: 'commune-63023',
    });
    delete rApp.ict;
    delete rApp.consularPostId;
    await submit(h, researcher, rApp);
    const [asked] = await h.waitForPortal(researcher, 'completeness-ruled');
    expect(asked?.payload).toMatchObject({ outcome: 'missing-items', missingItems: ['hostingAgreement'] });
    await h.portal.send(
      'documents-added',
      { reason: 'completion', documents: { hostingAgreement: doc(41) }, addedAt: new Date().toISOString() },
      { dossierId: researcher, context: contextOf(rApp) },
    );
    await h.waitForPortal(researcher, 'residence-decided');
    expect(await recipientsOf(researcher, 'residence-decided', 3)).toEqual(
      ['commune-63023', PORTAL, 'region-dg'].sort(),
    );
  });

  test('path 11 - family member (Art. 26/2 §3): residence only, the Office rules on the documents, the 90 days from the application', async () => {
    const id = newDossierId('family');
    h.overrides.residence.set(id, 'pending');
    const base = ictFirstApplication();
    const app: ApplicationSubmitted = {
      ...base,
      familyMemberOf: { scheme: 'transfer' },
      // the proof of the family link comes later
      documents: {
        passportCopy: doc(61),
        healthInsurance: { form: 'insurer', document: doc(62), coversUntil: '2040-12-31' },
      },
    };
    delete app.ict;
    await submit(h, id, app);
    const [asked] = await h.waitForPortal(id, 'completeness-ruled');
    expect(asked?.meta.sender).toBe(OE);
    expect(asked?.payload).toMatchObject({ outcome: 'missing-items', missingItems: ['familyLink'] });
    await h.portal.send(
      'documents-added',
      { reason: 'completion', documents: { familyLink: doc(63) }, addedAt: new Date().toISOString() },
      { dossierId: id, context: contextOf(app) },
    );
    const [, complete] = await h.waitForPortal(id, 'completeness-ruled', 2);
    expect(complete?.payload).toMatchObject({ outcome: 'complete' });
    await reachPhase(h.office, OE, id, 'admissible');
    // the 90 days run from the day of the application
    expect((await h.office.dossier(OE, id))?.decisionDeadline).toBe(addDays(today(), 90));
    expect(await h.region.dossier('region-bruxelles', id)).toBeUndefined();

    expect(overruns(await h.office.checkDeadlines(at(90), { dossierIds: [id] }))).toEqual([]);
    const report = await h.office.checkDeadlines(at(91), { dossierIds: [id] });
    expect(overruns(report)).toEqual([{ dossierId: id, deadline: today(90) }]);
    expect(h.events.filter((e) => e.dossierId === id && e.kind === 'deadline')).toHaveLength(1);
    // Reported once, not at every scan.
    expect(overruns(await h.office.checkDeadlines(at(92), { dossierIds: [id] }))).toEqual([]);

    await h.office.act(OE, id, 'decide-residence', { decision: 'granted' }, OFFICER);
    const [annex46] = await h.waitForPortal(id, 'residence-decided');
    expect(annex46?.payload).toMatchObject({
      annex: '46',
      permitToIssue: 'residence-permit',
      period: app.requestedPeriod,
    });
    // the consular post issues the visa on the annex 46 (the tests' post policy)
    await reachPhase(h.office, OE, id, 'visa-issued');
  });
  test('privacy - the services keep their dossier state and register encrypted: no name or passport number in their buckets', async () => {
    const { Kvm } = await import('@nats-io/kv');
    const kvm = new Kvm(h.nc);
    let scanned = 0;
    for (const bucket of [
      'svc-immigration-office',
      'svc-commune',
      'svc-commune-register',
      'svc-regional-authority',
      'svc-consular-post',
    ]) {
      const kv = await kvm.open(bucket);
      for await (const key of await kv.keys()) {
        const entry = await kv.get(key);
        const text = `${key} ${new TextDecoder().decode(entry?.value ?? new Uint8Array())}`;
        expect(text).not.toMatch(/Okafor|Adaeze|A09876543|R0000006|R0000007/);
        scanned += 1;
      }
    }
    expect(scanned).toBeGreaterThan(20);
  });
});
