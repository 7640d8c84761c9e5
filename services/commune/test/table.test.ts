import {
  type CommunePhase,
  type ResidenceDecided,
  type ResidenceGranted,
  type StepCommand,
  describeActions,
  isRefusal,
  owedActions,
} from '@passerelle/procedure';
import { DOSSIER_MACHINES } from '@passerelle/procedure/internal';
import {
  actionBy,
  decided,
  loadTableInputs,
  messageFrom,
  outcomeCode,
  sampleAnnex46,
  tableStepper,
} from '@passerelle/service-host/testing';
import { describe, expect, test } from 'vitest';
import { type CommuneDossier, communeTable } from '../src/index.js';

const table = communeTable();
const { ctx, step, needs } = tableStepper(table, {
  participant: 'commune-21004',
  dossierId: 'D-COMMUNE-0001',
  today: '2027-04-08',
  causationId: 'm-1',
});
const docRef = { sha256: 'b'.repeat(64), mediaType: 'application/json' as const, size: 1, objectKey: 'x' };
const period = { from: '2027-03-01', to: '2030-02-28' };
const annex46 = (overrides: Partial<ResidenceGranted> = {}): ResidenceDecided =>
  sampleAnnex46({
    procedure: 'first',
    regionId: 'region-bruxelles',
    portalId: 'portal-demo',
    holder: {
      familyName: 'X',
      givenNames: 'Y',
      birthDate: '1990-01-01',
      nationality: 'NGA',
      passportNumber: 'A1234567',
    },
    decisionDocument: docRef,
    ...overrides,
  });
const copy = (payload: ResidenceDecided): StepCommand =>
  messageFrom('immigration-office', 'residence-decided', payload);
const clerk = { clientId: 'guichet-bxl', officerId: 'clerk-88' };
const act = (action: string, input: unknown = {}): StepCommand => actionBy(clerk, action, input);
const received: CommuneDossier = {
  phase: 'annex-46-received',
  routing: { procedure: 'first', regionId: 'region-bruxelles', portalId: 'portal-demo' },
  grant: { period, permitToIssue: 'annex-60', visaRequired: true, decidedOn: '2027-02-01' },
  holderPassport: 'A1234567',
};

describe('commune table', () => {
  test('Art. 105/46 - the annex 46 copy needs its document checked and the register read; a first application waits for the person', () => {
    expect(needs(undefined, copy(annex46()))).toEqual([
      expect.objectContaining({
        kind: 'decision-document',
        expected: expect.objectContaining({ document: '46', issuer: 'immigration-office' }),
      }),
      { kind: 'lookup', key: 'registered', lookup: 'registered-permit', arg: 'A1234567' },
    ]);
    const out = decided(step(undefined, copy(annex46())));
    expect(out.state).toEqual(received);
    expect(out.send).toEqual([]);
    const annex48 = needs(
      undefined,
      copy({ annex: '48', decidedOn: '2027-02-01', reason: 'fraud', decisionDocument: docRef }),
    );
    expect(outcomeCode(annex48)).toBe('ERR_OUT_OF_SEQUENCE');
  });

  test('Art. 105/52 §2 - a renewal is renewed without delay, naming the permit on the register, which is updated', () => {
    const registered = {
      permit: 'annex-60',
      permitNumber: 'A60-OLD0001',
      validity: { from: '2024-03-01', to: '2027-02-28' },
    };
    const out = decided(step(undefined, copy(annex46({ procedure: 'renewal' })), ctx, { registered }));
    expect(out.state).toMatchObject({
      phase: 'permit-issued',
      permit: { previousNumber: 'A60-OLD0001', validity: period },
    });
    expect(out.send).toEqual([
      expect.objectContaining({
        type: 'permit-renewed',
        to: ['immigration-office', 'region-bruxelles', 'portal-demo'],
        causationId: 'm-1',
      }),
    ]);
    expect(out.effects).toEqual([
      {
        kind: 'register-permit',
        arg: {
          passport: 'A1234567',
          entry: expect.objectContaining({ validity: period, dossierId: ctx.dossierId }),
        },
      },
    ]);
    const nothing = step(undefined, copy(annex46({ procedure: 'renewal' })));
    expect(outcomeCode(nothing)).toBe('ERR_OUT_OF_SEQUENCE');
  });

  test('Art. 105/47 §2 - register-arrival: annex 49 at once, to the Office; late reports flagged; refused for a renewal or without an annex 46', () => {
    const out = decided(
      step(received, act('register-arrival', { enteredOn: '2027-03-29', reportedOn: '2027-04-08' }), {
        ...ctx,
        causationId: null,
      }),
    );
    expect(out.state).toMatchObject({
      phase: 'arrived',
      arrival: { inTime: true },
      provisional: { validity: { from: '2027-04-08', to: '2027-05-22' } },
    });
    expect(out.state.taken).toEqual([
      { action: 'register-arrival', stepId: 'register-arrival:1', on: '2027-04-08', by: clerk },
    ]);
    expect(out.send).toEqual([
      expect.objectContaining({ type: 'arrival-registered', to: ['immigration-office'], actor: clerk }),
    ]);
    // Art. 105/47 §2 al. 2: the residence check first, before the annex 49 runs out
    expect(owedActions(table, out.state)).toEqual([{ action: 'check-residence', deadline: '2027-05-22' }]);

    const late = decided(
      step(received, act('register-arrival', { enteredOn: '2027-03-01', reportedOn: '2027-04-08' })),
    );
    expect(late.notices).toEqual([expect.objectContaining({ kind: 'deadline', type: 'arrival-report' })]);
    const before = step(
      received,
      act('register-arrival', { enteredOn: '2027-04-09', reportedOn: '2027-04-08' }),
    );
    expect(outcomeCode(before)).toBe('ERR_OUT_OF_SEQUENCE');
    const none = step(undefined, act('register-arrival', { enteredOn: '2027-04-01' }));
    expect(outcomeCode(none)).toBe('ERR_OUT_OF_SEQUENCE');
    const presented = decided(
      step(
        undefined,
        act('register-arrival', {
          enteredOn: '2027-04-01',
          presented: { period, permitToIssue: 'annex-61', decidedOn: '2027-02-01' },
        }),
      ),
    );
    expect(presented.state).toMatchObject({ phase: 'arrived', grant: { permitToIssue: 'annex-61' } });
    const renewal = step(
      { ...received, routing: { procedure: 'renewal' } },
      act('register-arrival', { enteredOn: '2027-04-01' }),
    );
    expect(outcomeCode(renewal)).toBe('ERR_OUT_OF_SEQUENCE');
  });

  test('Art. 105/47 §2 - extend-provisional and issue-permit after the arrival; out of sequence before it or after the permit', () => {
    const arrived = decided(step(received, act('register-arrival', { enteredOn: '2027-04-01' }))).state;
    const extended = decided(step(arrived, act('extend-provisional')));
    expect(extended.state.provisional).toMatchObject({ extensions: 1 });
    expect(extended.send).toEqual([
      expect.objectContaining({ type: 'provisional-document-extended', to: ['immigration-office'] }),
    ]);
    const checked = decided(step(extended.state, act('check-residence', { outcome: 'positive' })));
    const issued = decided(step(checked.state, act('issue-permit')));
    expect(issued.state).toMatchObject({
      phase: 'permit-issued',
      permit: { kind: 'annex-60', validity: period },
    });
    expect(issued.send).toEqual([
      expect.objectContaining({
        type: 'permit-issued',
        to: ['immigration-office', 'region-bruxelles', 'portal-demo'],
      }),
    ]);
    expect(issued.effects).toEqual([expect.objectContaining({ kind: 'register-permit' })]);
    const codes = [
      step(received, act('issue-permit')),
      step(issued.state, act('issue-permit')),
      step(issued.state, act('extend-provisional')),
      step({ ...issued.state, phase: 'closed' }, act('issue-permit')),
      step(undefined, act('issue-permit')),
    ].map(outcomeCode);
    expect(codes).toEqual([
      'ERR_OUT_OF_SEQUENCE',
      'ERR_DUPLICATE_DECISION',
      'ERR_OUT_OF_SEQUENCE',
      'ERR_DOSSIER_CLOSED',
      'ERR_UNKNOWN_DOSSIER',
    ]);
  });

  test('Art. 105/47 §2 al. 2, 105/58 al. 2 - the residence check is owed after the arrival and comes before the permit', () => {
    const arrived = decided(
      step(received, act('register-arrival', { enteredOn: '2027-04-01', reportedOn: '2027-04-02' })),
    ).state;
    // owed by the end of the annex 49; the permit is not owed yet, and refused before the check
    expect(owedActions(table, arrived)).toEqual([{ action: 'check-residence', deadline: '2027-05-16' }]);
    const early = step(arrived, act('issue-permit'));
    expect(outcomeCode(early)).toBe('ERR_OUT_OF_SEQUENCE');
    expect(isRefusal(early) && early.refusal.message).toContain('residence check');
    // a check before the report is refused
    for (const checkedOn of ['2027-04-01', '1970-01-01']) {
      const wrong = step(arrived, act('check-residence', { outcome: 'positive', checkedOn }));
      expect(outcomeCode(wrong)).toBe('ERR_OUT_OF_SEQUENCE');
    }

    // negative: the Office is told (codes only), the desk sees a notice, no permit and no extension
    const negative = decided(
      step(arrived, act('check-residence', { outcome: 'negative', reason: 'not-residing-at-address' })),
    );
    expect(negative.send).toEqual([
      {
        type: 'residence-checked',
        payload: {
          communeId: 'commune-21004',
          checkedOn: '2027-04-08',
          outcome: 'negative',
          reason: 'not-residing-at-address',
        },
        to: ['immigration-office'],
        causationId: 'm-1',
        actor: clerk,
      },
    ]);
    expect(negative.notices).toEqual([
      expect.objectContaining({ kind: 'notice', type: 'residence-check-negative' }),
    ]);
    expect(negative.state).toMatchObject({ phase: 'arrived', residenceCheck: { outcome: 'negative' } });
    expect(owedActions(table, negative.state)).toEqual([]);
    const refusedPermit = step(negative.state, act('issue-permit'));
    expect(outcomeCode(refusedPermit)).toBe('ERR_OUT_OF_SEQUENCE');
    expect(isRefusal(refusedPermit) && refusedPermit.refusal.message).toContain('negative');
    const refusedExtension = step(negative.state, act('extend-provisional'));
    expect(outcomeCode(refusedExtension)).toBe('ERR_EXTENSION_NOT_ALLOWED');

    // checked again and found positive: the permit is owed and issued
    const positive = decided(step(negative.state, act('check-residence', { outcome: 'positive' })));
    expect(positive.notices).toEqual([]);
    expect(owedActions(table, positive.state)).toEqual([{ action: 'issue-permit', deadline: '2027-05-16' }]);
    const issued = decided(step(positive.state, act('issue-permit')));
    expect(issued.state.phase).toBe('permit-issued');
    const late = step(issued.state, act('check-residence', { outcome: 'positive' }));
    expect(outcomeCode(late)).toBe('ERR_OUT_OF_SEQUENCE');
  });

  test("Art. 33 §6 - attest-renewal-pending: the region's document checked, the register read; 30 days, extended once only", () => {
    const input = {
      expiredPermitNumber: 'A60-OLD0001',
      admissibilityDocument: docRef,
      passportNumber: 'A1234567',
      regionId: 'region-vlaanderen',
    };
    expect(needs(undefined, act('attest-renewal-pending', input))).toEqual([
      {
        kind: 'decision-document',
        ref: docRef,
        expected: {
          document: 'admissibility',
          dossierId: ctx.dossierId,
          issuer: 'region-vlaanderen',
          outcome: 'complete',
        },
      },
      { kind: 'lookup', key: 'registered', lookup: 'registered-permit', arg: 'A1234567' },
    ]);
    const stillValid = {
      permit: 'annex-60',
      permitNumber: 'A60-OLD0001',
      validity: { from: '2024-04-08', to: '2027-04-08' },
    };
    const early = step(undefined, act('attest-renewal-pending', input), ctx, { registered: stillValid });
    expect(outcomeCode(early)).toBe('ERR_OUT_OF_SEQUENCE');
    const attested = decided(step(undefined, act('attest-renewal-pending', input)));
    expect(attested.state).toMatchObject({
      phase: 'renewal-pending',
      routing: { procedure: 'renewal', regionId: 'region-vlaanderen' },
    });
    expect(attested.send).toEqual([
      expect.objectContaining({
        type: 'renewal-pending-attested',
        to: ['immigration-office', 'region-vlaanderen'],
      }),
    ]);
    const once = decided(step(attested.state, act('extend-provisional')));
    const twice = step(once.state, act('extend-provisional'));
    expect(outcomeCode(twice)).toBe('ERR_EXTENSION_NOT_ALLOWED');
    const again = step(attested.state, act('attest-renewal-pending', input));
    expect(outcomeCode(again)).toBe('ERR_DUPLICATE_DECISION');
  });

  test('no legal input makes a rule throw: every schema-valid action input in every phase decides or refuses', () => {
    const inputs: [string, unknown][] = [
      ['register-arrival', { enteredOn: '2027-04-01' }],
      ['register-arrival', { enteredOn: '2027-04-09', reportedOn: '2027-04-08' }],
      [
        'register-arrival',
        {
          enteredOn: '1970-01-01',
          presented: {
            period: { from: '2030-01-01', to: '2020-01-01' },
            permitToIssue: 'single-permit',
            decidedOn: '2027-02-01',
            procedure: 'renewal',
          },
        },
      ],
      ['extend-provisional', {}],
      ['check-residence', { outcome: 'positive' }],
      ['check-residence', { outcome: 'negative', reason: 'address-not-found', checkedOn: '1970-01-01' }],
      ['issue-permit', {}],
      [
        'attest-renewal-pending',
        { expiredPermitNumber: 'A60-X0001', admissibilityDocument: docRef, regionId: 'region-dg' },
      ],
    ];
    // no dossier yet, then every phase of the body's machine
    const phases = [undefined, ...(Object.keys(DOSSIER_MACHINES['commune'].phases) as CommunePhase[])];
    const bare: CommuneDossier = { phase: 'arrived', routing: {} };
    for (const phase of phases) {
      for (const base of [received, bare]) {
        for (const [action, input] of inputs) {
          for (const facts of [
            {},
            { registered: { permit: 'annex-60', permitNumber: 'A60-1', validity: period } },
          ]) {
            expect(() =>
              step(phase ? { ...base, phase } : undefined, act(action, input), ctx, facts),
            ).not.toThrow();
          }
        }
      }
    }
  });

  test('actions - the desk actions, where they are allowed and which open a dossier', () => {
    expect(describeActions(table).map((a) => [a.name, a.allowedIn, a.opens])).toEqual([
      ['register-arrival', ['annex-46-received'], true],
      ['extend-provisional', ['arrived', 'renewal-pending'], false],
      ['check-residence', ['arrived'], false],
      ['issue-permit', ['arrived'], false],
      ['attest-renewal-pending', [], true],
    ]);
  });
  test("inputs - each action's input schema resolves against the message schemas and validates what a back office sends", async () => {
    const { validators, references } = await loadTableInputs(table);
    // only whole shared definitions are left as references (what OpenAPI bundling rewrites)
    for (const ref of references) expect(ref).toMatch(/defs\/common\.v1\.json#\/\$defs\/[A-Za-z]+"$/);
    validators.get('register-arrival')!({
      enteredOn: '2027-04-01',
      presented: { period, permitToIssue: 'annex-61', decidedOn: '2027-02-01', portalId: 'portal-demo' },
    });
    validators.get('attest-renewal-pending')!({
      expiredPermitNumber: 'A60-OLD0001',
      admissibilityDocument: docRef,
      passportNumber: 'A1234567',
      regionId: 'region-dg',
    });
    validators.get('check-residence')!({ outcome: 'negative', reason: 'not-residing-at-address' });
    validators.get('check-residence')!({ outcome: 'positive', checkedOn: '2027-04-08' });
    for (const [action, bad] of [
      ['check-residence', { outcome: 'negative' }],
      ['check-residence', { outcome: 'positive', reason: 'address-not-found' }],
      [
        'register-arrival',
        {
          enteredOn: '2027-04-01',
          presented: { period, permitToIssue: 'annex-62', decidedOn: '2027-02-01' },
        },
      ],
      [
        'attest-renewal-pending',
        {
          expiredPermitNumber: 'A60-OLD0001',
          admissibilityDocument: docRef,
          passportNumber: 'a b',
          regionId: 'region-dg',
        },
      ],
      ['issue-permit', { by: 'someone' }],
    ] as const) {
      expect(() => validators.get(action)!(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_ACTION_INPUT_INVALID' }),
      );
    }
  });
  test('Art. 105/47 §2 al. 1, 105/58 §1 al. 1 - a report after the eight working days: told to the body and to the integrator, once', () => {
    const late = decided(
      step(received, act('register-arrival', { enteredOn: '2027-03-01', reportedOn: '2027-04-08' })),
    );
    expect(late.notices).toEqual([expect.objectContaining({ kind: 'deadline', type: 'arrival-report' })]);
    expect(late.send).toEqual([
      expect.objectContaining({ type: 'arrival-registered' }),
      expect.objectContaining({
        type: 'deadline-overrun',
        to: ['portal-demo'],
        payload: {
          deadline: 'arrival-report',
          article: 'AR 8.10.1981 Art. 105/47 §2 al. 1, 105/58 §1 al. 1',
          dueOn: '2027-03-11',
          reportedOn: '2027-04-08',
        },
      }),
    ]);
    expect(late.state.overruns).toEqual({ 'arrival-report': '2027-03-11' });
  });

  test('Art. 105/47 §2 al. 3, 105/58 §1 al. 3 - the permit not issued when the annex 49 runs out unextended: reported once per validity', () => {
    const arrived = decided(step(received, act('register-arrival', { enteredOn: '2027-04-06' }))).state;
    const scan = { kind: 'deadline', deadline: 'provisional-document' } as const;
    expect(table.deadlines['provisional-document']!.deadline(arrived)).toBe('2027-05-22');
    const onTheDay = decided(step(arrived, scan, { ...ctx, today: '2027-05-22' }));
    expect(onTheDay.decided).toBe(false);
    const overrun = decided(step(arrived, scan, { ...ctx, today: '2027-05-23', causationId: null }));
    expect(overrun.notices).toEqual([
      expect.objectContaining({ kind: 'deadline', type: 'provisional-document' }),
    ]);
    expect(overrun.send).toEqual([
      expect.objectContaining({
        type: 'deadline-overrun',
        to: ['portal-demo'],
        payload: expect.objectContaining({ deadline: 'provisional-document', dueOn: '2027-05-22' }),
      }),
    ]);
    expect(decided(step(overrun.state, scan, { ...ctx, today: '2027-05-24' })).decided).toBe(false);
    // extended by 45 days: a new date, which can be overrun in its turn
    const extended = decided(step(overrun.state, act('extend-provisional'))).state;
    expect(decided(step(extended, scan, { ...ctx, today: '2027-07-07' })).decided).toBe(true);
    // the residence checked and the permit issued: nothing is watched any more
    const checked = decided(step(arrived, act('check-residence', { outcome: 'positive' }))).state;
    const issued = decided(step(checked, act('issue-permit'), ctx, { registered: undefined })).state;
    expect(table.deadlines['provisional-document']!.deadline(issued)).toBeUndefined();
  });

  test('Art. 33 §6 - the renewal not decided when the attestation runs out unextended: reported', () => {
    const input = {
      expiredPermitNumber: 'A60-OLD0001',
      admissibilityDocument: docRef,
      passportNumber: 'A1234567',
      regionId: 'region-vlaanderen',
    };
    const attested = decided(step(undefined, act('attest-renewal-pending', input))).state;
    const scan = { kind: 'deadline', deadline: 'renewal-pending' } as const;
    expect(table.deadlines['renewal-pending']!.deadline(attested)).toBe('2027-05-07');
    const overrun = decided(step(attested, scan, { ...ctx, today: '2027-05-08' }));
    expect(overrun.notices).toEqual([expect.objectContaining({ kind: 'deadline', type: 'renewal-pending' })]);
    // the person presented no portal: the body is told, the integrator cannot be
    expect(overrun.send).toEqual([]);
  });
});
