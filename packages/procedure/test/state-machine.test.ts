import { describe, expect, test } from 'vitest';
import { DOSSIER_MACHINES, assertStep } from '../src/internal.js';

const D = 'D-2027-0001';

describe('dossier state machine', () => {
  test('state - a visa for a dossier the Immigration Office never opened is ERR_UNKNOWN_DOSSIER', () => {
    expect(() => assertStep('immigration-office', undefined, 'visa-issued', D)).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_DOSSIER', retryable: false }),
    );
  });

  test("state - the region's ruling overtaking the application is retried (ERR_DOSSIER_NOT_YET_KNOWN)", () => {
    expect(() => assertStep('immigration-office', undefined, 'completeness-ruled', D)).toThrow(
      expect.objectContaining({ code: 'ERR_DOSSIER_NOT_YET_KNOWN', retryable: true }),
    );
  });

  test('state - a decision on a closed dossier is ERR_DOSSIER_CLOSED', () => {
    expect(() => assertStep('immigration-office', 'closed', 'work-authorisation-decided', D)).toThrow(
      expect.objectContaining({ code: 'ERR_DOSSIER_CLOSED' }),
    );
    expect(() => assertStep('commune', 'closed', 'issue-permit', D)).toThrow(
      expect.objectContaining({ code: 'ERR_DOSSIER_CLOSED' }),
    );
  });

  test('Art. 105/47 §1 - a second visa for the same dossier is ERR_DUPLICATE_DECISION', () => {
    expect(() => assertStep('immigration-office', 'visa-issued', 'visa-issued', D)).toThrow(
      expect.objectContaining({ code: 'ERR_DUPLICATE_DECISION' }),
    );
    expect(() => assertStep('consular-post', 'visa-issued', 'residence-decided', D)).toThrow(
      expect.objectContaining({ code: 'ERR_DUPLICATE_DECISION' }),
    );
  });

  test('Art. 105/46 §3 - a visa before the annex 46 grant is ERR_OUT_OF_SEQUENCE', () => {
    expect(() => assertStep('immigration-office', 'admissible', 'visa-issued', D)).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_SEQUENCE' }),
    );
  });

  test('state - the ICT first-application path is accepted step by step at the Immigration Office', () => {
    const path: [string | undefined, string][] = [
      [undefined, 'application-submitted'],
      ['submitted', 'fee-proof-submitted'],
      ['submitted', 'completeness-ruled'],
      ['admissible', 'work-authorisation-decided'],
      ['work-decided', 'decide-residence'],
      ['granted', 'visa-issued'],
      ['visa-issued', 'arrival-registered'],
      ['arrived', 'provisional-document-extended'],
      ['arrived', 'permit-issued'],
      ['permit-issued', 'end-stay'],
    ];
    for (const [phase, step] of path)
      expect(() => assertStep('immigration-office', phase, step, D)).not.toThrow();
  });

  test('Art. 1/2/1 - a fee refusal reaches a region still waiting for documents', () => {
    expect(() => assertStep('regional-authority', 'awaiting-items', 'residence-decided', D)).not.toThrow();
    expect(() => assertStep('regional-authority', 'granted', 'residence-decided', D)).toThrow(
      expect.objectContaining({ code: 'ERR_DUPLICATE_DECISION' }),
    );
  });

  test('state - every phase of every machine is listed and every closed phase accepts nothing', () => {
    for (const machine of Object.values(DOSSIER_MACHINES)) {
      for (const closed of machine.closed)
        expect((machine.phases as Record<string, readonly string[]>)[closed]).toEqual([]);
      for (const phases of Object.values(machine.decidedIn)) {
        for (const p of phases) expect(Object.keys(machine.phases)).toContain(p);
      }
    }
  });

  test('state - error messages name the dossier and the step, never a payload', () => {
    try {
      assertStep('commune', 'permit-issued', 'register-arrival', D);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain(D);
      expect((err as { details: object }).details).toEqual({
        body: 'commune',
        dossierId: D,
        step: 'register-arrival',
        phase: 'permit-issued',
      });
    }
  });
});
