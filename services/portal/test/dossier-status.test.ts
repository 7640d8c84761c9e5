import { describe, expect, test } from 'vitest';
import { type DossierRecord, applyReceived, isClosed } from '../src/index.js';

function record(): DossierRecord {
  return {
    dossierId: '0190d1a8-7c1e-4b7e-9d1b-000000000001',
    integrator: 'acme-hr',
    category: 'ict',
    context: { procedure: 'first', scheme: 'ict', regionId: 'region-bruxelles', portalId: 'portal-wib' },
    state: 'submitted',
    createdAt: '2026-11-20T09:30:00.000Z',
    updatedAt: '2026-11-20T09:30:00.000Z',
    decisions: {},
    events: [],
  };
}

const msg = (type: string, payload: unknown, sender = 'region-bruxelles') => ({
  type,
  sender,
  id: `id-${type}`,
  at: '2026-11-21T10:00:00.000Z',
  payload,
});

describe('dossier status', () => {
  test('status - a missing-items ruling lists the items, a later complete ruling clears them', () => {
    let r = applyReceived(
      record(),
      msg('completeness-ruled', {
        outcome: 'missing-items',
        ruledOn: '2026-11-21',
        missingItems: ['passportCopy'],
        respondBy: '2026-12-05',
      }),
    );
    expect(r.state).toBe('missing-items');
    expect(r.missingItems).toEqual(['passportCopy']);
    expect(r.respondBy).toBe('2026-12-05');
    r = applyReceived(r, msg('completeness-ruled', { outcome: 'complete', ruledOn: '2026-11-25' }));
    expect(r.state).toBe('admissible');
    expect(r.missingItems).toBeUndefined();
    expect(r.events.map((e) => e.summary)).toEqual(['missing: passportCopy', 'complete']);
  });

  test('status - fee request then annex 43 closes the dossier; annex 46 does not', () => {
    const fee = applyReceived(
      record(),
      msg('fee-payment-requested', { reason: 'amount-incorrect', payBy: '2026-12-01' }, 'immigration-office'),
    );
    expect(fee.state).toBe('fee-payment-requested');
    expect(fee.feeRequest?.reason).toBe('amount-incorrect');
    const refused = applyReceived(
      fee,
      msg('residence-decided', { annex: '43', feeCase: 'not-paid' }, 'immigration-office'),
    );
    expect(refused.state).toBe('fee-refused');
    expect(isClosed(refused)).toBe(true);
    const granted = applyReceived(fee, msg('residence-decided', { annex: '46' }, 'immigration-office'));
    expect(granted.state).toBe('residence-granted');
    expect(granted.feeRequest).toBeUndefined();
    expect(isClosed(granted)).toBe(false);
  });

  test('status - a work decision arriving after the residence decision does not roll the state back', () => {
    const granted = applyReceived(record(), msg('residence-decided', { annex: '46' }, 'immigration-office'));
    const late = applyReceived(granted, msg('work-authorisation-decided', { decision: 'granted' }));
    expect(late.state).toBe('residence-granted');
    expect(late.decisions.work?.decision).toBe('granted');
  });

  test('status - a fee request stays the state when the region rules complete and grants work after it', () => {
    let r = applyReceived(
      record(),
      msg('fee-payment-requested', { reason: 'amount-incorrect', payBy: '2026-12-01' }, 'immigration-office'),
    );
    r = applyReceived(r, msg('completeness-ruled', { outcome: 'complete', ruledOn: '2026-11-25' }));
    r = applyReceived(r, msg('work-authorisation-decided', { decision: 'granted' }));
    expect(r.state).toBe('fee-payment-requested');
    expect(r.decisions.work?.decision).toBe('granted');
    r = applyReceived(r, msg('residence-decided', { annex: '46' }, 'immigration-office'));
    expect(r.state).toBe('residence-granted');
  });

  test('status - permits and end of stay', () => {
    const permit = applyReceived(
      record(),
      msg('permit-issued', { permit: 'annex-60', issuedOn: '2027-02-01' }, 'commune-21004'),
    );
    expect(permit.state).toBe('permit-issued');
    expect(permit.decisions.permit).toEqual({ permit: 'annex-60', on: '2027-02-01' });
    const ended = applyReceived(
      permit,
      msg('stay-ended', { annex: '52', endsOn: '2027-06-01' }, 'immigration-office'),
    );
    expect(ended.state).toBe('stay-ended');
    expect(isClosed(ended)).toBe(true);
  });
  test('status - a deadline overrun is noted once per deadline and date due; the state is unchanged', () => {
    const overrun = {
      deadline: 'work-decision',
      article: 'Directive 2014/66/EU Art. 15(1), 22(2)(b); Directive 2011/98/EU Art. 5(2)',
      dueOn: '2027-04-04',
      reportedOn: '2027-04-05',
    };
    let r = applyReceived(record(), msg('deadline-overrun', overrun));
    expect(r.state).toBe('submitted');
    expect(r.overdue).toEqual([{ ...overrun, reportedBy: 'region-bruxelles' }]);
    expect(r.events.at(-1)?.summary).toBe(
      `deadline passed: work-decision, due 2027-04-04 (${overrun.article})`,
    );
    // the same report again (another message id) adds no line; a later date due does
    r = applyReceived(r, { ...msg('deadline-overrun', overrun), id: 'id-again' });
    expect(r.overdue).toHaveLength(1);
    r = applyReceived(r, { ...msg('deadline-overrun', { ...overrun, dueOn: '2027-05-04' }), id: 'id-later' });
    expect(r.overdue?.map((o) => o.dueOn)).toEqual(['2027-04-04', '2027-05-04']);
  });

  test('status - Art. 105/43: a short-term mobility not objected to (tacitly) or objected to; both close the dossier', () => {
    const notObjected = applyReceived(
      record(),
      msg(
        'short-term-mobility-decided',
        {
          outcome: 'no-objection',
          decidedOn: '2027-01-23',
          period: { from: '2027-02-01', to: '2027-03-31' },
          tacit: true,
        },
        'immigration-office',
      ),
    );
    expect(notObjected.state).toBe('mobility-not-objected');
    expect(notObjected.decisions.mobility).toEqual({
      outcome: 'no-objection',
      decidedOn: '2027-01-23',
      period: { from: '2027-02-01', to: '2027-03-31' },
      tacit: true,
    });
    expect(notObjected.events.at(-1)?.summary).toBe('mobility not objected (20 days passed)');
    expect(isClosed(notObjected)).toBe(true);
    const objected = applyReceived(
      record(),
      msg(
        'short-term-mobility-decided',
        { outcome: 'objected', reason: 'public-order' },
        'immigration-office',
      ),
    );
    expect(objected.state).toBe('mobility-objected');
    expect(objected.events.at(-1)?.summary).toBe('mobility objected: public-order');
    expect(isClosed(objected)).toBe(true);
  });
});
