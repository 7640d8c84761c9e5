import type { ApplicationSubmitted, DocumentKind, Period } from '@passerelle/procedure';
import { describe, expect, test } from 'vitest';
import {
  type RegionDossier,
  automaticWorkDecision,
  completenessRuling,
  missingItems,
  openDossier,
  requiredDocuments,
  workAuthorisationPayload,
} from '../src/rules.js';
import { insuranceCovers, isAdultOn, isRefusal, passportValidFor } from '@passerelle/procedure';
import { ictDaysUsed } from '@passerelle/procedure/internal';
import { sampleApplication, sampleDocument, sampleMobility } from '@passerelle/service-host/testing';

const ref = sampleDocument;
const app = (overrides: Partial<ApplicationSubmitted> = {}): ApplicationSubmitted =>
  sampleApplication({ requestedPeriod: { from: '2027-03-01', to: '2031-03-01' }, ...overrides });

const D = 'D-TEST-0001';
/** An intra-corporate transfer in `role` whose holder already stayed here for `stays` in the last three years. */
const transferAfter = (role: 'manager' | 'trainee', ...stays: Period[]): ApplicationSubmitted['ict'] => ({
  scheme: 'transfer',
  role,
  priorIctStayInLast3Years: true,
  priorIctStays: stays,
});
const open = (a = app(), today = '2027-01-04'): RegionDossier =>
  openDossier(a, a.regionId, 'portal-demo', today);

describe('regional authority rules', () => {
  test.each<[string, Parameters<typeof requiredDocuments>[0], DocumentKind[]]>([
    [
      'Art. 105/45 §2 - an ICT first application needs passport, means, insurance, medical certificate and, if adult, the criminal record',
      { category: 'ict', procedure: 'first', adult: true, ict: { scheme: 'transfer' } },
      ['passportCopy', 'employmentContract', 'healthInsurance', 'medicalCertificate', 'criminalRecord'],
    ],
    [
      'Art. 105/50, 105/61 - a renewal needs passport, current permit, means and insurance',
      { category: 'ict', procedure: 'renewal', adult: true },
      ['passportCopy', 'currentPermit', 'employmentContract', 'healthInsurance'],
    ],
    [
      'agreement - a single permit follows the generic list: no ICT-only document is asked',
      { category: 'single-permit', procedure: 'first', adult: true },
      ['passportCopy', 'employmentContract'],
    ],
    [
      "agreement - a researcher's generic list adds the hosting agreement",
      { category: 'researcher', procedure: 'first', adult: true },
      ['passportCopy', 'employmentContract', 'hostingAgreement'],
    ],
    [
      "agreement - an EU blue card's renewal: the generic list and the current permit",
      { category: 'eu-blue-card', procedure: 'renewal', adult: true },
      ['passportCopy', 'currentPermit', 'employmentContract'],
    ],
  ])('%s', (_title, application, documents) => {
    expect(requiredDocuments(application)).toEqual(documents);
  });

  test('Art. 105/45 §2 5° - no criminal record is asked of an applicant under 18', () => {
    expect(
      requiredDocuments({ category: 'ict', procedure: 'first', adult: false, ict: { scheme: 'transfer' } }),
    ).not.toContain('criminalRecord');
    const noRecord = { ...app().documents, criminalRecord: undefined };
    const minor = open(
      app({ applicant: { ...app().applicant, birthDate: '2009-01-05' }, documents: noRecord }),
    );
    expect(minor.adult).toBe(false);
    expect(missingItems({ ...minor, feeProof: true })).toEqual([]);
    const adult = open(app({ documents: noRecord }));
    expect(missingItems({ ...adult, feeProof: true })).toEqual(['criminalRecord']);
  });

  test('Art. 105/45 §2 5° - the age is computed from the birth date on the day of the application', () => {
    // submitted on 2027-01-04: eighteen that very day counts, the day after does not
    const on = (birthDate: string) => open(app({ applicant: { ...app().applicant, birthDate } })).adult;
    expect(on('2009-01-04')).toBe(true);
    expect(on('2009-01-05')).toBe(false);
    // the day of the application, not the day the region receives it
    const late = openDossier(
      app({ applicant: { ...app().applicant, birthDate: '2009-01-05' } }),
      'region-bruxelles',
      'portal-demo',
      '2027-01-20',
    );
    expect(late.adult).toBe(false);
    expect(isAdultOn('2008-02-29', '2026-02-28')).toBe(true);
    expect(isAdultOn('not-a-date', '2026-02-28')).toBe(true);
  });

  test('Art. 105/45 §1 2° - without the e-mail addresses the application lacks applicant information', () => {
    const noEmail = app();
    delete (noEmail.applicant as { email?: string }).email;
    expect(missingItems({ ...open(noEmail), feeProof: true })).toEqual(['applicant-information']);
    expect(missingItems({ ...open(), feeProof: true })).toEqual([]);
  });

  test('agreement - the other categories follow the generic list: an EU blue card with no ICT-only document is complete', () => {
    const blueCard = open(
      app({
        category: 'eu-blue-card',
        ict: undefined,
        documents: { passportCopy: ref(1), employmentContract: ref(2) },
      }),
    );
    expect(missingItems({ ...blueCard, feeProof: true })).toEqual([]);
  });

  test('Art. 105/45 §2 1° - a passport not valid three months beyond the period requested is asked again', () => {
    // requested until 2031-03-01: valid until 2031-06-01 at least (Schengen Borders Code art. 6 §1 a))
    expect(passportValidFor('2031-06-01', { from: '2027-03-01', to: '2031-03-01' })).toBe(true);
    expect(passportValidFor('2031-05-31', { from: '2027-03-01', to: '2031-03-01' })).toBe(false);
    expect(passportValidFor(undefined, { from: '2027-03-01', to: '2031-03-01' })).toBe(false);
    const short = open(app({ applicant: { ...app().applicant, passportExpiresOn: '2029-01-01' } }));
    expect(missingItems({ ...short, feeProof: true })).toEqual(['passportCopy']);
  });

  test('Art. 105/68 - an insurance that does not cover the whole period, or states no end, is asked again', () => {
    expect(insuranceCovers('2031-03-01', { from: '2027-03-01', to: '2031-03-01' })).toBe(true);
    expect(insuranceCovers('2031-02-28', { from: '2027-03-01', to: '2031-03-01' })).toBe(false);
    const docs = app().documents;
    const short = open(
      app({
        documents: {
          ...docs,
          healthInsurance: { form: 'insurer', document: ref(3), coversUntil: '2028-12-31' },
        },
      }),
    );
    expect(missingItems({ ...short, feeProof: true })).toEqual(['healthInsurance']);
    const unstated = open(
      app({ documents: { ...docs, healthInsurance: { form: 'insurer', document: ref(3) } } }),
    );
    expect(missingItems({ ...unstated, feeProof: true })).toEqual(['healthInsurance']);
  });

  test('Art. 105/68 - the authorised period is cut at the end of the insurance cover', () => {
    const d: RegionDossier = { ...open(), insuranceCoversUntil: '2029-06-30' };
    const payload = workAuthorisationPayload(
      d,
      { decision: 'granted', period: { from: '2027-03-01', to: '2030-02-28' } },
      'region-bruxelles',
      D,
      '2027-01-04',
    );
    expect(payload).toMatchObject({ decision: 'granted', period: { to: '2029-06-30' } });
  });

  test("Art. 105/43; 26/2 §3 - a short-term mobility or a family member is outside the region's procedure", () => {
    const family = open(app({ ict: undefined, familyMemberOf: { scheme: 'transfer' } }));
    expect(family.routing.scheme).toBe('family');
    expect(
      completenessRuling({ ...family, feeProof: true }, 'region-bruxelles', D, '2027-01-04'),
    ).toMatchObject({
      outcome: 'inadmissible',
      reason: 'outside-scope',
    });
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
    const mobility = open(app({ ict: sampleMobility('2028-01-31') }));
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

  test('Art. 31 16°, 17° - the ICT maximum is a total: earlier stays of the transfer shorten the grant', () => {
    // a trainee who already spent 2026-03-01 … 2026-08-31 (184 days) here: 365 - 184 = 181 days remain
    const trainee = open(
      app({
        ict: transferAfter('trainee', { from: '2026-03-01', to: '2026-08-31' }),
        requestedPeriod: { from: '2027-03-01', to: '2028-02-29' },
      }),
    );
    expect(ictDaysUsed(trainee.ictStays!, '2027-03-01')).toBe(184);
    expect(automaticWorkDecision(trainee)).toEqual({
      decision: 'granted',
      period: { from: '2027-03-01', to: '2027-08-28' },
    });
    // a renewal does not restart the cap: the stay it renews counts (overlaps counted once)
    const renewal = open(
      app({
        procedure: 'renewal',
        residenceCommuneId: 'commune-21004',
        ict: transferAfter(
          'manager',
          { from: '2025-03-01', to: '2027-02-28' },
          { from: '2025-03-01', to: '2026-02-28' },
        ),
      }),
    );
    expect(automaticWorkDecision(renewal)).toEqual({
      decision: 'granted',
      period: { from: '2027-03-01', to: '2028-02-29' },
    });
  });

  test("Art. 31 16°, 17° - once the maximum is used up the automatic decision refuses, a person's grant is refused with its code", () => {
    const spent = open(
      app({
        ict: transferAfter('trainee', { from: '2026-03-01', to: '2027-02-28' }),
      }),
    );
    expect(automaticWorkDecision(spent)).toEqual({ decision: 'refused', reason: 'conditions-not-met' });
    const granted = workAuthorisationPayload(
      spent,
      { decision: 'granted', period: { from: '2027-03-01', to: '2027-12-31' } },
      'region-bruxelles',
      D,
      '2027-01-04',
    );
    expect(isRefusal(granted) && granted.refusal.code).toBe('ERR_PERIOD_INVALID');
  });

  test('Art. 105/56 §2 4° - an expired first member state permit, or one ending before the start, leaves the dossier incomplete', () => {
    const mobility = (permitValidUntil: string) =>
      open(
        app({
          ict: sampleMobility(permitValidUntil),
          documents: { ...app().documents, medicalCertificate: undefined, firstMemberStatePermit: ref(6) },
        }),
      );
    expect(missingItems({ ...mobility('2028-01-31'), feeProof: true })).toEqual([]);
    // expired on the day of the application
    expect(missingItems({ ...mobility('2027-01-03'), feeProof: true })).toEqual(['firstMemberStatePermit']);
    // valid today, but ends before the requested start (2027-03-01)
    const ending = mobility('2027-02-27');
    expect(missingItems({ ...ending, feeProof: true })).toEqual(['firstMemberStatePermit']);
    expect(
      completenessRuling({ ...ending, feeProof: true }, 'region-bruxelles', D, '2027-01-04'),
    ).toMatchObject({
      outcome: 'missing-items',
      missingItems: ['firstMemberStatePermit'],
    });
    // decided anyway (admissible on an earlier ruling): the automatic decision refuses, it never throws
    expect(automaticWorkDecision({ ...ending, phase: 'admissible' })).toEqual({
      decision: 'refused',
      reason: 'conditions-not-met',
    });
  });
});
