import type { ApplicationSubmitted } from '@passerelle/procedure';
import { sampleApplication, sampleMobility, sampleShortTermMobility } from '@passerelle/service-host/testing';
import { describe, expect, test } from 'vitest';
import {
  type OfficeDossier,
  decisionDeadlineOverrun,
  feeCheck,
  feeOverdue,
  feePaymentRequest,
  feeRefusal,
  mobilityDaysInWindow,
  mobilityDecision,
  mobilityMissing,
  mobilityObjectionGround,
  objectionDeadline,
  objectionPeriodOver,
  openOfficeDossier,
  permitToIssue,
  residenceGrant,
  residenceRefusal,
  stayEnded,
  visaRequired,
} from '../src/rules.js';

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

  test('Art. 105/43 - a short-term mobility is a notification the Office rules on: its documents, valid for the mobility', () => {
    const doc = { sha256: 'a'.repeat(64), mediaType: 'application/pdf' as const, size: 1, objectKey: 'x' };
    const notification = dossier({
      ict: sampleShortTermMobility(),
      requestedPeriod: { from: '2027-02-01', to: '2027-03-31' },
      documents: { passportCopy: doc, employmentContract: doc, firstMemberStatePermit: doc },
    });
    // opened without the documents that did not read back, and no fee owed
    expect(notification.routing.scheme).toBe('ict-short-term-mobility');
    expect(notification.mobility).toEqual({
      period: { from: '2027-02-01', to: '2027-03-31' },
      documents: [],
      passportExpiresOn: '2040-12-31',
    });
    const all = ['passportCopy', 'employmentContract', 'firstMemberStatePermit'] as const;
    const file = { ...notification.mobility!, documents: [...all] };
    expect(mobilityMissing(file, '2028-06-30')).toEqual([]);
    expect(mobilityMissing({ ...file, documents: [] }, '2028-06-30')).toEqual([...all]);
    // Directive 2014/66/EU Art. 21 §1: within the first member state's permit, to the last day
    expect(mobilityMissing(file, '2027-03-30')).toEqual(['firstMemberStatePermit']);
    expect(mobilityMissing(file, undefined)).toEqual(['firstMemberStatePermit']);
    // SBC art. 6 §1 a): the passport three months beyond the mobility
    expect(mobilityMissing({ ...file, passportExpiresOn: '2027-06-29' }, '2028-06-30')).toEqual([
      'passportCopy',
    ]);
  });

  test('directive 2014/66/EU Art. 21 §1 - at most 90 days in any 180-day period, earlier stays counted; the ICT maximum too', () => {
    const sixty = { from: '2027-02-01', to: '2027-04-01' };
    expect(mobilityDaysInWindow(sixty)).toBe(60);
    expect(mobilityDaysInWindow({ from: '2027-02-01', to: '2027-05-01' })).toBe(90);
    expect(mobilityDaysInWindow({ from: '2027-02-01', to: '2027-05-02' })).toBe(91);
    // 31 days in January and 60 now fall in one window; a stay 200 days before does not
    expect(mobilityDaysInWindow(sixty, [{ from: '2027-01-01', to: '2027-01-31' }])).toBe(91);
    expect(mobilityDaysInWindow(sixty, [{ from: '2026-06-01', to: '2026-07-15' }])).toBe(60);
    // a day covered twice counts once; unreadable dates count for nothing
    expect(mobilityDaysInWindow(sixty, [{ from: '2027-03-01', to: '2027-03-10' }])).toBe(60);
    expect(mobilityDaysInWindow(sixty, [{ from: 'x', to: 'y' }])).toBe(60);
    expect(mobilityDaysInWindow({ from: 'x', to: 'y' })).toBe(0);

    const ict = { ictRole: 'trainee' as const };
    expect(mobilityObjectionGround({ period: sixty }, ict)).toBeUndefined();
    expect(mobilityObjectionGround({ period: { from: '2027-02-01', to: '2027-06-30' } }, ict)).toBe(
      'maximum-duration-reached',
    );
    expect(
      mobilityObjectionGround(
        { period: sixty },
        { ...ict, ictStays: [{ from: '2027-01-01', to: '2027-01-31' }] },
      ),
    ).toBe('maximum-duration-reached');
    // a trainee's year (Art. 31 16°) spent already: no mobility left
    expect(
      mobilityObjectionGround(
        { period: sixty },
        { ...ict, ictStays: [{ from: '2025-06-01', to: '2026-05-31' }] },
      ),
    ).toBe('maximum-duration-reached');
  });

  test('directive 2014/66/EU Art. 21 - 20 days to object from the complete notification; then the mobility is not objected to', () => {
    expect(objectionDeadline('2027-01-04')).toBe('2027-01-24');
    const file = {
      period: { from: '2027-02-01', to: '2027-03-31' },
      documents: [],
      notifiedOn: '2027-01-04',
      objectionDeadline: '2027-01-24',
    };
    expect(objectionPeriodOver(file, '2027-01-24')).toBe(false);
    expect(objectionPeriodOver(file, '2027-01-25')).toBe(true);
    expect(
      objectionPeriodOver(
        { ...file, decision: { outcome: 'objected', decidedOn: '2027-01-10' } },
        '2027-02-01',
      ),
    ).toBe(false);
    expect(objectionPeriodOver(undefined, '2027-02-01')).toBe(false);

    const stated = mobilityDecision(file, D, { outcome: 'no-objection', tacit: false }, '2027-01-10');
    expect(stated).toMatchObject({
      outcome: 'no-objection',
      decidedOn: '2027-01-10',
      notifiedOn: '2027-01-04',
      objectionDeadline: '2027-01-24',
      period: file.period,
      tacit: false,
      decisionDocument: { mediaType: 'application/json' },
    });
    expect(mobilityDecision(file, D, { outcome: 'no-objection', tacit: true }, '2027-01-25')).toMatchObject({
      tacit: true,
    });
    expect(
      mobilityDecision(file, D, { outcome: 'objected', reason: 'fraudulent-documents' }, '2027-01-24'),
    ).toMatchObject({ outcome: 'objected', reason: 'fraudulent-documents', objectionDeadline: '2027-01-24' });
    // too late to object; no answer of no objection before the notification is complete
    expect(
      mobilityDecision(file, D, { outcome: 'objected', reason: 'public-order' }, '2027-01-25'),
    ).toMatchObject({ refusal: { code: 'ERR_OUT_OF_SEQUENCE' } });
    const incomplete = { period: file.period, documents: [] };
    expect(
      mobilityDecision(incomplete, D, { outcome: 'no-objection', tacit: false }, '2027-01-10'),
    ).toMatchObject({
      refusal: { code: 'ERR_OUT_OF_SEQUENCE' },
    });
    expect(
      mobilityDecision(incomplete, D, { outcome: 'objected', reason: 'conditions-not-met' }, '2027-01-10'),
    ).toMatchObject({ outcome: 'objected', reason: 'conditions-not-met' });
  });
});
