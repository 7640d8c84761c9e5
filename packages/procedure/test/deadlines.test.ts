import { describe, expect, test } from 'vitest';
import {
  type BodyTable,
  type OverrunReported,
  type OverrunTracked,
  type StepContext,
  LEGAL_DEADLINES,
  decideStep,
  decisionDeadline,
  isRefusal,
  overrunDue,
  overrunStep,
  recordOverrun,
} from '../src/index.js';

interface Tracked extends OverrunTracked {
  phase: 'open' | 'closed';
  routing: { portalId?: string };
  dueOn?: string;
}

const table: BodyTable<Tracked, OverrunReported> = {
  body: 'regional-authority',
  evolve: (state, event) => recordOverrun(state!, event),
  messages: {},
  actions: {},
  deadlines: { 'work-decision': overrunStep('work-decision', (d: Tracked) => d.dueOn) },
};
const ctx: StepContext = {
  participant: 'region-bruxelles',
  dossierId: 'D-1',
  today: '2027-04-12',
  causationId: null,
};
const open: Tracked = { phase: 'open', routing: { portalId: 'portal-demo' }, dueOn: '2027-04-11' };
const scan = { kind: 'deadline', deadline: 'work-decision' } as const;

describe('legal deadlines', () => {
  test('Directive 2014/66/EU Art. 15(1), 22(2)(b) - an ICT or a long-term mobility is decided within 90 days of the complete application', () => {
    expect(decisionDeadline({ scheme: 'ict', appliedOn: '2027-01-04', completeOn: '2027-01-11' })).toBe(
      '2027-04-11',
    );
    expect(
      decisionDeadline({ scheme: 'ict-mobility', appliedOn: '2027-01-04', completeOn: '2027-01-04' }),
    ).toBe('2027-04-04');
  });

  test('Directive 2011/98/EU Art. 5(2) - the other single permits within four months of the application', () => {
    expect(decisionDeadline({ scheme: 'standard', appliedOn: '2027-01-04' })).toBe('2027-05-04');
    // the month's end: 31 October + 4 months is the last day of February
    expect(decisionDeadline({ scheme: 'standard', appliedOn: '2026-10-31' })).toBe('2027-02-28');
  });

  test('every deadline names its article; the texts of the seeds cite the royal decree', () => {
    for (const [id, d] of Object.entries(LEGAL_DEADLINES)) {
      expect(d.article, id).toMatch(/^(AR 8\.10\.1981 Art\. |Directive )/);
    }
    expect(LEGAL_DEADLINES['family-decision'].article).toBe('AR 8.10.1981 Art. 26/2 §3, 26/2/1 §3');
    expect(LEGAL_DEADLINES['renewal-pending'].article).toBe('AR 8.10.1981 Art. 33 §6');
  });

  test('an overrun is due the day after the deadline, not on it; never on a closed dossier', () => {
    expect(overrunDue(open, 'work-decision', '2027-04-11', '2027-04-11')).toBe(false);
    expect(overrunDue(open, 'work-decision', '2027-04-11', '2027-04-12')).toBe(true);
    expect(overrunDue({ ...open, phase: 'closed' }, 'work-decision', '2027-04-11', '2027-04-12')).toBe(false);
    expect(overrunDue(open, 'work-decision', undefined, '2027-04-12')).toBe(false);
  });

  test('an overrun is reported once: to the body (a deadline notice) and to the integrator (deadline-overrun)', () => {
    const first = decideStep(table, open, scan, ctx, {});
    if (isRefusal(first)) throw first.refusal;
    expect(first.decided).toBe(true);
    expect(first.notices).toEqual([
      {
        kind: 'deadline',
        type: 'work-decision',
        detail: `${LEGAL_DEADLINES['work-decision'].article}: the decision on the work authorisation was due on 2027-04-11`,
      },
    ]);
    expect(first.send).toEqual([
      {
        type: 'deadline-overrun',
        to: ['portal-demo'],
        context: { portalId: 'portal-demo' },
        causationId: null,
        payload: {
          deadline: 'work-decision',
          article: LEGAL_DEADLINES['work-decision'].article,
          dueOn: '2027-04-11',
          reportedOn: '2027-04-12',
        },
      },
    ]);
    expect(first.state.overruns).toEqual({ 'work-decision': '2027-04-11' });
    // the next scan, the next day, or after a restart (the state is what the store kept): nothing more
    const again = decideStep(table, first.state, scan, { ...ctx, today: '2027-04-13' }, {});
    expect(!isRefusal(again) && again.decided).toBe(false);
  });

  test('a deadline moved later (an extension) can be overrun, and reported, again', () => {
    const first = decideStep(table, open, scan, ctx, {});
    if (isRefusal(first)) throw first.refusal;
    const extended = { ...first.state, dueOn: '2027-05-26' };
    expect(overrunDue(extended, 'work-decision', extended.dueOn, '2027-05-26')).toBe(false);
    const second = decideStep(table, extended, scan, { ...ctx, today: '2027-05-27' }, {});
    expect(!isRefusal(second) && second.decided).toBe(true);
  });

  test('a dossier that names no portal reports to the body only', () => {
    const out = decideStep(table, { ...open, routing: {} }, scan, ctx, {});
    if (isRefusal(out)) throw out.refusal;
    expect(out.send).toEqual([]);
    expect(out.notices).toHaveLength(1);
  });
});
