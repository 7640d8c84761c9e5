import type { ApplicationSubmitted } from '@passerelle/procedure';
import { describe, expect, test } from 'vitest';
import {
  type RegionDossier,
  automaticWorkDecision,
  completenessRuling,
  missingItems,
  openDossier,
  requiredDocuments,
  workAuthorisationPayload,
} from '../src/index.js';

const ref = (n: number) => ({
  sha256: String(n).repeat(64).slice(0, 64),
  mediaType: 'application/pdf' as const,
  size: 10,
  objectKey: `d/${n}`,
});

function app(overrides: Partial<ApplicationSubmitted> = {}): ApplicationSubmitted {
  return {
    category: 'ict',
    procedure: 'first',
    regionId: 'region-bruxelles',
    workplaceCommuneId: 'commune-21004',
    consularPostId: 'post-lagos',
    ict: { scheme: 'transfer', role: 'manager', priorIctStayInLast3Years: false },
    adult: true,
    applicant: {
      familyName: 'X',
      givenNames: 'Y',
      birthDate: '1990-01-01',
      nationality: 'NGA',
      passportNumber: 'A1234567',
    },
    employer: { name: 'E', enterpriseNumber: '0403170701', email: 'e@example.com' },
    requestedPeriod: { from: '2027-03-01', to: '2031-03-01' },
    documents: {
      passportCopy: ref(1),
      employmentContract: ref(2),
      healthInsurance: { form: 'insurer', document: ref(3) },
      medicalCertificate: ref(4),
      criminalRecord: ref(5),
    },
    submittedAt: '2027-01-04T09:00:00Z',
    ...overrides,
  };
}

const D = 'D-TEST-0001';
const open = (a = app(), today = '2027-01-04'): RegionDossier =>
  openDossier(a, a.regionId, 'portal-demo', today);

describe('regional authority rules', () => {
  test('Art. 105/45 §2 - an ICT first application needs passport, means, insurance, medical certificate and, if adult, the criminal record', () => {
    expect(
      requiredDocuments({ category: 'ict', procedure: 'first', adult: true, ict: { scheme: 'transfer' } }),
    ).toEqual([
      'passportCopy',
      'employmentContract',
      'healthInsurance',
      'medicalCertificate',
      'criminalRecord',
    ]);
  });

  test('Art. 105/45 §2 5° - no criminal record is asked of an applicant under 18', () => {
    expect(
      requiredDocuments({ category: 'ict', procedure: 'first', adult: false, ict: { scheme: 'transfer' } }),
    ).not.toContain('criminalRecord');
    const minor = open(app({ adult: false, documents: { ...app().documents, criminalRecord: undefined } }));
    expect(missingItems({ ...minor, feeProof: true })).toEqual([]);
    const adult = open(app({ documents: { ...app().documents, criminalRecord: undefined } }));
    expect(missingItems({ ...adult, feeProof: true })).toEqual(['criminalRecord']);
  });

  test('Art. 105/56 §2 - long-term mobility needs the first member state permit and no medical certificate', () => {
    const docs = requiredDocuments({
      category: 'ict',
      procedure: 'first',
      adult: true,
      ict: { scheme: 'mobility' },
    });
    expect(docs).toContain('firstMemberStatePermit');
    expect(docs).not.toContain('medicalCertificate');
  });

  test('Art. 105/50, 105/61 - a renewal needs passport, current permit, means and insurance', () => {
    expect(requiredDocuments({ category: 'ict', procedure: 'renewal', adult: true })).toEqual([
      'passportCopy',
      'currentPermit',
      'employmentContract',
      'healthInsurance',
    ]);
  });

  test('Art. 105/45 §2 - without fee proof the region waits, then asks for it, then rules inadmissible', () => {
    const d = open();
    expect(d.reviewOn).toBe('2027-01-06');
    expect(completenessRuling(d, 'region-bruxelles', D, '2027-01-05')).toBeUndefined();
    const asked = completenessRuling(d, 'region-bruxelles', D, '2027-01-06');
    expect(asked).toEqual({
      outcome: 'missing-items',
      ruledOn: '2027-01-06',
      missingItems: ['fee-proof'],
      respondBy: '2027-01-27',
    });
    const waiting: RegionDossier = { ...d, phase: 'awaiting-items', respondBy: '2027-01-27' };
    expect(completenessRuling(waiting, 'region-bruxelles', D, '2027-01-27')).toBeUndefined();
    expect(completenessRuling(waiting, 'region-bruxelles', D, '2027-01-28')).toMatchObject({
      outcome: 'inadmissible',
      reason: 'fee-proof-missing',
    });
  });

  test('agreement - a complete dossier is admissible with the admissibility document (used for Art. 33 §6)', () => {
    const ruling = completenessRuling({ ...open(), feeProof: true }, 'region-bruxelles', D, '2027-01-04');
    expect(ruling).toMatchObject({
      outcome: 'complete',
      admissibilityDocument: { mediaType: 'application/json' },
    });
  });

  test('agreement - the region of the place of employment is competent; another region rules inadmissible', () => {
    expect(
      completenessRuling({ ...open(), feeProof: true }, 'region-wallonie', D, '2027-01-04'),
    ).toMatchObject({
      outcome: 'inadmissible',
      reason: 'not-competent',
    });
  });

  test('Art. 105/46 §2 - the automatic grant cuts the period to 3 years for a manager, 1 year for a trainee', () => {
    expect(automaticWorkDecision(open())).toEqual({
      decision: 'granted',
      period: { from: '2027-03-01', to: '2030-02-28' },
    });
    const trainee = open(
      app({ ict: { scheme: 'transfer', role: 'trainee', priorIctStayInLast3Years: false } }),
    );
    expect(automaticWorkDecision(trainee)).toEqual({
      decision: 'granted',
      period: { from: '2027-03-01', to: '2028-02-29' },
    });
  });

  test("Art. 105/57 §2 - a mobility grant never outlasts the first member state's permit", () => {
    const mobility = open(
      app({
        ict: {
          scheme: 'mobility',
          role: 'specialist',
          priorIctStayInLast3Years: true,
          firstMemberState: {
            country: 'DE',
            permitValidUntil: '2028-01-31',
            address: { street: 'Friedrichstraße 1', postalCode: '10117', city: 'Berlin', country: 'DE' },
          },
        },
      }),
    );
    const payload = workAuthorisationPayload(
      mobility,
      { decision: 'granted', period: { from: '2027-03-01', to: '2029-12-31' } },
      'region-bruxelles',
      D,
      '2027-01-04',
    );
    expect(payload).toMatchObject({
      decision: 'granted',
      period: { to: '2028-01-31' },
      ictRole: 'specialist',
    });
  });

  test('Art. 105/46 §2 - a refusal carries its reason and decision document', () => {
    const payload = workAuthorisationPayload(
      open(),
      { decision: 'refused', reason: 'labour-market' },
      'region-bruxelles',
      D,
      '2027-01-04',
    );
    expect(payload).toMatchObject({
      decision: 'refused',
      reason: 'labour-market',
      decisionDocument: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
  });
});
