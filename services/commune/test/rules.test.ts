import { decided } from '@passerelle/service-host/testing';
import { describe, expect, test } from 'vitest';
import {
  type CommuneDossier,
  attestRenewalPending,
  checkResidence,
  extendProvisional,
  issuePermit,
  permitAwaitsResidenceCheck,
  registerArrival,
  renewPermit,
} from '../src/rules.js';

const D = 'D-TEST-0003';
const docRef = { sha256: 'b'.repeat(64), mediaType: 'application/json' as const, size: 1, objectKey: 'x' };
const grant = {
  period: { from: '2027-03-01', to: '2030-02-28' },
  permitToIssue: 'annex-60' as const,
  visaRequired: true,
  decidedOn: '2027-02-01',
};

describe('commune rules', () => {
  test('Art. 105/47 §2 - annex 49 at once on arrival, 45 days; the report within 8 working days of entry', () => {
    const r = decided(
      registerArrival('commune-21004', D, { enteredOn: '2027-07-16', reportedOn: '2027-07-29' }),
    );
    expect(r.arrival).toEqual({
      enteredOn: '2027-07-16',
      reportedOn: '2027-07-29',
      deadline: '2027-07-29',
      inTime: true,
    });
    expect(r.payload.provisionalDocument).toMatchObject({
      annex: '49',
      validity: { from: '2027-07-29', to: '2027-09-11' },
    });
    expect(
      decided(registerArrival('commune-21004', D, { enteredOn: '2027-07-16', reportedOn: '2027-07-30' }))
        .arrival.inTime,
    ).toBe(false);
    expect(
      registerArrival('commune-21004', D, { enteredOn: '2027-07-16', reportedOn: '2027-07-15' }),
    ).toMatchObject({ refusal: { code: 'ERR_OUT_OF_SEQUENCE' } });
  });

  test('Art. 105/47 §2 - annex 49 is extended by 45 days each time until the permit is issued', () => {
    const r = decided(
      registerArrival('commune-21004', D, { enteredOn: '2027-03-01', reportedOn: '2027-03-02' }),
    );
    const d: CommuneDossier = { phase: 'arrived', routing: {}, grant, provisional: r.provisional };
    const first = decided(extendProvisional(d, D, '2027-04-10'));
    expect(first.payload).toMatchObject({
      purpose: 'awaiting-permit',
      extension: 1,
      validity: { from: '2027-04-16', to: '2027-05-30' },
    });
    const second = decided(extendProvisional({ ...d, provisional: first.provisional }, D, '2027-05-20'));
    expect(second.payload.extension).toBe(2);
    expect(
      extendProvisional(
        { ...d, permit: { kind: 'annex-60', number: 'A60-1', validity: grant.period } },
        D,
        '2027-05-20',
      ),
    ).toMatchObject({ refusal: { code: 'ERR_EXTENSION_NOT_ALLOWED' } });
  });

  test('Art. 105/47 §2 al. 2, 105/58 al. 2 - the residence check: not before the report; the permit follows a positive one', () => {
    const arrival = {
      enteredOn: '2027-03-01',
      reportedOn: '2027-03-02',
      deadline: '2027-03-11',
      inTime: true,
    };
    const positive = decided(
      checkResidence('commune-21004', D, { arrival }, { outcome: 'positive' }, '2027-03-20'),
    );
    expect(positive).toEqual({
      payload: { communeId: 'commune-21004', checkedOn: '2027-03-20', outcome: 'positive' },
      check: { outcome: 'positive', checkedOn: '2027-03-20' },
    });
    const negative = decided(
      checkResidence(
        'commune-21004',
        D,
        { arrival },
        { outcome: 'negative', reason: 'address-not-found', checkedOn: '2027-03-02' },
        '2027-03-20',
      ),
    );
    expect(negative.payload).toEqual({
      communeId: 'commune-21004',
      checkedOn: '2027-03-02',
      outcome: 'negative',
      reason: 'address-not-found',
    });
    for (const [dossier, checkedOn] of [
      [{ arrival }, '2027-03-01'],
      [{}, '2027-03-20'],
    ] as const) {
      expect(
        checkResidence('commune-21004', D, dossier, { outcome: 'positive', checkedOn }, '2027-03-20'),
      ).toMatchObject({ refusal: { code: 'ERR_OUT_OF_SEQUENCE' } });
    }
    expect(permitAwaitsResidenceCheck({ residenceCheck: positive.check }, D)).toBeUndefined();
    expect(permitAwaitsResidenceCheck({}, D)).toMatchObject({ refusal: { code: 'ERR_OUT_OF_SEQUENCE' } });
    expect(permitAwaitsResidenceCheck({ residenceCheck: negative.check }, D)).toMatchObject({
      refusal: { code: 'ERR_OUT_OF_SEQUENCE', details: { residenceCheck: 'negative' } },
    });
  });

  test('Art. 105/47 §2 - after a negative residence check the annex 49 is not extended, after a positive one it is', () => {
    const r = decided(
      registerArrival('commune-21004', D, { enteredOn: '2027-03-01', reportedOn: '2027-03-02' }),
    );
    const d: CommuneDossier = { phase: 'arrived', routing: {}, grant, provisional: r.provisional };
    const negative = {
      outcome: 'negative' as const,
      checkedOn: '2027-03-10',
      reason: 'not-residing-at-address' as const,
    };
    expect(extendProvisional({ ...d, residenceCheck: negative }, D, '2027-04-10')).toMatchObject({
      refusal: { code: 'ERR_EXTENSION_NOT_ALLOWED' },
    });
    expect(
      decided(
        extendProvisional(
          { ...d, residenceCheck: { outcome: 'positive', checkedOn: '2027-03-12' } },
          D,
          '2027-04-10',
        ),
      ).payload.extension,
    ).toBe(1);
  });

  test('Art. 105/47 §2, 31 16° - the annex 60 permit is valid for the authorised stay', () => {
    expect(issuePermit('commune-21004', D, grant, '2027-04-01')).toMatchObject({
      permit: 'annex-60',
      validity: grant.period,
      registeredInForeignersRegister: true,
      permitNumber: expect.stringMatching(/^A60-[0-9A-F]{10}$/),
    });
    expect(
      issuePermit('commune-21004', D, { ...grant, permitToIssue: 'annex-61' }, '2027-04-01').permit,
    ).toBe('annex-61');
  });

  test('Art. 105/52 §2 - the renewed permit names the previous one and runs for the new period', () => {
    const renewed = renewPermit(
      'commune-11002',
      D,
      { ...grant, period: { from: '2030-03-01', to: '2031-02-28' } },
      'A60-OLD0001',
      '2030-02-20',
    );
    expect(renewed).toMatchObject({
      previousPermitNumber: 'A60-OLD0001',
      validity: { from: '2030-03-01', to: '2031-02-28' },
    });
  });

  test('Art. 33 §6 - renewal pending: 30-day attestation on an expired permit, extended once only', () => {
    const registered = {
      permit: 'annex-60' as const,
      permitNumber: 'A60-OLD0001',
      validity: { from: '2027-03-01', to: '2030-02-28' },
    };
    expect(
      attestRenewalPending(
        'commune-11002',
        D,
        { expiredPermitNumber: 'A60-OLD0001', admissibilityDocument: docRef, registered },
        '2030-02-28',
      ),
    ).toMatchObject({ refusal: { code: 'ERR_OUT_OF_SEQUENCE' } });
    const att = decided(
      attestRenewalPending(
        'commune-11002',
        D,
        { expiredPermitNumber: 'A60-OLD0001', admissibilityDocument: docRef, registered },
        '2030-03-01',
      ),
    );
    expect(att.payload).toMatchObject({
      annex: '49',
      validity: { from: '2030-03-01', to: '2030-03-30' },
      expiredPermitNumber: 'A60-OLD0001',
    });
    const d: CommuneDossier = { phase: 'renewal-pending', routing: {}, provisional: att.provisional };
    const once = decided(extendProvisional(d, D, '2030-03-25'));
    expect(once.payload).toMatchObject({
      purpose: 'renewal-pending',
      extension: 1,
      validity: { from: '2030-03-31', to: '2030-04-29' },
    });
    expect(extendProvisional({ ...d, provisional: once.provisional }, D, '2030-04-20')).toMatchObject({
      refusal: { code: 'ERR_EXTENSION_NOT_ALLOWED' },
    });
  });
});
