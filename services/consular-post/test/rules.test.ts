import type { ResidenceDecided } from '@passerelle/procedure';
import { sampleAnnex46 } from '@passerelle/service-host/testing';
import { describe, expect, test } from 'vitest';
import { acceptAnnex46, issueVisa } from '../src/rules.js';

const grant: ResidenceDecided = sampleAnnex46({ consularPostId: 'post-lagos' });
const docRef = grant.decisionDocument;

describe('consular post rules', () => {
  test('Art. 105/46 §3 - the post acts on an annex 46 needing a visa, addressed to it', () => {
    expect(acceptAnnex46(grant, 'post-lagos', 'D-1')).toBe(grant);
    expect(acceptAnnex46(grant, 'post-ankara', 'D-1')).toMatchObject({
      refusal: { code: 'ERR_NOT_COMPETENT' },
    });
    expect(acceptAnnex46({ ...grant, visaRequired: false }, 'post-lagos', 'D-1')).toMatchObject({
      refusal: { code: 'ERR_OUT_OF_SEQUENCE' },
    });
    expect(
      acceptAnnex46(
        { annex: '48', decidedOn: '2027-02-01', reason: 'fraud', decisionDocument: docRef },
        'post-lagos',
        'D-1',
      ),
    ).toMatchObject({ refusal: { code: 'ERR_OUT_OF_SEQUENCE' } });
  });

  test('Art. 105/47 §1 - the D visa is issued without delay, valid until the stay ends, at most a year', () => {
    const visa = issueVisa({ from: '2027-03-01', to: '2030-02-28' }, 'D-1', '2027-02-02');
    expect(visa).toMatchObject({
      visaType: 'D',
      issuedOn: '2027-02-02',
      validity: { from: '2027-02-02', to: '2028-02-01' },
    });
    expect(visa.visaNumber).toMatch(/^D-[0-9A-F]{10}$/);
    // A replayed step prints the same number.
    expect(issueVisa({ from: '2027-03-01', to: '2030-02-28' }, 'D-1', '2027-02-02').visaNumber).toBe(
      visa.visaNumber,
    );
  });
});
