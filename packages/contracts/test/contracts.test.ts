import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { type DossierContext } from '../src/index.js';
import { ContractError } from '../src/internal.js';
import { useContracts } from './use-contracts.js';

const examples = fileURLToPath(new URL('../../../schemas/examples/', import.meta.url));
const example = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`${examples}${path}`, 'utf8')) as Record<string, unknown>;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof ContractError) return err.code;
    throw err;
  }
  return undefined;
}

const firstIct: DossierContext = {
  procedure: 'first',
  scheme: 'ict',
  regionId: 'region-bruxelles',
  portalId: 'portal-wib',
  consularPostId: 'post-lagos',
  communeId: 'commune-21004',
};

describe('contracts from the law', () => {
  const suite = useContracts();
  /** Who receives the residence decision on a first ICT application, with `change` made to its context. */
  const decisionTo = (change: Partial<DossierContext>) =>
    suite.contracts.recipientsOf('residence-decided', { ...firstIct, ...change });

  test('contracts - a commune cannot send a residence decision', () => {
    expect(
      codeOf(() => suite.contracts.authorize('commune-21004', 'residence-decided', 'region-bruxelles')),
    ).toBe('ERR_CONTRACT_FORBIDDEN');
    expect(
      codeOf(() => suite.contracts.authorize('immigration-office', 'residence-decided', 'commune-21004')),
    ).toBe(undefined);
  });

  test('contracts - a consular post cannot receive an application', () => {
    expect(codeOf(() => suite.contracts.authorize('portal-wib', 'application-submitted', 'post-lagos'))).toBe(
      'ERR_CONTRACT_FORBIDDEN',
    );
    expect(codeOf(() => suite.contracts.authorize('portal-wib', 'application-submitted', 'region-dg'))).toBe(
      undefined,
    );
    expect(codeOf(() => suite.contracts.project('application-submitted', 'consular-post', {}))).toBe(
      'ERR_CONTRACT_FORBIDDEN',
    );
  });

  test('contracts - only the region and the Office (family members) rule on completeness, only the post issues visas, only the commune issues permits', () => {
    expect(codeOf(() => suite.contracts.authorize('commune-21004', 'completeness-ruled', 'portal-wib'))).toBe(
      'ERR_CONTRACT_FORBIDDEN',
    );
    expect(codeOf(() => suite.contracts.authorize('post-lagos', 'information-requested', 'portal-wib'))).toBe(
      'ERR_CONTRACT_FORBIDDEN',
    );
    expect(
      codeOf(() => suite.contracts.authorize('commune-21004', 'visa-issued', 'immigration-office')),
    ).toBe('ERR_CONTRACT_FORBIDDEN');
    expect(codeOf(() => suite.contracts.authorize('post-lagos', 'permit-issued', 'immigration-office'))).toBe(
      'ERR_CONTRACT_FORBIDDEN',
    );
    expect(
      codeOf(() => suite.contracts.authorize('region-wallonie', 'permit-issued', 'immigration-office')),
    ).toBe('ERR_CONTRACT_FORBIDDEN');
  });

  test("contracts - the Immigration Office's annex 46 goes to the region, the consular post (first application) and the commune", () => {
    const annex46 = example('residence-decided.v1/valid-annex-46-first-ict.json');
    const outcome = suite.contracts.outcomeOf('residence-decided', annex46);
    expect(outcome).toBe('granted');
    expect(decisionTo({ outcome })).toEqual([
      'region-bruxelles',
      'post-lagos',
      'commune-21004',
      'portal-wib',
    ]);
    // Renewal (Art. 105/52): no visa, so no consular post; the commune renews the permit.
    expect(decisionTo({ procedure: 'renewal', outcome: 'granted' })).toEqual([
      'region-bruxelles',
      'commune-21004',
      'portal-wib',
    ]);
    // Long-term mobility needs no visa (Art. 105/58).
    expect(decisionTo({ scheme: 'ict-mobility', outcome: 'granted' })).toEqual([
      'region-bruxelles',
      'commune-21004',
      'portal-wib',
    ]);
  });

  test('contracts - an annex 48 refusal goes to neither the consular post nor the commune', () => {
    const refusal = example('residence-decided.v1/valid-annex-48-refusal.json');
    const outcome = suite.contracts.outcomeOf('residence-decided', refusal);
    expect(outcome).toBe('refused');
    expect(decisionTo({ outcome })).toEqual(['region-bruxelles', 'portal-wib']);
    expect(suite.contracts.outcomeOf('residence-decided', { annex: '43bis' })).toBe('fee-refused');
  });

  test('contracts - routing needs the outcome and the participant ids the agreement names', () => {
    expect(codeOf(() => suite.contracts.recipientsOf('residence-decided', firstIct))).toBe(
      'ERR_DOSSIER_CONTEXT_INVALID',
    );
    const { consularPostId: _post, ...noPost } = firstIct;
    expect(
      codeOf(() => suite.contracts.recipientsOf('residence-decided', { ...noPost, outcome: 'granted' })),
    ).toBe('ERR_DOSSIER_CONTEXT_INVALID');
    expect(codeOf(() => decisionTo({ consularPostId: 'commune-21004', outcome: 'granted' }))).toBe(
      'ERR_DOSSIER_CONTEXT_INVALID',
    );
    // A first application's commune may not be known yet: it is skipped, the others still get the decision.
    const { communeId: _commune, ...noCommune } = firstIct;
    expect(suite.contracts.recipientsOf('residence-decided', { ...noCommune, outcome: 'granted' })).toEqual([
      'region-bruxelles',
      'post-lagos',
      'portal-wib',
    ]);
    expect(suite.contracts.recipientsOf('application-submitted', firstIct)).toEqual([
      'region-bruxelles',
      'immigration-office',
    ]);
    expect(codeOf(() => suite.contracts.recipientsOf('receipt', firstIct))).toBe('ERR_CONTRACT_FORBIDDEN');
  });

  test('contracts - projections drop what a recipient may not see', () => {
    const annex46 = example('residence-decided.v1/valid-annex-46-first-ict.json');
    const forRegion = suite.contracts.project('residence-decided', 'regional-authority', annex46) as Record<
      string,
      unknown
    >;
    expect(forRegion.holder).toBeUndefined();
    expect(forRegion.consularPostId).toBeUndefined();
    expect(forRegion.period).toEqual(annex46.period);
    const forPost = suite.contracts.project('residence-decided', 'consular-post', annex46) as Record<
      string,
      unknown
    >;
    expect(forPost.holder).toEqual({
      familyName: 'Moreau-Okafor',
      givenNames: 'Adaeze',
      birthDate: '1988-04-12',
      nationality: 'NGA',
      passportNumber: 'A09876543',
    });
    expect(JSON.stringify(forPost)).not.toContain('adaeze@example.org');
    const ended = example('stay-ended.v1/valid-with-holder.json');
    const endedForPortal = suite.contracts.project('stay-ended', 'portal', ended) as Record<string, unknown>;
    expect(Object.keys(endedForPortal).sort()).toEqual([
      'annex',
      'decidedOn',
      'decisionDocument',
      'endsOn',
      'reason',
    ]);
    const fee = example('fee-payment-requested.v1/valid-amount-incorrect.json');
    expect(suite.contracts.project('fee-payment-requested', 'regional-authority', fee)).not.toHaveProperty(
      'amountReceived',
    );
    // The projection is a copy: editing it leaves the original payload alone.
    (forPost.holder as Record<string, unknown>).familyName = 'changed';
    expect((annex46.holder as Record<string, unknown>).familyName).toBe('Moreau-Okafor');
  });

  test('contracts - no consular post ever receives health or criminal-record data, whatever the type', () => {
    const agreement = suite.contracts.agreement();
    for (const [type, contract] of Object.entries(agreement.messages)) {
      const rule = contract.recipients.find((r) => r.kind === 'consular-post');
      if (!rule) continue;
      const sensitive = [...(contract.personalData.health ?? []), ...(contract.personalData.judicial ?? [])];
      for (const pointer of rule.projection) {
        for (const s of sensitive)
          expect(s.startsWith(pointer) || pointer.startsWith(s), `${type} ${pointer}`).toBe(false);
      }
    }
    expect(agreement.kinds['consular-post']?.neverReceives).toEqual(
      expect.arrayContaining(['health', 'judicial']),
    );
  });

  test('contracts - validate reports ajv paths without the values', () => {
    const bad = {
      ...example('residence-decided.v1/valid-annex-46-first-ict.json'),
      consularPostId: 'Lagos Consulate',
    };
    let caught: ContractError | undefined;
    try {
      suite.contracts.validate('residence-decided', 1, bad);
    } catch (err) {
      caught = err as ContractError;
    }
    expect(caught?.code).toBe('ERR_SCHEMA_INVALID');
    const errors = caught?.details?.errors as { path: string; keyword: string }[];
    expect(errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: '/consularPostId', keyword: 'pattern' })]),
    );
    expect(JSON.stringify(caught)).not.toContain('Lagos Consulate');
    expect(JSON.stringify(caught)).not.toContain('Moreau');
  });

  test('contracts - a participant may not send to itself, and malformed ids are refused', () => {
    expect(codeOf(() => suite.contracts.authorize('commune-21004', 'receipt', 'commune-11002'))).toBe(
      undefined,
    );
    expect(codeOf(() => suite.contracts.authorize('commune-21004', 'receipt', 'commune-21004'))).toBe(
      'ERR_CONTRACT_FORBIDDEN',
    );
    expect(() => suite.contracts.authorize('portal-wib', 'application-submitted', 'region-mars')).toThrow(
      expect.objectContaining({ code: 'ERR_PARTICIPANT_ID_INVALID' }),
    );
  });

  test('contracts - unknown types and versions are typed errors', () => {
    expect(codeOf(() => suite.contracts.validate('selfie-submitted', 1, {}))).toBe('ERR_UNKNOWN_TYPE');
    expect(codeOf(() => suite.contracts.project('selfie-submitted', 'commune', {}))).toBe('ERR_UNKNOWN_TYPE');
    expect(codeOf(() => suite.contracts.validate('residence-decided', 9, {}))).toBe(
      'ERR_UNKNOWN_SCHEMA_VERSION',
    );
    expect(codeOf(() => suite.contracts.authorize('portal-wib', 'selfie-submitted', 'region-dg'))).toBe(
      'ERR_UNKNOWN_TYPE',
    );
    expect(suite.contracts.latestVersion('residence-decided')).toBe(1);
    expect(suite.contracts.receiptRequired('residence-decided')).toBe(true);
    expect(suite.contracts.receiptRequired('receipt')).toBe(false);
  });

  test('contracts - types() lists the whole procedure with its articles of law', () => {
    const types = suite.contracts.types();
    expect(types.map((t) => t.type)).toEqual(
      expect.arrayContaining([
        'application-submitted',
        'documents-added',
        'fee-proof-submitted',
        'completeness-ruled',
        'fee-payment-requested',
        'work-authorisation-decided',
        'residence-decided',
        'visa-issued',
        'arrival-registered',
        'provisional-document-extended',
        'permit-issued',
        'permit-renewed',
        'renewal-pending-attested',
        'stay-ended',
        'receipt',
      ]),
    );
    for (const t of types) {
      expect(t.type).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
      expect(t.article.length).toBeGreaterThan(3);
    }
    expect(types.find((t) => t.type === 'residence-decided')?.article).toContain('105/46');
  });
});
