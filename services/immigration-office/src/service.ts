import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from '@passerelle/exchange';
import {
  type ApplicationSubmitted,
  type ArrivalRegistered,
  type CompletenessRuled,
  type DecisionDocument,
  type FeeProofSubmitted,
  type IsoDate,
  type PendingMessage,
  type PermitIssued,
  type PermitRenewed,
  ProcedureError,
  type ResidenceDecided,
  type ResidenceRefusalReason,
  type StayEndReason,
  type StepResult,
  type VisaIssued,
  type WorkAuthorisationDecided,
  assertStep,
  pendingDocuments,
  toIsoDate,
} from '@passerelle/procedure';
import { type HostedServiceConfig, ServiceHost } from '@passerelle/service-host';
import {
  type OfficeDossier,
  decisionDeadlineOverrun,
  feeCheck,
  feeOverdue,
  feePaymentRequest,
  feeRefusal,
  openOfficeDossier,
  outcomeOf,
  residenceGrant,
  residenceRefusal,
  stayEnded,
} from './rules.js';

/** The participant id of the Immigration Office. */
export const IMMIGRATION_OFFICE = 'immigration-office';

/** A residence decision of a case officer. */
export type ResidenceDecision =
  { decision: 'granted' } | { decision: 'refused'; reason: ResidenceRefusalReason };

/** What the policy sees of a dossier ready for its residence decision (work authorised, fee paid). */
export interface ResidenceDecisionInput {
  dossierId: string;
  dossier: Readonly<OfficeDossier>;
}

/**
 * The human decisions of the Immigration Office. Return `undefined` to leave the decision to a case
 * officer, who takes it later with {@link ImmigrationOfficeService.decideResidence}.
 */
export interface OfficeDecisionPolicy {
  residence(
    input: ResidenceDecisionInput,
  ): ResidenceDecision | undefined | Promise<ResidenceDecision | undefined>;
}

/** The default policy: grant residence for the work-authorisation period (so the demo runs end to end). */
export const automaticOfficePolicy: OfficeDecisionPolicy = { residence: () => ({ decision: 'granted' }) };

/** Settings of {@link createImmigrationOfficeService}. */
export interface ImmigrationOfficeConfig extends HostedServiceConfig {
  decide?: OfficeDecisionPolicy;
  /** The fee, the same base amount for every category (Art. 1/2/1), in euro cents (default 35 800). */
  feeAmountCents?: number;
  /** Working days given to pay a missing or short fee (default 15). */
  feePaymentWorkingDays?: number;
}

/** What a deadline scan did. */
export interface OfficeDeadlineReport {
  /** Dossiers refused for an unpaid fee (annex 43 / 43bis). */
  feeRefusals: string[];
  /** Family-member dossiers whose 90-day decision deadline is overrun (Art. 26/2 §3), reported once. */
  decisionDeadlineOverruns: { dossierId: string; deadline: IsoDate }[];
}

/** A running Immigration Office service. */
export interface ImmigrationOfficeService {
  readonly participants: readonly string[];
  dossier(dossierId: string): Promise<OfficeDossier | undefined>;
  /** A case officer's residence decision on a dossier left pending by the policy. */
  decideResidence(dossierId: string, decision: ResidenceDecision): Promise<OfficeDossier>;
  /** Art. 105/54, 105/65: ends the stay with an annex 52. */
  endStay(dossierId: string, input: { reason: StayEndReason; endsOn: IsoDate }): Promise<OfficeDossier>;
  /** Fee payment deadlines and the family members' 90-day decision deadline, as of `at` (default now). */
  checkDeadlines(at?: Date, options?: { dossierIds?: readonly string[] }): Promise<OfficeDeadlineReport>;
  close(): Promise<void>;
}

/**
 * Starts the Immigration Office: fee check (Art. 1/2/1, annexes 43 / 43bis), residence decisions (annex 46
 * for the work-authorisation period, annex 48), annex 46 copies to the consular post and the commune, the
 * follow-up of visa, arrival and permit, the end of stay (annex 52) and the family members' deadline.
 *
 * @example
 * ```ts
 * const oe = await createImmigrationOfficeService({ participants: [oeKeys], directory, contracts, servers });
 * ```
 */
export async function createImmigrationOfficeService(
  config: ImmigrationOfficeConfig,
): Promise<ImmigrationOfficeService> {
  const host = await ServiceHost.open<OfficeDossier>('immigration-office', 'immigration-office', config);
  const policy = config.decide ?? automaticOfficePolicy;
  const feeDue = config.feeAmountCents ?? 35_800;
  const payDays = config.feePaymentWorkingDays ?? 15;
  const today = (): string => toIsoDate(host.now());
  const OE = host.participants[0]!;

  function residenceMessage(
    dossier: OfficeDossier,
    payload: ResidenceDecided,
    causationId: string | null,
    docs: readonly DecisionDocument[],
  ): PendingMessage {
    const r = dossier.routing;
    const granted = payload.annex === '46';
    // Explicit recipients: a generic first application may name no consular post, which the contract's
    // routing would otherwise require.
    const to = [r.regionId, r.portalId];
    if (granted && payload.visaRequired && r.consularPostId) to.push(r.consularPostId);
    if (granted && r.communeId) to.push(r.communeId);
    return {
      type: 'residence-decided',
      payload,
      to,
      context: { ...r, outcome: outcomeOf(payload.annex) },
      causationId,
      ...pendingDocuments(docs),
    };
  }

  function decided(dossier: OfficeDossier, payload: ResidenceDecided): OfficeDossier {
    if (payload.annex === '46') {
      return {
        ...dossier,
        phase: 'granted',
        residence: {
          annex: '46',
          period: payload.period,
          permitToIssue: payload.permitToIssue,
          visaRequired: payload.visaRequired,
        },
      };
    }
    return {
      ...dossier,
      phase: 'closed',
      residence: { annex: payload.annex },
      closedBecause: `annex-${payload.annex}`,
    };
  }

  /** Takes the residence decision once the work is decided and the fee paid. */
  async function progress(
    dossier: OfficeDossier,
    dossierId: string,
    on: IsoDate,
    causationId: string | null,
  ): Promise<StepResult<OfficeDossier>> {
    if (
      dossier.phase !== 'work-decided' ||
      dossier.fee.status !== 'ok' ||
      dossier.residence ||
      !dossier.work
    ) {
      return { state: dossier };
    }
    let payload: ResidenceDecided | undefined;
    const docs: DecisionDocument[] = [];
    if (dossier.work.decision === 'refused') {
      payload = residenceRefusal(dossier, dossierId, 'work-authorisation-refused', on, docs);
    } else {
      const decision = await policy.residence({ dossierId, dossier });
      if (decision?.decision === 'granted')
        payload = residenceGrant(dossier, dossierId, dossier.work.period, on, docs);
      else if (decision?.decision === 'refused')
        payload = residenceRefusal(dossier, dossierId, decision.reason, on, docs);
    }
    if (!payload) return { state: dossier };
    return {
      state: decided(dossier, payload),
      send: [residenceMessage(dossier, payload, causationId, docs)],
    };
  }

  const on =
    (
      type: string,
      apply: (
        cur: OfficeDossier,
        m: IncomingMessage,
      ) => OfficeDossier | StepResult<OfficeDossier> | Promise<OfficeDossier | StepResult<OfficeDossier>>,
    ) =>
    async (m: IncomingMessage): Promise<void> => {
      await host.apply(OE, m.meta.dossierId, m, async (cur) => {
        assertStep('immigration-office', cur?.phase, type, m.meta.dossierId);
        const out = await apply(cur!, m);
        const result: StepResult<OfficeDossier> = 'state' in out ? out : { state: out };
        const next = await progress(result.state, m.meta.dossierId, today(), m.meta.id);
        return { state: next.state, send: [...(result.send ?? []), ...(next.send ?? [])] };
      });
    };

  const requireRenewal = (cur: OfficeDossier, type: string, dossierId: string): void => {
    if (cur.routing.procedure !== 'renewal') {
      throw new ProcedureError(
        'ERR_OUT_OF_SEQUENCE',
        `${type} concerns a renewal; dossier ${dossierId} is a first application.`,
        {
          details: { dossierId, step: type },
        },
      );
    }
  };

  /** Art. 1/2/1: the amounts proven so far against the fee due; unpaid, a payment request. */
  const checkFee = (m: IncomingMessage, counted: number): Promise<void> =>
    on('fee-proof-submitted', (cur) => {
      const paidCents = cur.fee.paidCents + counted;
      if (feeCheck(paidCents, feeDue) === 'ok') return { ...cur, fee: { paidCents, status: 'ok' } };
      if (cur.fee.status === 'requested') return { ...cur, fee: { ...cur.fee, paidCents } };
      // Art. 1/2/1: the applicant is told and invited to pay; unpaid at the date, the fee refusal follows.
      const request = feePaymentRequest(paidCents, feeDue, today(), payDays);
      return {
        state: { ...cur, fee: { paidCents, status: 'requested', request } },
        send: [
          {
            type: 'fee-payment-requested',
            payload: request,
            context: { ...cur.routing },
            causationId: m.meta.id,
          },
        ],
      };
    })(m);

  host.subscribe({
    'application-submitted': async (m) => {
      await host.apply(OE, m.meta.dossierId, m, (cur) => {
        assertStep('immigration-office', cur?.phase, 'application-submitted', m.meta.dossierId);
        return { state: openOfficeDossier(m.payload as ApplicationSubmitted, m.meta.sender, today()) };
      });
    },
    'documents-added': on('documents-added', (cur) => cur),
    'fee-proof-submitted': async (m) => {
      const proof = m.payload as FeeProofSubmitted;
      // a proof whose document does not read back pays nothing: the payment request follows
      const readable = await host.documentReadsBack(OE, proof.proof, {
        dossierId: m.meta.dossierId,
        slot: 'fee-proof',
      });
      await checkFee(m, readable ? proof.amount.amountCents : 0);
    },
    'completeness-ruled': on('completeness-ruled', async (cur, m) => {
      const ruling = m.payload as CompletenessRuled;
      if (ruling.outcome === 'complete') {
        // the region's admissibility document must read back and say so before the dossier is admissible
        await host.checkDecisionDocument(OE, ruling.admissibilityDocument, {
          document: 'admissibility',
          dossierId: m.meta.dossierId,
          issuer: m.meta.sender,
          outcome: 'complete',
        });
        return { ...cur, phase: 'admissible' };
      }
      if (ruling.outcome === 'inadmissible')
        return { ...cur, phase: 'closed', closedBecause: `inadmissible:${ruling.reason}` };
      return cur;
    }),
    'work-authorisation-decided': on('work-authorisation-decided', async (cur, m) => {
      if (m.meta.sender !== cur.routing.regionId) throw notCompetent(m, cur.routing.regionId);
      const w = m.payload as WorkAuthorisationDecided;
      // the residence decision follows the work authorisation: its document must read back and agree
      await host.checkDecisionDocument(OE, w.decisionDocument, {
        document: 'work-authorisation',
        dossierId: m.meta.dossierId,
        issuer: m.meta.sender,
        ...(w.decision === 'granted'
          ? { period: w.period, outcome: 'granted' }
          : { outcome: `refused:${w.reason}` }),
      });
      return {
        ...cur,
        phase: 'work-decided',
        work:
          w.decision === 'granted'
            ? { decision: 'granted', period: w.period }
            : { decision: 'refused', reason: w.reason },
      };
    }),
    'visa-issued': on('visa-issued', (cur, m) => {
      if (!cur.residence?.visaRequired) {
        throw new ProcedureError('ERR_OUT_OF_SEQUENCE', `Dossier ${m.meta.dossierId} needs no visa.`, {
          details: { dossierId: m.meta.dossierId, step: 'visa-issued' },
        });
      }
      if (m.meta.sender !== cur.routing.consularPostId) throw notCompetent(m, cur.routing.consularPostId);
      const v = m.payload as VisaIssued;
      return { ...cur, phase: 'visa-issued', visa: { number: v.visaNumber, issuedOn: v.issuedOn } };
    }),
    'arrival-registered': on('arrival-registered', (cur, m) => {
      if (cur.residence?.visaRequired && !cur.visa) {
        throw new ProcedureError('ERR_OUT_OF_SEQUENCE', `Dossier ${m.meta.dossierId} has no visa yet.`, {
          details: { dossierId: m.meta.dossierId, step: 'arrival-registered' },
        });
      }
      if (cur.routing.procedure === 'renewal') {
        throw new ProcedureError('ERR_OUT_OF_SEQUENCE', `Dossier ${m.meta.dossierId} is a renewal.`, {
          details: { dossierId: m.meta.dossierId, step: 'arrival-registered' },
        });
      }
      const a = m.payload as ArrivalRegistered;
      return {
        ...cur,
        phase: 'arrived',
        routing: { ...cur.routing, communeId: a.communeId },
        arrival: { communeId: a.communeId, enteredOn: a.enteredOn, reportedOn: a.reportedOn },
      };
    }),
    'provisional-document-extended': on('provisional-document-extended', (cur) => ({
      ...cur,
      provisionalExtensions: (cur.provisionalExtensions ?? 0) + 1,
    })),
    'renewal-pending-attested': on('renewal-pending-attested', (cur, m) => {
      requireRenewal(cur, 'renewal-pending-attested', m.meta.dossierId);
      return { ...cur, renewalPending: true };
    }),
    'permit-issued': on('permit-issued', (cur, m) => {
      const p = m.payload as PermitIssued;
      return { ...cur, phase: 'permit-issued', permit: { number: p.permitNumber, validity: p.validity } };
    }),
    'permit-renewed': on('permit-renewed', (cur, m) => {
      requireRenewal(cur, 'permit-renewed', m.meta.dossierId);
      const p = m.payload as PermitRenewed;
      return { ...cur, phase: 'permit-issued', permit: { number: p.permitNumber, validity: p.validity } };
    }),
  });

  return {
    participants: host.participants,
    dossier: (dossierId) => host.store.get(OE, dossierId),
    decideResidence(dossierId, decision) {
      return host.apply(OE, dossierId, `decide-residence:${randomUUID()}`, (cur) => {
        assertStep('immigration-office', cur?.phase, 'decide-residence', dossierId);
        const d = cur!;
        const date = today();
        if (d.fee.status !== 'ok' || !d.work) {
          throw new ProcedureError(
            'ERR_OUT_OF_SEQUENCE',
            `Dossier ${dossierId} awaits its fee or work decision.`,
            {
              details: { dossierId, step: 'decide-residence' },
            },
          );
        }
        const docs: DecisionDocument[] = [];
        const payload =
          decision.decision === 'granted' && d.work.decision === 'granted'
            ? residenceGrant(d, dossierId, d.work.period, date, docs)
            : residenceRefusal(
                d,
                dossierId,
                decision.decision === 'refused' ? decision.reason : 'work-authorisation-refused',
                date,
                docs,
              );
        return { state: decided(d, payload), send: [residenceMessage(d, payload, null, docs)] };
      });
    },
    endStay(dossierId, input) {
      return host.apply(OE, dossierId, `end-stay:${randomUUID()}`, (cur) => {
        assertStep('immigration-office', cur?.phase, 'end-stay', dossierId);
        const d = cur!;
        const docs: DecisionDocument[] = [];
        const payload = stayEnded(d, dossierId, input.reason, input.endsOn, today(), docs);
        const to = [
          d.routing.regionId,
          d.routing.portalId,
          ...(d.routing.communeId ? [d.routing.communeId] : []),
        ];
        return {
          state: { ...d, phase: 'closed', stayEndsOn: input.endsOn, closedBecause: 'annex-52' },
          send: [
            {
              type: 'stay-ended',
              payload,
              to,
              context: { ...d.routing },
              causationId: null,
              ...pendingDocuments(docs),
            },
          ],
        };
      });
    },
    async checkDeadlines(at = host.now(), options = {}) {
      const date = toIsoDate(at);
      const report: OfficeDeadlineReport = { feeRefusals: [], decisionDeadlineOverruns: [] };
      for await (const { dossierId, state } of host.store.list(OE)) {
        if (options.dossierIds && !options.dossierIds.includes(dossierId)) continue;
        if (feeOverdue(state.fee, date) && state.phase !== 'closed' && !state.residence) {
          await host.scanStep(OE, dossierId, () =>
            host.apply(OE, dossierId, `fee-deadline:${date}`, (cur) => {
              assertStep('immigration-office', cur?.phase, 'fee-deadline', dossierId);
              if (!feeOverdue(cur!.fee, date)) return { state: cur! };
              const docs: DecisionDocument[] = [];
              const payload = feeRefusal(cur!, dossierId, date, docs);
              report.feeRefusals.push(dossierId);
              return { state: decided(cur!, payload), send: [residenceMessage(cur!, payload, null, docs)] };
            }),
          );
        } else if (decisionDeadlineOverrun(state, date)) {
          await host.scanStep(OE, dossierId, () =>
            host.apply(OE, dossierId, `decision-deadline:${date}`, (cur) => {
              if (!decisionDeadlineOverrun(cur!, date)) return { state: cur! };
              report.decisionDeadlineOverruns.push({ dossierId, deadline: cur!.decisionDeadline! });
              host.logger.warn(
                { dossierId, deadline: cur!.decisionDeadline },
                'family-member decision deadline overrun (Art. 26/2 §3)',
              );
              host.emit({
                participant: OE,
                dossierId,
                kind: 'deadline',
                type: 'decision-deadline',
                detail: `Art. 26/2 §3: the 90-day decision deadline (${cur!.decisionDeadline}) is overrun`,
              });
              return { state: { ...cur!, deadlineOverrunReportedOn: date } };
            }),
          );
        }
      }
      return report;
    },
    close: () => host.close(),
  };
}

function notCompetent(m: IncomingMessage, expected: string | undefined): ProcedureError {
  return new ProcedureError(
    'ERR_NOT_COMPETENT',
    `${m.meta.sender} is not the body dossier ${m.meta.dossierId} names for ${m.meta.type}.`,
    {
      details: {
        dossierId: m.meta.dossierId,
        step: m.meta.type,
        sender: m.meta.sender,
        expected: expected ?? null,
      },
    },
  );
}
