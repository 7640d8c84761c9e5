import { describe, expect, test } from 'vitest';
import {
  type BodyTable,
  type StepContext,
  availableActions,
  decideStep,
  describeActions,
  isRefusal,
  owedActions,
  refuse,
  stepNeeds,
  workingDaysLeft,
} from '../src/index.js';

// A post's table cut down to its bones (the consular post's machine): the annex 46 copy opens the dossier,
// the visa is a person's action, and a deadline notes a delay.
interface Toy {
  phase: 'annex-46-received' | 'visa-issued';
  receivedOn: string;
  delayNoted?: boolean;
  taken?: { action: string; stepId: string; on: string; automatic?: true }[];
}
type ToyEvent = { type: 'received'; on: string } | { type: 'visa'; number: string } | { type: 'delay' };

const table: BodyTable<Toy, ToyEvent> = {
  body: 'consular-post',
  evolve: (state, event) => {
    switch (event.type) {
      case 'received':
        return { phase: 'annex-46-received', receivedOn: event.on };
      case 'visa':
        return { ...state!, phase: 'visa-issued' };
      case 'delay':
        return { ...state!, delayNoted: true };
    }
  },
  messages: {
    'residence-decided': {
      needs: (_state, payload: { annex: string }, ctx) =>
        payload.annex === '46'
          ? []
          : refuse('ERR_OUT_OF_SEQUENCE', 'annex 46 only', { dossierId: ctx.dossierId }),
      decide: (_state, _payload, ctx) => ({ events: [{ type: 'received', on: ctx.today }] }),
    },
  },
  actions: {
    'issue-visa': {
      title: 'Issue the visa',
      input: { type: 'object', properties: { number: { type: 'string' } }, required: ['number'] },
      sends: ['visa-issued'],
      owed: (state) => (state.phase === 'annex-46-received' ? { deadline: state.receivedOn } : undefined),
      decide: (_state, input: { number: string }, ctx) =>
        input.number === 'BAD'
          ? refuse('ERR_OUT_OF_SEQUENCE', 'bad number', { dossierId: ctx.dossierId })
          : {
              events: [{ type: 'visa', number: input.number }],
              send: [
                { type: 'visa-issued', payload: { visaNumber: input.number }, causationId: ctx.causationId },
              ],
              summary: 'issued',
            },
    },
  },
  deadlines: {
    delay: {
      title: 'Note a delay',
      deadline: (state) => state.receivedOn,
      due: (state, ctx) =>
        state.phase === 'annex-46-received' && ctx.today > state.receivedOn && !state.delayNoted,
      decide: () => ({ events: [{ type: 'delay' }], notices: [{ kind: 'deadline', type: 'delay' }] }),
    },
  },
};

const ctx: StepContext = {
  participant: 'post-lagos',
  dossierId: 'D-TOY-0001',
  today: '2027-03-01',
  causationId: 'm-1',
};
const annex46 = {
  kind: 'message' as const,
  type: 'residence-decided',
  payload: { annex: '46' },
  sender: 'immigration-office',
};
const actor = { clientId: 'backoffice-lagos', officerId: 'officer-7f3a' };
const visa = (number: string) => ({
  kind: 'action' as const,
  action: 'issue-visa',
  input: { number },
  actor,
  stepId: 's-1',
});

describe('decider runner', () => {
  test('decider - a message opens the dossier; the action it owes waits for a person without a policy', () => {
    const out = decideStep(table, undefined, annex46, ctx, {});
    expect(isRefusal(out)).toBe(false);
    if (isRefusal(out)) return;
    expect(out.state).toEqual({ phase: 'annex-46-received', receivedOn: '2027-03-01' });
    expect(out.send).toEqual([]);
    expect(owedActions(table, out.state)).toEqual([{ action: 'issue-visa', deadline: '2027-03-01' }]);
  });

  test("decider - a person's action decides, records who took it, and sends", () => {
    const opened = { phase: 'annex-46-received' as const, receivedOn: '2027-03-01' };
    const out = decideStep(table, opened, visa('D-1'), { ...ctx, causationId: null }, {});
    if (isRefusal(out)) throw out.refusal;
    expect(out.state.phase).toBe('visa-issued');
    expect(out.state.taken).toEqual([{ action: 'issue-visa', stepId: 's-1', on: '2027-03-01', by: actor }]);
    expect(out.send).toEqual([
      { type: 'visa-issued', payload: { visaNumber: 'D-1' }, causationId: null, actor },
    ]);
    expect(out.summary).toBe('issued');
  });

  test('decider - out of sequence, unknown, inherited names and rule refusals are typed refusals, never throws', () => {
    const issued = { phase: 'visa-issued' as const, receivedOn: '2027-03-01' };
    const again = decideStep(table, issued, visa('D-2'), ctx, {});
    expect(isRefusal(again) && again.refusal.code).toBe('ERR_DUPLICATE_DECISION');
    const none = decideStep(table, undefined, visa('D-2'), ctx, {});
    expect(isRefusal(none) && none.refusal.code).toBe('ERR_UNKNOWN_DOSSIER');
    for (const action of ['renew-permit', 'constructor', '__proto__', 'toString']) {
      const out = stepNeeds(table, issued, { ...visa('D-2'), action }, ctx);
      expect(isRefusal(out) && out.refusal.code).toBe('ERR_UNKNOWN_ACTION');
    }
    const opened = { phase: 'annex-46-received' as const, receivedOn: '2027-03-01' };
    const bad = decideStep(table, opened, visa('BAD'), ctx, {});
    expect(isRefusal(bad) && bad.refusal.code).toBe('ERR_OUT_OF_SEQUENCE');
    const annex48 = stepNeeds(table, undefined, { ...annex46, payload: { annex: '48' } }, ctx);
    expect(isRefusal(annex48) && annex48.refusal.code).toBe('ERR_OUT_OF_SEQUENCE');
  });

  test('decider - a policy takes the owed action in the same step, marked automatic; undefined leaves it to a person', () => {
    /** The annex 46 copy opens the dossier under a policy that gives the visa `number`, or leaves it. */
    const openedWithPolicy = (number: string | undefined) =>
      decideStep(
        table,
        undefined,
        annex46,
        ctx,
        {},
        { 'issue-visa': () => (number === undefined ? undefined : { number }) },
      );
    const out = openedWithPolicy('D-AUTO');
    if (isRefusal(out)) throw out.refusal;
    expect(out.state.phase).toBe('visa-issued');
    expect(out.state.taken).toEqual([
      { action: 'issue-visa', stepId: 'issue-visa:m-1', on: '2027-03-01', automatic: true },
    ]);
    // the message's id is the cause of what the automatic action sends
    expect(out.send).toEqual([
      { type: 'visa-issued', payload: { visaNumber: 'D-AUTO' }, causationId: 'm-1' },
    ]);

    const left = openedWithPolicy(undefined);
    if (isRefusal(left)) throw left.refusal;
    expect(left.state.phase).toBe('annex-46-received');

    const refused = openedWithPolicy('BAD');
    if (isRefusal(refused)) throw refused.refusal;
    expect(refused.state.phase).toBe('annex-46-received');
    expect(refused.notices).toEqual([
      { kind: 'notice', type: 'issue-visa', detail: 'automatic decision not taken: ERR_OUT_OF_SEQUENCE' },
    ]);
  });

  test('decider - a deadline step decides only when due', () => {
    const opened = { phase: 'annex-46-received' as const, receivedOn: '2027-03-01' };
    const delayStepOn = (today: string) =>
      decideStep(table, opened, { kind: 'deadline', deadline: 'delay' }, { ...ctx, today }, {});
    const early = delayStepOn(ctx.today);
    expect(!isRefusal(early) && early.decided).toBe(false);
    const late = delayStepOn('2027-03-02');
    if (isRefusal(late)) throw late.refusal;
    expect([late.decided, late.state.delayNoted, late.notices]).toEqual([
      true,
      true,
      [{ kind: 'deadline', type: 'delay' }],
    ]);
  });

  test('decider - the table describes each action: input, phases allowed, what it sends; and what a state allows', () => {
    expect(describeActions(table)).toEqual([
      {
        name: 'issue-visa',
        title: 'Issue the visa',
        input: table.actions['issue-visa']!.input,
        allowedIn: ['annex-46-received'],
        opens: false,
        sends: ['visa-issued'],
      },
    ]);
    expect(availableActions(table, { phase: 'annex-46-received', receivedOn: '2027-03-01' }, 'D-1')).toEqual([
      'issue-visa',
    ]);
    expect(availableActions(table, { phase: 'visa-issued', receivedOn: '2027-03-01' }, 'D-1')).toEqual([]);
  });

  test('worklist - working days left before a deadline, negative once passed (weekends and 21 July skipped)', () => {
    expect(workingDaysLeft('2027-07-16', '2027-07-29')).toBe(8);
    expect(workingDaysLeft('2027-07-29', '2027-07-29')).toBe(0);
    expect(workingDaysLeft('2027-08-02', '2027-07-29')).toBe(-2);
  });
});
