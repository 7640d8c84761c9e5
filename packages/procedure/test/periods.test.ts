import { describe, expect, test } from 'vitest';
import {
  arrivalReportDeadline,
  assertWithinLimits,
  capPeriod,
  extendProvisionalDocument,
  familyMemberDecisionDeadline,
  isArrivalReportInTime,
  provisionalDocumentValidity,
  renewalPendingValidity,
  visaValidity,
} from '../src/index.js';
import { ictMaximumEnd } from '../src/internal.js';

/** Extends an annex 49 of `purpose` valid for `validity`, extended `extensions` times already. */
const extend = (
  purpose: 'awaiting-permit' | 'renewal-pending',
  validity: { from: string; to: string },
  extensions: number,
  permitIssued = false,
) => extendProvisionalDocument({ purpose, validity, extensions, permitIssued });

describe('legal periods', () => {
  test('Art. 105/46 §2, 31 16° - an ICT manager or specialist stays at most 3 years', () => {
    expect(ictMaximumEnd('2027-03-01', 'manager')).toBe('2030-02-28');
    expect(ictMaximumEnd('2027-03-01', 'specialist')).toBe('2030-02-28');
    expect(capPeriod({ from: '2027-03-01', to: '2031-12-31' }, { ictRole: 'manager' })).toEqual({
      from: '2027-03-01',
      to: '2030-02-28',
    });
  });

  test('Art. 105/46 §2, 31 16° - an ICT trainee stays at most 1 year', () => {
    expect(capPeriod({ from: '2027-03-01', to: '2029-03-01' }, { ictRole: 'trainee' })).toEqual({
      from: '2027-03-01',
      to: '2028-02-29',
    });
    expect(() =>
      assertWithinLimits({ from: '2027-03-01', to: '2028-03-01' }, { ictRole: 'trainee' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_PERIOD_INVALID' }));
    expect(() =>
      assertWithinLimits({ from: '2027-03-01', to: '2028-02-29' }, { ictRole: 'trainee' }),
    ).not.toThrow();
  });

  test("Art. 105/57, 105/61 - a mobility period never exceeds the first member state's permit", () => {
    const capped = capPeriod(
      { from: '2027-03-01', to: '2029-12-31' },
      { ictRole: 'specialist', firstMemberStatePermitValidUntil: '2028-06-30' },
    );
    expect(capped).toEqual({ from: '2027-03-01', to: '2028-06-30' });
    expect(() =>
      capPeriod({ from: '2027-03-01', to: '2029-12-31' }, { firstMemberStatePermitValidUntil: '2027-02-01' }),
    ).toThrow(expect.objectContaining({ code: 'ERR_PERIOD_INVALID' }));
  });

  test('Art. 105/47 §2 - annex 49 is valid 45 days and extended by 45 days each time until the permit', () => {
    const issued = provisionalDocumentValidity('2027-04-01');
    expect(issued).toEqual({ from: '2027-04-01', to: '2027-05-15' });
    const first = extend('awaiting-permit', issued, 0);
    expect(first).toEqual({ extension: 1, validity: { from: '2027-05-16', to: '2027-06-29' } });
    const second = extend('awaiting-permit', first.validity, 1);
    expect(second.extension).toBe(2);
    expect(() => extend('awaiting-permit', second.validity, 2, true)).toThrow(
      expect.objectContaining({ code: 'ERR_EXTENSION_NOT_ALLOWED' }),
    );
  });

  test('Art. 33 §6 - the renewal-pending annex 49 runs 30 days and is extended once only', () => {
    const attested = renewalPendingValidity('2027-06-01');
    expect(attested).toEqual({ from: '2027-06-01', to: '2027-06-30' });
    const once = extend('renewal-pending', attested, 0);
    expect(once).toEqual({ extension: 1, validity: { from: '2027-07-01', to: '2027-07-30' } });
    expect(() => extend('renewal-pending', once.validity, 1)).toThrow(
      expect.objectContaining({ code: 'ERR_EXTENSION_NOT_ALLOWED' }),
    );
  });

  test('Art. 105/47 §2 - the person reports to the commune within 8 working days of entry', () => {
    expect(arrivalReportDeadline('2027-07-16')).toBe('2027-07-29');
    expect(isArrivalReportInTime('2027-07-16', '2027-07-29')).toBe(true);
    expect(isArrivalReportInTime('2027-07-16', '2027-07-30')).toBe(false);
  });

  test('Art. 26/2 §3 - a family member of an ICT is decided within 90 days', () => {
    expect(familyMemberDecisionDeadline('2027-01-15')).toBe('2027-04-15');
  });

  test('Art. 105/47 §1 - the D visa runs from issue to the end of the stay, at most a year', () => {
    expect(visaValidity('2027-03-10', { from: '2027-04-01', to: '2030-03-31' })).toEqual({
      from: '2027-03-10',
      to: '2028-03-09',
    });
    expect(visaValidity('2027-03-10', { from: '2027-04-01', to: '2027-09-30' })).toEqual({
      from: '2027-03-10',
      to: '2027-09-30',
    });
  });
});
