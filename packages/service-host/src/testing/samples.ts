import type { ApplicationSubmitted, DocumentRef, ResidenceGranted } from '@passerelle/procedure';

/**
 * A document reference whose digest repeats the digit(s) of `n`, so that two samples differ by their
 * number.
 */
export function sampleDocument(
  n: number,
  mediaType: DocumentRef['mediaType'] = 'application/pdf',
): DocumentRef {
  return { sha256: String(n).repeat(64).slice(0, 64), mediaType, size: 10, objectKey: `d/${n}` };
}

/**
 * A complete ICT first application: an adult manager transferred to Brussels (commune 21004), applying
 * through the post in Lagos, with every document attached. `overrides` replace whole fields.
 */
export function sampleApplication(overrides: Partial<ApplicationSubmitted> = {}): ApplicationSubmitted {
  return {
    category: 'ict',
    procedure: 'first',
    regionId: 'region-bruxelles',
    workplaceCommuneId: 'commune-21004',
    residenceCommuneId: 'commune-21004',
    consularPostId: 'post-lagos',
    ict: { scheme: 'transfer', role: 'manager', priorIctStayInLast3Years: false },
    applicant: {
      familyName: 'X',
      givenNames: 'Y',
      birthDate: '1990-01-01',
      nationality: 'NGA',
      passportNumber: 'A1234567',
      email: 'applicant@example.org',
      passportExpiresOn: '2040-12-31',
    },
    employer: { name: 'E', enterpriseNumber: '0403170701', email: 'e@example.com' },
    requestedPeriod: { from: '2027-03-01', to: '2030-02-28' },
    documents: {
      passportCopy: sampleDocument(1),
      employmentContract: sampleDocument(2),
      healthInsurance: { form: 'insurer', document: sampleDocument(3), coversUntil: '2040-12-31' },
      medicalCertificate: sampleDocument(4),
      criminalRecord: sampleDocument(5),
    },
    submittedAt: '2027-01-04T09:00:00Z',
    ...overrides,
  };
}

/**
 * The `ict` of a long-term mobility: a specialist already holding a German ICT permit valid until
 * `permitValidUntil`.
 */
export function sampleMobility(permitValidUntil = '2028-01-31'): NonNullable<ApplicationSubmitted['ict']> {
  return {
    scheme: 'mobility',
    role: 'specialist',
    priorIctStayInLast3Years: false,
    firstMemberState: {
      country: 'DE',
      permitValidUntil,
      address: { street: 'Friedrichstraße 1', postalCode: '10117', city: 'Berlin', country: 'DE' },
    },
  };
}

/**
 * The Immigration Office's annex 46 for {@link sampleApplication}: three years from 1 March 2027, an
 * annex 60 to issue after a visa from the post in Lagos.
 */
export function sampleAnnex46(overrides: Partial<ResidenceGranted> = {}): ResidenceGranted {
  return {
    annex: '46',
    decidedOn: '2027-02-01',
    period: { from: '2027-03-01', to: '2030-02-28' },
    permitToIssue: 'annex-60',
    visaRequired: true,
    decisionDocument: sampleDocument(46, 'application/json'),
    ...overrides,
  };
}
