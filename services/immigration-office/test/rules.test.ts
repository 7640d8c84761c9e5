import type { ApplicationSubmitted } from '@passerelle/procedure';
import { sampleApplication, sampleMobility } from '@passerelle/service-host/testing';
import { describe, expect, test } from 'vitest';
import {
  type OfficeDossier,
  decisionDeadlineOverrun,
  feeCheck,
  feeOverdue,
  feePaymentRequest,
  feeRefusal,
  openOfficeDossier,
  permitToIssue,
  residenceGrant,
  residenceRefusal,
  stayEnded,
  visaRequired,
} from '../src/index.js';

const D = 'D-TEST-0002';
const application = (overrides: Partial<ApplicationSubmitted> = {}): ApplicationSubmitted =>
  sampleApplication({
    documents: {
      passportCopy: { sha256: 'a'.repeat(64), mediaType: 'application/pdf', size: 1, objectKey: 'x' },
    },
    ...overrides,
  });
const dossier = (overrides: Partial<ApplicationSubmitted> = {}): OfficeDossier =>
  openOfficeDossier(application(overrides), 'portal-demo', '2027-01-04');

describe('Immigration Office rules', () => {
  test('Art. 1/2/1 - the fee: paid in full, nothing paid, or a wrong amount', () => {
    expect(feeCheck(35_800, 35_800)).toBe('ok');
    expect(feeCheck(40_000, 35_800)).toBe('ok');
    expect(feeCheck(0, 35_800)).toBe('not-paid');
    expect(feeCheck(10_000, 35_800)).toBe('amount-incorrect');
  });

  test('Art. 1/2/1 - the invitation to pay names the rest due and a date in working days', () => {
    expect(feePaymentRequest(10_000, 35_800, '2027-01-04', 15)).toEqual({
      reason: 'amount-incorrect',
      amountDue: { amountCents: 25_800, currency: 'EUR' },
      amountReceived: { amountCents: 10_000, currency: 'EUR' },
      requestedOn: '2027-01-04',
      payBy: '2027-01-25',
    });
  });

  test('Art. 1/2/1 - unpaid by the date: annex 43 when nothing was paid, annex 43bis when short', () => {
    const request = feePaymentRequest(0, 35_800, '2027-01-04', 15);
    const none: OfficeDossier = { ...dossier(), fee: { paidCents: 0, status: 'requested', request } };
    expect(feeOverdue(none.fee, '2027-01-25')).toBe(false);
    expect(feeOverdue(none.fee, '2027-01-26')).toBe(true);
    expect(feeRefusal(none, D, '2027-01-26')).toMatchObject({ annex: '43', feeCase: 'not-paid' });
    const short: OfficeDossier = { ...none, fee: { ...none.fee, paidCents: 5_000 } };
    expect(feeRefusal(short, D, '2027-01-26')).toMatchObject({ annex: '43bis', feeCase: 'partially-paid' });
  });

  test('Art. 105/46 §2 - annex 46 grants residence for the work-authorisation period, annex 60 to issue', () => {
    const grant = residenceGrant(dossier(), D, { from: '2027-03-01', to: '2030-02-28' }, '2027-02-01');
    expect(grant).toMatchObject({
      annex: '46',
      period: { from: '2027-03-01', to: '2030-02-28' },
      permitToIssue: 'annex-60',
      visaRequired: true,
      consularPostId: 'post-lagos',
      communeId: 'commune-21004',
      procedure: 'first',
      regionId: 'region-bruxelles',
      portalId: 'portal-demo',
    });
  });

  test('Art. 105/46 §2, 31 16° - a grant beyond the ICT maximum is refused as ERR_PERIOD_INVALID', () => {
    expect(
      residenceGrant(dossier(), D, { from: '2027-03-01', to: '2030-03-01' }, '2027-02-01'),
    ).toMatchObject({ refusal: { code: 'ERR_PERIOD_INVALID' } });
  });

  test('Art. 105/57, 105/58 - long-term mobility: no visa, annex 61, within the first member state permit', () => {
    const mobility = dossier({
      consularPostId: undefined,
      ict: sampleMobility('2028-01-31'),
    });
    expect(visaRequired(mobility.routing)).toBe(false);
    expect(permitToIssue(mobility.routing.scheme)).toBe('annex-61');
    expect(residenceGrant(mobility, D, { from: '2027-03-01', to: '2028-02-01' }, '2027-02-01')).toMatchObject(
      {
        refusal: { code: 'ERR_PERIOD_INVALID' },
      },
    );
    expect(residenceGrant(mobility, D, { from: '2027-03-01', to: '2028-01-31' }, '2027-02-01')).toMatchObject(
      { visaRequired: false },
    );
  });

  test('Art. 105/51 - a renewal needs no visa; the generic single permit is issued for other categories', () => {
    expect(visaRequired({ procedure: 'renewal', scheme: 'ict' })).toBe(false);
    expect(permitToIssue('standard')).toBe('single-permit');
  });

  test('Art. 105/48 - annex 48 refusal and Art. 105/54 annex 52 end of stay', () => {
    expect(residenceRefusal(dossier(), D, 'public-order', '2027-02-01')).toMatchObject({
      annex: '48',
      reason: 'public-order',
    });
    expect(stayEnded(dossier(), D, 'fraud', '2027-06-30', '2027-06-01')).toMatchObject({
      annex: '52',
      endsOn: '2027-06-30',
      communeId: 'commune-21004',
    });
  });

  test('Art. 26/2 §3 - the 90-day deadline of a family member is overrun the day after, reported once', () => {
    const family = dossier({ familyMemberOf: { scheme: 'transfer' } });
    expect(family.decisionDeadline).toBe('2027-04-04');
    expect(decisionDeadlineOverrun(family, '2027-04-04')).toBe(false);
    expect(decisionDeadlineOverrun(family, '2027-04-05')).toBe(true);
    expect(
      decisionDeadlineOverrun({ ...family, deadlineOverrunReportedOn: '2027-04-05' }, '2027-04-06'),
    ).toBe(false);
    expect(decisionDeadlineOverrun({ ...family, residence: { annex: '46' } }, '2027-04-06')).toBe(false);
    expect(dossier().decisionDeadline).toBeUndefined();
  });
});
