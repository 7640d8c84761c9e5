import {
  addDays,
  type ApplicationSubmitted,
  type OfficePhase,
  type StepCommand,
  describeActions,
  owedActions,
} from '@passerelle/procedure';
import { DOSSIER_MACHINES } from '@passerelle/procedure/internal';
import {
  actionBy,
  codesInPhases,
  decided,
  loadTableInputs,
  messageFrom,
  outcomeCode,
  sampleApplication,
  sampleShortTermMobility,
  tableStepper,
} from '@passerelle/service-host/testing';
import { describe, expect, test } from 'vitest';
import { type OfficeDossier, automaticOfficePolicy, officeTable } from '../src/index.js';
import { openOfficeDossier } from '../src/rules.js';

const table = officeTable();
const app = (overrides: Partial<ApplicationSubmitted> = {}): ApplicationSubmitted =>
  sampleApplication({ documents: {}, ...overrides });
const { ctx, step, needs } = tableStepper(table, {
  participant: 'immigration-office',
  dossierId: 'D-OFFICE-0001',
  today: '2027-02-01',
  causationId: 'm-1',
});
const from = messageFrom;
const actor = { clientId: 'oe-backoffice', officerId: 'agent-0193' };
const act = (action: string, input: unknown): StepCommand => actionBy(actor, action, input);
const period = { from: '2027-03-01', to: '2030-02-28' };
const docRef = {
  sha256: 'c'.repeat(64),
  mediaType: 'application/json' as const,
  size: 5,
  objectKey: 'decisions/x.json',
};
const ready: OfficeDossier = {
  ...openOfficeDossier(app(), 'portal-demo', '2027-01-04'),
  phase: 'work-decided',
  fee: { paidCents: 35_800, status: 'ok' },
  work: { decision: 'granted', period },
};

describe('Immigration Office table', () => {
  test('Art. 1/2/1 - a fee proof counts only when it reads back; short, the payment is requested from the portal and the region', () => {
    const opened = decided(step(undefined, from('portal-demo', 'application-submitted', app())));
    const proof = { proof: docRef, amount: { amountCents: 35_800, currency: 'EUR' } };
    expect(needs(opened.state, from('portal-demo', 'fee-proof-submitted', proof))).toEqual([
      { kind: 'document-reads-back', key: 'fee-proof', ref: docRef, slot: 'fee-proof' },
    ]);
    const unread = decided(
      step(opened.state, from('portal-demo', 'fee-proof-submitted', proof), ctx, { 'fee-proof': false }),
    );
    expect(unread.state.fee).toMatchObject({ paidCents: 0, status: 'requested' });
    expect(unread.send).toEqual([
      expect.objectContaining({
        type: 'fee-payment-requested',
        payload: expect.objectContaining({ reason: 'not-paid' }),
      }),
    ]);
  });

  test("the region's messages: a work decision from another region is ERR_NOT_COMPETENT before any read; its document is checked", () => {
    const admissible = { ...ready, phase: 'admissible' as const, work: undefined };
    const w = { decision: 'granted', decidedOn: '2027-01-20', period, decisionDocument: docRef };
    const other = needs(admissible, from('region-wallonie', 'work-authorisation-decided', w));
    expect(outcomeCode(other)).toBe('ERR_NOT_COMPETENT');
    expect(needs(admissible, from('region-bruxelles', 'work-authorisation-decided', w))).toEqual([
      {
        kind: 'decision-document',
        ref: docRef,
        expected: {
          document: 'work-authorisation',
          dossierId: ctx.dossierId,
          issuer: 'region-bruxelles',
          period,
          outcome: 'granted',
        },
      },
    ]);
    const early = needs(undefined, from('region-bruxelles', 'completeness-ruled', { outcome: 'complete' }));
    expect(outcomeCode(early)).toBe('ERR_DOSSIER_NOT_YET_KNOWN');
  });

  test('Art. 105/48 - a refused work authorisation ends in annex 48 by law, with or without a policy', () => {
    const admissible = { ...ready, phase: 'admissible' as const, work: undefined };
    const w = {
      decision: 'refused',
      decidedOn: '2027-01-20',
      reason: 'labour-market',
      decisionDocument: docRef,
    };
    const out = decided(step(admissible, from('region-bruxelles', 'work-authorisation-decided', w)));
    expect(out.state).toMatchObject({ phase: 'closed', residence: { annex: '48' } });
    expect(out.send).toEqual([
      expect.objectContaining({
        type: 'residence-decided',
        to: ['region-bruxelles', 'portal-demo'],
        causationId: 'm-1',
      }),
    ]);
  });

  test('Art. 105/46 - decide-residence owed once the work is granted and the fee paid; the grant goes to region, portal, post and commune', () => {
    expect(owedActions(table, ready)).toEqual([{ action: 'decide-residence' }]);
    const family = { ...ready, decisionDeadline: '2027-04-04' };
    expect(owedActions(table, family)).toEqual([{ action: 'decide-residence', deadline: '2027-04-04' }]);
    const out = decided(
      step(ready, act('decide-residence', { decision: 'granted' }), { ...ctx, causationId: null }),
    );
    expect(out.state).toMatchObject({
      phase: 'granted',
      residence: { annex: '46', period, visaRequired: true },
    });
    expect(out.state.taken).toEqual([
      { action: 'decide-residence', stepId: 'decide-residence:1', on: '2027-02-01', by: actor },
    ]);
    expect(out.send).toEqual([
      expect.objectContaining({
        type: 'residence-decided',
        to: ['region-bruxelles', 'portal-demo', 'post-lagos', 'commune-21004'],
        causationId: null,
        actor,
      }),
    ]);
    expect(owedActions(table, out.state)).toEqual([]);
  });

  test('Art. 105/46 - decide-residence out of sequence: fee unpaid, before the work decision, twice, closed, unknown', () => {
    const grant = act('decide-residence', { decision: 'granted' });
    const unpaid = step({ ...ready, fee: { paidCents: 0, status: 'none' } }, grant);
    expect(outcomeCode(unpaid)).toBe('ERR_OUT_OF_SEQUENCE');
    const phases: OfficePhase[] = ['submitted', 'granted', 'visa-issued', 'closed'];
    expect(codesInPhases(table, ready, phases, grant, ctx)).toEqual([
      'ERR_OUT_OF_SEQUENCE',
      'ERR_DUPLICATE_DECISION',
      'ERR_DUPLICATE_DECISION',
      'ERR_DOSSIER_CLOSED',
    ]);
    const none = step(undefined, grant);
    expect(outcomeCode(none)).toBe('ERR_UNKNOWN_DOSSIER');
  });

  test('policy - automaticOfficePolicy grants in the step that completes the dossier; without it the dossier waits', () => {
    const waiting = { ...ready, phase: 'admissible' as const, work: undefined };
    const w = { decision: 'granted', decidedOn: '2027-01-20', period, decisionDocument: docRef };
    const without = step(waiting, from('region-bruxelles', 'work-authorisation-decided', w));
    expect(decided(without).state.phase).toBe('work-decided');
    const auto = decided(
      step(
        waiting,
        from('region-bruxelles', 'work-authorisation-decided', w),
        ctx,
        {},
        automaticOfficePolicy,
      ),
    );
    expect(auto.state.phase).toBe('granted');
    expect(auto.send).toEqual([expect.objectContaining({ type: 'residence-decided', causationId: 'm-1' })]);
  });

  test('Art. 105/54 - end-stay: the annex 52 to region, portal and commune; refused before the grant or once closed', () => {
    const granted = { ...ready, phase: 'permit-issued' as const };
    const input = { reason: 'work-authorisation-withdrawn', endsOn: '2027-09-30' };
    const out = decided(step(granted, act('end-stay', input)));
    expect(out.state).toMatchObject({ phase: 'closed', stayEndsOn: '2027-09-30', closedBecause: 'annex-52' });
    expect(out.send).toEqual([
      expect.objectContaining({
        type: 'stay-ended',
        to: ['region-bruxelles', 'portal-demo', 'commune-21004'],
      }),
    ]);
    const early = step(ready, act('end-stay', input));
    expect(outcomeCode(early)).toBe('ERR_OUT_OF_SEQUENCE');
    const closed = step(out.state, act('end-stay', input));
    expect(outcomeCode(closed)).toBe('ERR_DOSSIER_CLOSED');
  });

  test('Art. 1/2/1, 26/2 §3 - the deadline steps: annex 43 when the fee is unpaid at the date; the overrun reported once', () => {
    const requested = {
      ...ready,
      phase: 'admissible' as const,
      work: undefined,
      fee: {
        paidCents: 0,
        status: 'requested' as const,
        request: {
          reason: 'not-paid' as const,
          amountDue: { amountCents: 35_800, currency: 'EUR' as const },
          requestedOn: '2027-01-04',
          payBy: '2027-01-25',
        },
      },
    };
    const fee = { kind: 'deadline', deadline: 'fee-deadline' } as const;
    expect(table.deadlines['fee-deadline']!.deadline(requested)).toBe('2027-01-25');
    const onTime = step(requested, fee, { ...ctx, today: '2027-01-25' });
    expect(decided(onTime).decided).toBe(false);
    const late = decided(step(requested, fee, { ...ctx, today: '2027-01-26', causationId: null }));
    expect(late.state).toMatchObject({ phase: 'closed', residence: { annex: '43' } });

    const family = {
      ...requested,
      fee: { paidCents: 0, status: 'none' as const },
      decisionDeadline: '2027-04-04',
    };
    const overrun = decided(
      step(family, { kind: 'deadline', deadline: 'decision-deadline' }, { ...ctx, today: '2027-04-05' }),
    );
    expect(overrun.notices).toEqual([expect.objectContaining({ kind: 'deadline', type: 'family-decision' })]);
    // reported to the integrator too: codes and dates only
    expect(overrun.send).toEqual([
      expect.objectContaining({
        type: 'deadline-overrun',
        to: [family.routing.portalId],
        payload: {
          deadline: 'family-decision',
          article: 'AR 8.10.1981 Art. 26/2 §3, 26/2/1 §3',
          dueOn: '2027-04-04',
          reportedOn: '2027-04-05',
        },
      }),
    ]);
    const again = step(
      overrun.state,
      { kind: 'deadline', deadline: 'decision-deadline' },
      { ...ctx, today: '2027-04-06' },
    );
    expect(decided(again).decided).toBe(false);
  });

  test("Art. 105/47 §2 al. 2, 105/58 al. 2 - the commune's residence check is recorded; a negative one is reported, from that commune only", () => {
    const arrived: OfficeDossier = {
      ...ready,
      phase: 'arrived',
      routing: { ...ready.routing, communeId: 'commune-21004' },
    };
    const negative = {
      communeId: 'commune-21004',
      checkedOn: '2027-02-01',
      outcome: 'negative',
      reason: 'address-not-found',
    };
    const out = decided(step(arrived, from('commune-21004', 'residence-checked', negative)));
    expect(out.state).toMatchObject({
      phase: 'arrived',
      residenceCheck: { outcome: 'negative', checkedOn: '2027-02-01', reason: 'address-not-found' },
    });
    expect(out.notices).toEqual([
      expect.objectContaining({ kind: 'notice', type: 'residence-check-negative' }),
    ]);
    const positive = { communeId: 'commune-21004', checkedOn: '2027-02-03', outcome: 'positive' };
    const again = decided(step(out.state, from('commune-21004', 'residence-checked', positive)));
    expect(again.state.residenceCheck).toEqual({ outcome: 'positive', checkedOn: '2027-02-03' });
    expect(again.notices).toEqual([]);
    const other = step(
      arrived,
      from('commune-11002', 'residence-checked', { ...positive, communeId: 'commune-11002' }),
    );
    expect(outcomeCode(other)).toBe('ERR_NOT_COMPETENT');
    const beforeArrival = step(ready, from('commune-21004', 'residence-checked', positive));
    expect(outcomeCode(beforeArrival)).toBe('ERR_OUT_OF_SEQUENCE');
  });

  test('no legal input makes a rule throw: every schema-valid action input in every phase decides or refuses', () => {
    const inputs: [string, unknown][] = [
      ['decide-residence', { decision: 'granted' }],
      ...[
        'conditions-not-met',
        'public-order',
        'public-health',
        'fraud',
        'work-authorisation-refused',
        'other',
      ].map((reason): [string, unknown] => ['decide-residence', { decision: 'refused', reason }]),
      ['end-stay', { reason: 'fraud', endsOn: '2027-02-01' }],
      ['end-stay', { reason: 'other', endsOn: '1970-01-01' }],
      ['decide-mobility', { decision: 'no-objection' }],
      ['decide-mobility', { decision: 'objected', reason: 'public-order' }],
    ];
    const trainee = { ...ready, ictRole: 'trainee' as const, firstMemberStatePermitValidUntil: '2027-01-01' };
    const refusedWork = { ...ready, work: { decision: 'refused' as const, reason: 'labour-market' } };
    const mobility: OfficeDossier = {
      ...ready,
      mobility: { period, documents: [], notifiedOn: '2027-01-04', objectionDeadline: '2027-01-24' },
    };
    // no dossier yet, then every phase of the body's machine
    const phases = [
      undefined,
      ...(Object.keys(DOSSIER_MACHINES['immigration-office'].phases) as OfficePhase[]),
    ];
    for (const phase of phases) {
      for (const base of [ready, trainee, refusedWork, mobility]) {
        for (const [action, input] of inputs) {
          expect(() =>
            step(phase ? { ...base, phase } : undefined, act(action, input), ctx, {}, automaticOfficePolicy),
          ).not.toThrow();
        }
      }
    }
  });

  test('actions - request-information, decide-residence, decide-mobility and end-stay are described with the phases allowing them', () => {
    expect(describeActions(table).map((a) => [a.name, a.allowedIn, a.sends])).toEqual([
      ['request-information', ['admissible', 'work-decided'], ['information-requested']],
      ['decide-residence', ['admissible', 'work-decided'], ['residence-decided']],
      ['decide-mobility', ['submitted', 'admissible'], ['short-term-mobility-decided']],
      ['end-stay', ['granted', 'visa-issued', 'arrived', 'permit-issued'], ['stay-ended']],
    ]);
  });
  test("inputs - each action's input schema resolves against the message schemas and validates what a back office sends", async () => {
    const { validators, references } = await loadTableInputs(table);
    // only whole shared definitions are left as references (what OpenAPI bundling rewrites)
    for (const ref of references) expect(ref).toMatch(/defs\/common\.v1\.json#\/\$defs\/[A-Za-z]+"$/);
    validators.get('decide-residence')!({ decision: 'refused', reason: 'public-order' });
    validators.get('end-stay')!({ reason: 'fraud', endsOn: '2027-09-30' });
    for (const [action, bad] of [
      ['decide-residence', { decision: 'refused', reason: 'x' }],
      ['end-stay', { reason: 'other', endsOn: 'JANSSENS Marie' }],
      ['end-stay', { reason: 'other' }],
    ] as const) {
      let err: Error | undefined;
      try {
        validators.get(action)!(bad);
      } catch (e) {
        err = e as Error;
      }
      expect(err).toMatchObject({ code: 'ERR_ACTION_INPUT_INVALID' });
      expect(err!.message).not.toContain('JANSSENS');
    }
  });

  test('Art. 26/2 §3, 26/2/1 §3 - a family member: the Office rules on the documents, decides residence, no region', () => {
    const ref = (n: number) => ({ ...docRef, sha256: String(n).repeat(64), objectKey: `d/${n}` });
    const familyApp = app({
      category: 'ict',
      ict: undefined,
      familyMemberOf: { scheme: 'transfer' },
      submittedAt: '2027-01-02T10:00:00Z',
      documents: {
        passportCopy: ref(1),
        healthInsurance: { form: 'insurer', document: ref(2), coversUntil: '2031-12-31' },
      },
    });
    delete familyApp.ict;
    const read = { 'slot:passportCopy': true, 'slot:healthInsurance': true, 'slot:familyLink': true };
    expect(needs(undefined, from('portal-demo', 'application-submitted', familyApp))).toHaveLength(2);
    const opened = decided(
      step(undefined, from('portal-demo', 'application-submitted', familyApp), ctx, read),
    );
    // the 90 days run from the day of the application, not the day the Office opened the dossier
    expect(opened.state).toMatchObject({ phase: 'submitted', decisionDeadline: '2027-04-02' });
    expect(opened.state.routing.scheme).toBe('family');
    // the proof of the family link is missing: asked for once, of the integrator only
    expect(opened.send).toEqual([
      expect.objectContaining({
        type: 'completeness-ruled',
        to: ['portal-demo'],
        payload: expect.objectContaining({ outcome: 'missing-items', missingItems: ['familyLink'] }),
      }),
    ]);
    const proof = { proof: docRef, amount: { amountCents: 35_800, currency: 'EUR' } };
    const paid = decided(
      step(opened.state, from('portal-demo', 'fee-proof-submitted', proof), ctx, { 'fee-proof': true }),
    );
    expect(paid.send).toEqual([]);
    const added = {
      reason: 'completion',
      documents: { familyLink: ref(3) },
      addedAt: '2027-01-20T10:00:00Z',
    };
    const complete = decided(step(paid.state, from('portal-demo', 'documents-added', added), ctx, read));
    expect(complete.state.phase).toBe('admissible');
    expect(complete.send).toEqual([
      expect.objectContaining({
        type: 'completeness-ruled',
        payload: expect.objectContaining({ outcome: 'complete' }),
      }),
    ]);
    expect(owedActions(table, complete.state)).toEqual([
      { action: 'decide-residence', deadline: '2027-04-02' },
    ]);
    const granted = decided(step(complete.state, act('decide-residence', { decision: 'granted' })));
    expect(granted.send).toEqual([
      expect.objectContaining({
        type: 'residence-decided',
        // the post for the visa, the integrator; no region
        to: ['portal-demo', 'post-lagos', 'commune-21004'],
        payload: expect.objectContaining({
          annex: '46',
          permitToIssue: 'residence-permit',
          visaRequired: true,
          period: familyApp.requestedPeriod,
        }),
      }),
    ]);
  });

  test('Art. 26/2 §3 - a family member whose passport is not valid for the period is asked for a new copy', () => {
    const familyApp = app({
      familyMemberOf: { scheme: 'mobility' },
      applicant: { ...app().applicant, passportExpiresOn: '2028-01-01' },
      documents: {
        passportCopy: docRef,
        familyLink: docRef,
        healthInsurance: { form: 'insurer', document: docRef, coversUntil: '2031-12-31' },
      },
    });
    delete familyApp.ict;
    const read = { 'slot:passportCopy': true, 'slot:healthInsurance': true, 'slot:familyLink': true };
    const opened = decided(
      step(undefined, from('portal-demo', 'application-submitted', familyApp), ctx, read),
    );
    expect(opened.send[0]?.payload).toMatchObject({
      outcome: 'missing-items',
      missingItems: ['passportCopy'],
    });
  });
  test('Directives 2014/66/EU Art. 15(1), 2011/98/EU Art. 5(2) - residence undecided past its deadline: owed by that date, the overrun reported once', () => {
    // an ICT: 90 days from the day the region ruled the application complete
    const ict = { ...ready, completeOn: '2027-01-11' };
    expect(owedActions(table, ict)).toEqual([{ action: 'decide-residence', deadline: '2027-04-11' }]);
    const scan = { kind: 'deadline', deadline: 'residence-decision' } as const;
    const late = decided(step(ict, scan, { ...ctx, today: '2027-04-12', causationId: null }));
    expect(late.send).toEqual([
      expect.objectContaining({
        type: 'deadline-overrun',
        to: ['portal-demo'],
        payload: expect.objectContaining({ deadline: 'residence-decision', dueOn: '2027-04-11' }),
      }),
    ]);
    const again = step(late.state, scan, { ...ctx, today: '2027-04-13' });
    expect(decided(again).decided).toBe(false);
    // another single permit: four months from the application
    const standard = { ...ready, routing: { ...ready.routing, scheme: 'standard' as const } };
    expect(table.deadlines['residence-decision']!.deadline(standard)).toBe('2027-05-04');
    // decided: nothing is watched any more
    expect(
      table.deadlines['residence-decision']!.deadline({ ...ict, residence: { annex: '46' } }),
    ).toBeUndefined();
  });
  test("Art. 105/67 - the answer to the Office's request not given by the date set: reported once to the body and the integrator", () => {
    const asked = decided(
      step(ready, {
        kind: 'action',
        action: 'request-information',
        input: { concern: 'means-of-subsistence', addressee: 'applicant', respondWithinWorkingDays: 5 },
        stepId: 's-ask',
      }),
    );
    const scan = { kind: 'deadline', deadline: 'information-answer' } as const;
    const respondBy = table.deadlines['information-answer']!.deadline(asked.state)!;
    const onTheDay = step(asked.state, scan, { ...ctx, today: respondBy });
    expect(decided(onTheDay).decided).toBe(false);
    const late = decided(step(asked.state, scan, { ...ctx, today: addDays(respondBy, 1) }));
    expect(late.notices).toEqual([expect.objectContaining({ kind: 'deadline', type: 'information-answer' })]);
    expect(late.send).toEqual([
      expect.objectContaining({
        type: 'deadline-overrun',
        to: ['portal-demo'],
        payload: expect.objectContaining({ deadline: 'information-answer', dueOn: respondBy }),
      }),
    ]);
    const again = step(late.state, scan, { ...ctx, today: addDays(respondBy, 2) });
    expect(decided(again).decided).toBe(false);
  });

  describe('Art. 105/43 - a short-term mobility (directive 2014/66/EU Art. 21)', () => {
    const ref = (n: number) => ({ ...docRef, sha256: String(n).repeat(64), objectKey: `d/${n}` });
    const notification = (overrides: Partial<ApplicationSubmitted> = {}): ApplicationSubmitted => {
      const a = app({
        regionId: 'region-vlaanderen',
        workplaceCommuneId: 'commune-11002',
        ict: sampleShortTermMobility(),
        requestedPeriod: { from: '2027-03-01', to: '2027-04-29' },
        documents: { passportCopy: ref(1), employmentContract: ref(2), firstMemberStatePermit: ref(6) },
        ...overrides,
      });
      delete a.consularPostId;
      delete a.residenceCommuneId;
      return a;
    };
    const read = {
      'slot:passportCopy': true,
      'slot:employmentContract': true,
      'slot:firstMemberStatePermit': true,
    };
    const open = (a: ApplicationSubmitted, facts: Record<string, boolean> = read) => {
      const out = decided(step(undefined, from('portal-demo', 'application-submitted', a), ctx, facts));
      return out;
    };

    test('complete: the 20 days run from today, the decision is owed by their end, only the integrator hears', () => {
      expect(needs(undefined, from('portal-demo', 'application-submitted', notification()))).toHaveLength(3);
      const opened = open(notification());
      expect(opened.state).toMatchObject({
        phase: 'admissible',
        mobility: { notifiedOn: '2027-02-01', objectionDeadline: '2027-02-21' },
      });
      expect(opened.send).toEqual([
        expect.objectContaining({
          type: 'completeness-ruled',
          to: ['portal-demo'],
          payload: expect.objectContaining({ outcome: 'complete' }),
        }),
      ]);
      expect(owedActions(table, opened.state)).toEqual([
        { action: 'decide-mobility', deadline: '2027-02-21' },
      ]);
      // no fee is owed for a notification: a proof is refused, not counted
      const proof = { proof: docRef, amount: { amountCents: 35_800, currency: 'EUR' } };
      const fee = step(opened.state, from('portal-demo', 'fee-proof-submitted', proof), ctx, {
        'fee-proof': true,
      });
      expect(outcomeCode(fee)).toBe('ERR_OUT_OF_SEQUENCE');
      // the decision of a residence is not this dossier's
      expect(owedActions(table, opened.state).map((o) => o.action)).not.toContain('decide-residence');

      const stated = decided(step(opened.state, act('decide-mobility', { decision: 'no-objection' })));
      expect(stated.state).toMatchObject({
        phase: 'closed',
        closedBecause: 'short-term-mobility:no-objection',
      });
      expect(stated.send).toEqual([
        expect.objectContaining({
          type: 'short-term-mobility-decided',
          to: ['portal-demo'],
          payload: expect.objectContaining({
            outcome: 'no-objection',
            tacit: false,
            period: { from: '2027-03-01', to: '2027-04-29' },
            objectionDeadline: '2027-02-21',
          }),
          documents: [
            expect.objectContaining({ objectKey: expect.stringMatching(/^decisions\/immigration-office\//) }),
          ],
        }),
      ]);
      const twice = step(stated.state, act('decide-mobility', { decision: 'no-objection' }));
      expect(outcomeCode(twice)).toBe('ERR_DOSSIER_CLOSED');
    });

    test('the 20 days pass without an answer: no objection, tacitly, at the first scan after them; an objection then is refused', () => {
      const opened = open(notification());
      const scan = (today: string) =>
        step(opened.state, { kind: 'deadline', deadline: 'objection-deadline' }, { ...ctx, today });
      const onTime = scan('2027-02-21');
      expect(decided(onTime).decided).toBe(false);
      const late = step(
        opened.state,
        act('decide-mobility', { decision: 'objected', reason: 'public-order' }),
        { ...ctx, today: '2027-02-22' },
      );
      expect(outcomeCode(late)).toBe('ERR_OUT_OF_SEQUENCE');
      const tacit = decided(scan('2027-02-22'));
      expect(tacit.decided).toBe(true);
      expect(tacit.state.phase).toBe('closed');
      expect(tacit.send).toEqual([
        expect.objectContaining({
          type: 'short-term-mobility-decided',
          payload: expect.objectContaining({ outcome: 'no-objection', tacit: true, decidedOn: '2027-02-22' }),
        }),
      ]);
    });

    test('an objection within the 20 days closes the dossier; beyond 90 days in 180 the Office objects at once', () => {
      const opened = open(notification());
      const objected = decided(
        step(opened.state, act('decide-mobility', { decision: 'objected', reason: 'fraudulent-documents' })),
      );
      expect(objected.state).toMatchObject({
        phase: 'closed',
        closedBecause: 'short-term-mobility:objected',
        mobility: { decision: { outcome: 'objected', reason: 'fraudulent-documents' } },
      });
      expect(objected.send).toEqual([
        expect.objectContaining({
          type: 'short-term-mobility-decided',
          payload: expect.objectContaining({ outcome: 'objected', reason: 'fraudulent-documents' }),
        }),
      ]);

      const tooLong = open(notification({ requestedPeriod: { from: '2027-03-01', to: '2027-06-30' } }));
      expect(tooLong.state).toMatchObject({
        phase: 'closed',
        mobility: { decision: { outcome: 'objected', reason: 'maximum-duration-reached' } },
      });
      expect(tooLong.send?.map((m) => [m.type, (m.payload as { outcome: string }).outcome])).toEqual([
        ['completeness-ruled', 'complete'],
        ['short-term-mobility-decided', 'objected'],
      ]);
    });

    test('incomplete: the missing items asked once; documents added complete the notification and start the 20 days', () => {
      const opened = open(notification(), { ...read, 'slot:firstMemberStatePermit': false });
      expect(opened.state.phase).toBe('submitted');
      expect(opened.send).toEqual([
        expect.objectContaining({
          type: 'completeness-ruled',
          to: ['portal-demo'],
          payload: expect.objectContaining({
            outcome: 'missing-items',
            missingItems: ['firstMemberStatePermit'],
          }),
        }),
      ]);
      expect(owedActions(table, opened.state)).toEqual([]);
      // not complete: no answer of no objection yet, an objection may come
      const early = step(opened.state, act('decide-mobility', { decision: 'no-objection' }));
      expect(outcomeCode(early)).toBe('ERR_OUT_OF_SEQUENCE');
      const added = {
        reason: 'completion',
        documents: { firstMemberStatePermit: ref(7) },
        firstMemberStatePermitValidUntil: '2028-12-31',
        addedAt: '2027-02-03T10:00:00Z',
      };
      const later = { ...ctx, today: '2027-02-03' };
      const complete = decided(
        step(opened.state, from('portal-demo', 'documents-added', added), later, {
          'slot:firstMemberStatePermit': true,
        }),
      );
      expect(complete.state).toMatchObject({
        phase: 'admissible',
        firstMemberStatePermitValidUntil: '2028-12-31',
        mobility: { notifiedOn: '2027-02-03', objectionDeadline: '2027-02-23' },
      });
      expect(complete.send).toEqual([
        expect.objectContaining({ payload: expect.objectContaining({ outcome: 'complete' }) }),
      ]);
    });
  });
});
