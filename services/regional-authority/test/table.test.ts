import { type RegionPhase, type StepCommand, describeActions, owedActions } from '@passerelle/procedure';
import { DOSSIER_MACHINES } from '@passerelle/procedure/internal';
import {
  actionBy,
  decided,
  codesInPhases,
  loadTableInputs,
  messageFrom,
  outcomeCode,
  sampleApplication,
  sampleDocument,
  tableStepper,
} from '@passerelle/service-host/testing';
import { describe, expect, test } from 'vitest';
import { type RegionDossier, automaticRegionPolicy, regionTable } from '../src/index.js';
import { openDossier } from '../src/rules.js';

const table = regionTable();
const ref = sampleDocument;
const app = sampleApplication({ requestedPeriod: { from: '2027-03-01', to: '2031-03-01' } });
const { ctx, step, needs } = tableStepper(table, {
  participant: 'region-bruxelles',
  dossierId: 'D-REGION-0001',
  today: '2027-01-04',
  causationId: 'm-1',
});
const message = (type: string, payload: unknown): StepCommand => messageFrom('portal-demo', type, payload);
const allRead = {
  'slot:passportCopy': true,
  'slot:employmentContract': true,
  'slot:healthInsurance': true,
  'slot:medicalCertificate': true,
  'slot:criminalRecord': true,
};
const actor = { clientId: 'backoffice-bxl', officerId: 'officer-42' };
const decideWork = (input: unknown): StepCommand => actionBy(actor, 'decide-work', input);
const admissible: RegionDossier = {
  ...openDossier(app, 'region-bruxelles', 'portal-demo', '2027-01-04'),
  phase: 'admissible',
  feeProof: true,
};

/** {@link app} opened and made complete by its fee proof, both on `ctx.today`. */
function completeDossier(): RegionDossier {
  const opened = decided(step(undefined, message('application-submitted', app), ctx, allRead));
  const complete = decided(
    step(opened.state, message('fee-proof-submitted', { proof: ref(9) }), ctx, { 'fee-proof': true }),
  );
  return complete.state;
}

describe('regional authority table', () => {
  test('Art. 105/45 §2 - an application needs each filled slot read back; a slot that does not read back is missing', () => {
    expect(needs(undefined, message('application-submitted', app))).toEqual([
      ...[
        'passportCopy',
        'employmentContract',
        'healthInsurance',
        'medicalCertificate',
        'criminalRecord',
      ].map((slot): unknown =>
        expect.objectContaining({ kind: 'document-reads-back', key: `slot:${slot}`, slot }),
      ),
      // Art. 31 16°, 17°: the region's own record of the transferee's ICT stays
      { kind: 'lookup', key: 'ict-stays', lookup: 'ict-stays', arg: 'NGA:A1234567' },
    ]);
    const out = decided(
      step(undefined, message('application-submitted', app), ctx, { ...allRead, 'slot:passportCopy': false }),
    );
    expect(out.state).toMatchObject({ phase: 'received', feeProof: false });
    expect(out.state.documents).not.toContain('passportCopy');
    expect(out.send).toEqual([]); // the fee proof may still come: no ruling yet
  });

  test('agreement - with the fee proof the ruling follows at once: complete, with the admissibility document, caused by the message', () => {
    const opened = decided(step(undefined, message('application-submitted', app), ctx, allRead));
    const out = decided(
      step(
        opened.state,
        message('fee-proof-submitted', { proof: ref(9) }),
        { ...ctx, causationId: 'm-2' },
        { 'fee-proof': true },
      ),
    );
    expect(out.state.phase).toBe('admissible');
    expect(out.send).toEqual([
      expect.objectContaining({
        type: 'completeness-ruled',
        payload: expect.objectContaining({ outcome: 'complete' }),
        causationId: 'm-2',
        documents: [
          expect.objectContaining({ objectKey: expect.stringMatching(/^decisions\/region-bruxelles\//) }),
        ],
      }),
    ]);
    // no policy: the work authorisation is owed, left to a case officer, within the ICT directive's 90 days
    // from the complete application (Directive 2014/66/EU Art. 15(1))
    expect(owedActions(table, out.state)).toEqual([{ action: 'decide-work', deadline: '2027-04-04' }]);
  });

  test('policy - automaticRegionPolicy decides the work in the same step, capped at 3 years for a manager', () => {
    const out = decided(
      step(
        { ...admissible, phase: 'received', feeProof: false },
        message('fee-proof-submitted', { proof: ref(9) }),
        ctx,
        { 'fee-proof': true },
        automaticRegionPolicy,
      ),
    );
    expect(out.state).toMatchObject({
      phase: 'work-decided',
      work: { decision: 'granted', period: { to: '2030-02-28' } },
    });
    expect(out.send.map((m) => m.type)).toEqual(['completeness-ruled', 'work-authorisation-decided']);
    expect(out.state.taken).toEqual([expect.objectContaining({ action: 'decide-work', automatic: true })]);
  });

  test('Art. 105/46 §2 - decide-work in an admissible dossier: the decision and its document, who decided recorded', () => {
    const out = decided(
      step(admissible, decideWork({ decision: 'refused', reason: 'labour-market' }), {
        ...ctx,
        causationId: null,
      }),
    );
    expect(out.state).toMatchObject({
      phase: 'work-decided',
      work: { decision: 'refused', reason: 'labour-market' },
    });
    expect(out.state.taken).toEqual([
      { action: 'decide-work', stepId: 'decide-work:1', on: '2027-01-04', by: actor },
    ]);
    expect(out.send).toEqual([
      expect.objectContaining({
        type: 'work-authorisation-decided',
        payload: expect.objectContaining({ decision: 'refused', reason: 'labour-market' }),
        causationId: null,
        actor,
      }),
    ]);
    expect(out.summary).toBe('refused');
  });

  test('Art. 105/46 §2 - decide-work out of sequence: before admissibility, twice, unknown or closed dossier, a period nothing lawful is left of', () => {
    const grant = decideWork({ decision: 'granted', period: { from: '2027-03-01', to: '2028-01-01' } });
    const phases: RegionPhase[] = ['received', 'awaiting-items', 'work-decided', 'granted', 'closed'];
    expect(codesInPhases(table, admissible, phases, grant, ctx)).toEqual([
      'ERR_OUT_OF_SEQUENCE',
      'ERR_OUT_OF_SEQUENCE',
      'ERR_DUPLICATE_DECISION',
      'ERR_DUPLICATE_DECISION',
      'ERR_DOSSIER_CLOSED',
    ]);
    const none = step(undefined, grant);
    expect(outcomeCode(none)).toBe('ERR_UNKNOWN_DOSSIER');
    const backwards = step(
      admissible,
      decideWork({ decision: 'granted', period: { from: '2027-03-01', to: '2027-02-01' } }),
    );
    expect(outcomeCode(backwards)).toBe('ERR_PERIOD_INVALID');
  });

  test('Art. 105/45 §2 - the review deadline: not due before the review day, then the items are asked for, then inadmissible', () => {
    const waiting = { ...admissible, phase: 'received' as const, feeProof: false };
    const review = { kind: 'deadline', deadline: 'review' } as const;
    const early = step(waiting, review, { ...ctx, today: '2027-01-05' });
    expect(decided(early).decided).toBe(false);
    const asked = decided(step(waiting, review, { ...ctx, today: '2027-01-06', causationId: null }));
    expect(asked.state).toMatchObject({
      phase: 'awaiting-items',
      missing: ['fee-proof'],
      respondBy: '2027-01-27',
    });
    expect(table.deadlines['review']!.deadline(asked.state)).toBe('2027-01-27');
    const late = decided(step(asked.state, review, { ...ctx, today: '2027-01-28' }));
    expect(late.state).toMatchObject({ phase: 'closed', closedBecause: 'inadmissible:fee-proof-missing' });
  });

  test("messages - the other bodies' messages follow the dossier; one out of sequence is refused", () => {
    const granted = step(
      { ...admissible, phase: 'work-decided' },
      message('residence-decided', { annex: '46' }),
    );
    expect(decided(granted).state.phase).toBe('granted');
    const permit = step({ ...admissible, phase: 'granted' }, message('permit-issued', {}));
    expect(decided(permit).state.phase).toBe('permit-issued');
    const early = step(admissible, message('permit-issued', {}));
    expect(outcomeCode(early)).toBe('ERR_OUT_OF_SEQUENCE');
    const unknown = needs(undefined, message('fee-payment-requested', {}));
    expect(outcomeCode(unknown)).toBe('ERR_DOSSIER_NOT_YET_KNOWN');
  });

  test('no legal input makes a rule throw: every schema-valid decide-work input in every phase decides or refuses', () => {
    const inputs = [
      { decision: 'granted', period: { from: '2027-03-01', to: '2031-03-01' } },
      { decision: 'granted', period: { from: '2027-03-01', to: '2027-03-01' } },
      { decision: 'granted', period: { from: '2031-03-01', to: '2027-03-01' } },
      { decision: 'granted', period: { from: '2024-02-29', to: '2099-12-31' } },
      ...['conditions-not-met', 'labour-market', 'employer-excluded', 'other'].map((reason) => ({
        decision: 'refused',
        reason,
      })),
    ];
    // no dossier yet, then every phase of the body's machine
    const phases = [
      undefined,
      ...(Object.keys(DOSSIER_MACHINES['regional-authority'].phases) as RegionPhase[]),
    ];
    const mobility = {
      ...admissible,
      firstMemberStatePermitValidUntil: '2027-01-31',
      ictRole: 'trainee' as const,
    };
    for (const phase of phases) {
      for (const base of [admissible, mobility]) {
        for (const input of inputs) {
          const state = phase ? { ...base, phase } : undefined;
          expect(() => step(state, decideWork(input), ctx, {}, automaticRegionPolicy)).not.toThrow();
        }
      }
    }
  });

  test('actions - request-information and decide-work are described with their input, the phase allowing them and what they send', () => {
    expect(describeActions(table)).toEqual([
      expect.objectContaining({
        name: 'request-information',
        allowedIn: ['admissible'],
        opens: false,
        sends: ['information-requested'],
      }),
      expect.objectContaining({
        name: 'decide-work',
        allowedIn: ['admissible'],
        opens: false,
        sends: ['work-authorisation-decided'],
      }),
    ]);
  });
  test("inputs - each action's input schema resolves against the message schemas and validates what a back office sends", async () => {
    const { contracts, inputs, validators, references } = await loadTableInputs(table);
    // only whole shared definitions are left as references (what OpenAPI bundling rewrites)
    for (const ref of references) expect(ref).toMatch(/defs\/common\.v1\.json#\/\$defs\/[A-Za-z]+"$/);
    const check = validators.get('decide-work')!;
    check({ decision: 'refused', reason: 'labour-market' });
    check({ decision: 'granted', period: { from: '2027-03-01', to: '2028-02-29' } });
    for (const bad of [
      { decision: 'refused', reason: 'JANSSENS' },
      { decision: 'granted', period: { from: '2027-02-30', to: '2028-01-01' } },
      { decision: 'granted' },
    ]) {
      expect(() => check(bad)).toThrow(expect.objectContaining({ code: 'ERR_ACTION_INPUT_INVALID' }));
    }
    // the reasons are the message schema's
    const work = contracts.schemas().find((s) => s.type === 'work-authorisation-decided')!.schema as {
      oneOf: { properties: { reason?: unknown } }[];
    };
    expect(
      (inputs.get('decide-work') as { oneOf: { properties: { reason?: unknown } }[] }).oneOf[1]!.properties
        .reason,
    ).toEqual(work.oneOf[1]!.properties.reason);
  });

  test('Art. 31 16°, 17° - the ICT periods the region granted are recorded and count towards a later grant', () => {
    // the register knows 2025-03-01 … 2027-02-28 of this transferee, under a pseudonym
    const recorded = { key: 'pseudonym-1', stays: [{ from: '2025-03-01', to: '2027-02-28' }] };
    const opened = decided(
      step(undefined, message('application-submitted', app), ctx, { ...allRead, 'ict-stays': recorded }),
    );
    expect(opened.state).toMatchObject({ transfereeKey: 'pseudonym-1', ictStays: recorded.stays });
    const state: RegionDossier = { ...opened.state, phase: 'admissible', feeProof: true };
    const out = decided(
      step(state, {
        kind: 'action',
        action: 'decide-work',
        input: { decision: 'granted', period: { from: '2027-03-01', to: '2030-02-28' } },
        stepId: 's-1',
      }),
    );
    // a manager's three years less the two already used: one year left
    const period = { from: '2027-03-01', to: '2028-02-29' };
    expect(out.state.work).toEqual({ decision: 'granted', period });
    expect(out.effects).toEqual([
      { kind: 'record-ict-stay', arg: { key: 'pseudonym-1', dossierId: ctx.dossierId, period } },
    ]);
  });

  test('Art. 105/67 - in case of doubt the region asks the employer or the applicant; the answer clears the request', () => {
    const asked = decided(
      step(admissible, {
        kind: 'action',
        action: 'request-information',
        input: { concern: 'means-of-subsistence', addressee: 'employer' },
        stepId: 's-ask',
      }),
    );
    const request = { concern: 'means-of-subsistence', addressee: 'employer', requestedOn: ctx.today };
    expect(asked.send).toEqual([
      expect.objectContaining({
        type: 'information-requested',
        to: ['portal-demo'],
        payload: expect.objectContaining(request),
      }),
    ]);
    expect(asked.state.informationRequest).toMatchObject(request);
    // the work decision stays owed meanwhile, its deadline unchanged
    expect(owedActions(table, asked.state)).toEqual([{ action: 'decide-work', deadline: '2027-04-04' }]);
    const answer = {
      reason: 'requested-by-authority',
      documents: { other: [ref(7)] },
      addedAt: '2027-01-10T10:00:00Z',
    };
    const answered = decided(step(asked.state, message('documents-added', answer)));
    expect(answered.state.informationRequest).toBeUndefined();
    // once the work is decided, no more request
    const workDecided = { ...admissible, phase: 'work-decided' as const };
    const late = step(workDecided, {
      kind: 'action',
      action: 'request-information',
      input: request,
      stepId: 's-late',
    });
    expect(outcomeCode(late)).toBe('ERR_OUT_OF_SEQUENCE');
  });
  test('Directive 2014/66/EU Art. 15(1) - the work decision not taken 90 days after the complete application: reported once to the body and the integrator', () => {
    const complete = completeDossier();
    const scan = { kind: 'deadline', deadline: 'work-decision' } as const;
    expect(table.deadlines['work-decision']!.deadline(complete)).toBe('2027-04-04');
    const onTheDay = step(complete, scan, { ...ctx, today: '2027-04-04' });
    expect(decided(onTheDay).decided).toBe(false);
    const late = decided(step(complete, scan, { ...ctx, today: '2027-04-05', causationId: null }));
    expect(late.notices).toEqual([expect.objectContaining({ kind: 'deadline', type: 'work-decision' })]);
    expect(late.send).toEqual([
      expect.objectContaining({
        type: 'deadline-overrun',
        to: ['portal-demo'],
        payload: expect.objectContaining({
          deadline: 'work-decision',
          dueOn: '2027-04-04',
          reportedOn: '2027-04-05',
        }),
      }),
    ]);
    expect(late.state.phase).toBe('admissible'); // reported, not decided: the case officer still owes it
    const again = step(late.state, scan, { ...ctx, today: '2027-04-06' });
    expect(decided(again).decided).toBe(false);
  });

  test('Art. 105/67 - the answer not given by the date set: reported once', () => {
    const complete = completeDossier();
    const asked = decided(
      step(complete, {
        kind: 'action',
        action: 'request-information',
        input: { concern: 'purpose-of-stay', addressee: 'employer', respondWithinWorkingDays: 5 },
        stepId: 's-ask',
      }),
    );
    const scan = { kind: 'deadline', deadline: 'information-answer' } as const;
    expect(table.deadlines['information-answer']!.deadline(asked.state)).toBe('2027-01-11');
    const late = decided(step(asked.state, scan, { ...ctx, today: '2027-01-12' }));
    expect(late.send).toEqual([
      expect.objectContaining({
        type: 'deadline-overrun',
        payload: expect.objectContaining({
          deadline: 'information-answer',
          article: 'AR 8.10.1981 Art. 105/67',
        }),
      }),
    ]);
  });
});
