import { type ResidenceDecided, describeActions, owedActions } from '@passerelle/procedure';
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
import { type PostDossier, automaticPostPolicy, postTable } from '../src/index.js';

const table = postTable();
const annex46 = sampleAnnex46({ consularPostId: 'post-lagos' });
const docRef = annex46.decisionDocument;
const { ctx, step, needs } = tableStepper(table, {
  participant: 'post-lagos',
  dossierId: 'D-POST-0001',
  today: '2027-02-02',
  causationId: 'm-46',
});
const copy = (payload: ResidenceDecided = annex46) =>
  messageFrom('immigration-office', 'residence-decided', payload);
const actor = { clientId: 'visa-desk', officerId: 'o-17' };
const issueVisa = actionBy(actor, 'issue-visa');
const received: PostDossier = {
  phase: 'annex-46-received',
  stay: annex46.period,
  annex46On: '2027-02-01',
  receivedOn: '2027-02-02',
};

describe('consular post table', () => {
  test('Art. 105/46 §3 - the annex 46 copy needs its document checked, then opens the dossier; the visa is owed that day', () => {
    expect(needs(undefined, copy())).toEqual([
      {
        kind: 'decision-document',
        ref: docRef,
        expected: {
          document: '46',
          dossierId: ctx.dossierId,
          issuer: 'immigration-office',
          period: annex46.period,
          outcome: 'granted',
        },
      },
    ]);
    const out = decided(step(undefined, copy()));
    expect(out.state).toEqual(received);
    expect(out.send).toEqual([]);
    expect(owedActions(table, out.state)).toEqual([{ action: 'issue-visa', deadline: '2027-02-02' }]);
  });

  test('Art. 105/46 §3 - a copy for another post, or needing no visa, is refused before any read', () => {
    const other = needs(undefined, copy({ ...annex46, consularPostId: 'post-ankara' }));
    expect(outcomeCode(other)).toBe('ERR_NOT_COMPETENT');
    const noVisa = needs(undefined, copy({ ...annex46, visaRequired: false }));
    expect(outcomeCode(noVisa)).toBe('ERR_OUT_OF_SEQUENCE');
    const twice = needs(received, copy());
    expect(outcomeCode(twice)).toBe('ERR_DUPLICATE_DECISION');
  });

  test('Art. 105/47 §1 - issue-visa: the D visa to the Immigration Office, who issued it recorded', () => {
    const out = decided(step(received, issueVisa, { ...ctx, causationId: null }));
    expect(out.state).toMatchObject({
      phase: 'visa-issued',
      visa: { validity: { from: '2027-02-02', to: '2028-02-01' } },
    });
    expect(out.state.taken).toEqual([
      { action: 'issue-visa', stepId: 'issue-visa:1', on: '2027-02-02', by: actor },
    ]);
    expect(out.send).toEqual([
      {
        type: 'visa-issued',
        payload: expect.objectContaining({ visaType: 'D', issuedOn: '2027-02-02' }),
        to: ['immigration-office'],
        causationId: null,
        actor,
      },
    ]);
  });

  test('Art. 105/47 §1 - issue-visa out of sequence: unknown dossier, a second visa', () => {
    const none = step(undefined, issueVisa);
    expect(outcomeCode(none)).toBe('ERR_UNKNOWN_DOSSIER');
    const issued = step({ ...received, phase: 'visa-issued' }, issueVisa);
    expect(outcomeCode(issued)).toBe('ERR_DUPLICATE_DECISION');
  });

  test('policy - without one the visa waits for an officer; automaticPostPolicy issues it on the copy, caused by it', () => {
    const waiting = step(undefined, copy());
    expect(decided(waiting).state.phase).toBe('annex-46-received');
    const auto = decided(step(undefined, copy(), ctx, {}, automaticPostPolicy));
    expect(auto.state.phase).toBe('visa-issued');
    expect(auto.state.taken).toEqual([expect.objectContaining({ action: 'issue-visa', automatic: true })]);
    expect(auto.send).toEqual([expect.objectContaining({ type: 'visa-issued', causationId: 'm-46' })]);
  });

  test('actions - issue-visa is described with its input and where it is allowed', () => {
    expect(describeActions(table)).toEqual([
      expect.objectContaining({
        name: 'issue-visa',
        allowedIn: ['annex-46-received'],
        opens: false,
        sends: ['visa-issued'],
      }),
    ]);
  });
  test("inputs - each action's input schema resolves against the message schemas and validates what a back office sends", async () => {
    const { validators, references } = await loadTableInputs(table);
    // only whole shared definitions are left as references (what OpenAPI bundling rewrites)
    for (const ref of references) expect(ref).toMatch(/defs\/common\.v1\.json#\/\$defs\/[A-Za-z]+"$/);
    validators.get('issue-visa')!({});
    expect(() => validators.get('issue-visa')!({ number: 'D-1' })).toThrow(
      expect.objectContaining({ code: 'ERR_ACTION_INPUT_INVALID' }),
    );
  });
  test('Art. 105/47 §1 - a visa not issued the day the copy came is overdue: reported to the post once', () => {
    const scan = { kind: 'deadline', deadline: 'visa' } as const;
    const sameDay = step(received, scan);
    expect(decided(sameDay).decided).toBe(false);
    const late = decided(step(received, scan, { ...ctx, today: '2027-02-03' }));
    expect(late.notices).toEqual([expect.objectContaining({ kind: 'deadline', type: 'visa' })]);
    // a post keeps no route to the integrator: the body is told
    expect(late.send).toEqual([]);
    const again = step(late.state, scan, { ...ctx, today: '2027-02-04' });
    expect(decided(again).decided).toBe(false);
    const issued = decided(step(received, issueVisa));
    expect(table.deadlines['visa']!.deadline(issued.state)).toBeUndefined();
  });
});
