import {
  type ApplicationSubmitted,
  type ActionStep,
  type BodyTable,
  type MessageStep,
  type CompletenessRuled,
  type DecisionDocument,
  type Decided,
  type DocumentKind,
  type DocumentRef,
  type DocumentsAdded,
  type Period,
  type Facts,
  type FeeProofSubmitted,
  type Need,
  type OverrunReported,
  type ResidenceDecided,
  type StepContext,
  type InformationRequested,
  definitionRef,
  isRefusal,
  choiceInput,
  messageSchemaRef,
  overrunStep,
  pendingDocuments,
  recordOverrun,
  requestInformationStep,
} from '@passerelle/procedure';
import {
  DEFAULT_REGION_TIME_LIMITS,
  type IctStayRecord,
  type RegionDossier,
  type RegionTimeLimits,
  type WorkDecision,
  completenessRuling,
  openDossier,
  phaseAfterRuling,
  providedKinds,
  transfereeIdentity,
  workAuthorisationPayload,
  workDecisionDue,
} from './rules.js';

/** The read of the region's ICT stay register (fact: an {@link IctStayRecord}). */
export const ICT_STAYS_LOOKUP = 'ict-stays';
/** The entry of a granted ICT period in the region's register (arg: {@link RecordIctStay}). */
export const ICT_STAY_EFFECT = 'record-ict-stay';

/** What {@link ICT_STAY_EFFECT} records: a pseudonym, the dossier, the period granted. */
export interface RecordIctStay {
  key: string;
  dossierId: string;
  period: Period;
}

/** What happens to a dossier at a regional authority. */
export type RegionEvent =
  | { type: 'opened'; dossier: RegionDossier }
  | { type: 'documents-received'; kinds: DocumentKind[]; validity?: DocumentValidity }
  | { type: 'fee-proof-received'; readable: boolean }
  | { type: 'completeness-ruled'; ruling: CompletenessRuled }
  | { type: 'work-decided'; work: NonNullable<RegionDossier['work']> }
  | { type: 'residence-decided'; annex: ResidenceDecided['annex'] }
  | { type: 'renewal-pending-attested' }
  | { type: 'information-requested'; request: InformationRequested }
  | { type: 'information-answered' }
  | { type: 'permit-issued' }
  | { type: 'stay-ended' }
  | OverrunReported;

/** The validity dates documents added state (Art. 105/45 §2 1°, 105/56 §2 4°, 105/68). */
export type DocumentValidity = Partial<
  Pick<RegionDossier, 'passportExpiresOn' | 'firstMemberStatePermitValidUntil' | 'insuranceCoversUntil'>
>;

/** The validity dates that the readable documents of `added` state. */
function validityOf(added: DocumentsAdded, kinds: readonly DocumentKind[]): DocumentValidity | undefined {
  const v: DocumentValidity = {};
  if (kinds.includes('passportCopy') && added.passportExpiresOn)
    v.passportExpiresOn = added.passportExpiresOn;
  if (kinds.includes('firstMemberStatePermit') && added.firstMemberStatePermitValidUntil)
    v.firstMemberStatePermitValidUntil = added.firstMemberStatePermitValidUntil;
  const cover = added.documents.healthInsurance?.coversUntil;
  if (kinds.includes('healthInsurance') && cover) v.insuranceCoversUntil = cover;
  return Object.keys(v).length > 0 ? v : undefined;
}

/** Folds a region's event into its dossier. */
export function evolveRegion(state: RegionDossier | undefined, event: RegionEvent): RegionDossier {
  if (event.type === 'opened') return event.dossier;
  const cur = state!;
  switch (event.type) {
    case 'documents-received':
      return { ...cur, ...event.validity, documents: [...new Set([...cur.documents, ...event.kinds])] };
    case 'fee-proof-received':
      return { ...cur, feeProof: cur.feeProof || event.readable };
    case 'completeness-ruled': {
      const { ruling } = event;
      return {
        ...cur,
        phase: phaseAfterRuling(ruling),
        ...(ruling.outcome === 'complete'
          ? { admissibilityDocument: ruling.admissibilityDocument, admissibleOn: ruling.ruledOn }
          : {}),
        ...(ruling.outcome === 'missing-items'
          ? { missing: ruling.missingItems, respondBy: ruling.respondBy }
          : {}),
        ...(ruling.outcome === 'inadmissible' ? { closedBecause: `inadmissible:${ruling.reason}` } : {}),
      };
    }
    case 'work-decided':
      return { ...cur, phase: 'work-decided', work: event.work };
    case 'residence-decided':
      return event.annex === '46'
        ? { ...cur, phase: 'granted', residence: event.annex }
        : { ...cur, phase: 'closed', residence: event.annex, closedBecause: `annex-${event.annex}` };
    case 'renewal-pending-attested':
      return { ...cur, renewalPendingAttested: true };
    case 'information-requested':
      return { ...cur, informationRequest: event.request };
    case 'information-answered': {
      const { informationRequest: _answered, ...rest } = cur;
      return rest;
    }
    case 'permit-issued':
      return { ...cur, phase: 'permit-issued', permitIssued: true };
    case 'stay-ended':
      return { ...cur, phase: 'closed', closedBecause: 'annex-52' };
    case 'deadline-overrun-reported':
      return recordOverrun(cur, event);
  }
}

/** The reference a document slot holds (a health-insurance proof wraps its document). */
function slotRef(slot: unknown): DocumentRef {
  const s = slot as DocumentRef | { document: DocumentRef };
  return 'document' in s ? s.document : s;
}

/** Each filled slot's document must read back before it counts (`ServiceHost.documentReadsBack`). */
function slotReads(documents: Record<string, unknown>): Need[] {
  return providedKinds(documents).map((kind) => ({
    kind: 'document-reads-back',
    key: `slot:${kind}`,
    ref: slotRef(documents[kind]),
    slot: kind,
  }));
}

/** The slots whose documents read back; one that does not stays a missing item. */
function readable(documents: Record<string, unknown>, facts: Facts): DocumentKind[] {
  return providedKinds(documents).filter((kind) => facts[`slot:${kind}`] === true);
}

/**
 * `events`, then the completeness ruling when one is due in the state they lead to (a dossier received
 * or awaiting items): the agreement's ruling, with the admissibility document it renders.
 */
function thenRule(
  state: RegionDossier | undefined,
  events: RegionEvent[],
  ctx: StepContext,
  limits: RegionTimeLimits,
): Decided<RegionEvent> {
  const next = events.reduce<RegionDossier | undefined>((s, e) => evolveRegion(s, e), state);
  if (!next || (next.phase !== 'received' && next.phase !== 'awaiting-items')) return { events };
  const docs: DecisionDocument[] = [];
  const ruling = completenessRuling(next, ctx.participant, ctx.dossierId, ctx.today, limits, docs);
  if (!ruling) return { events };
  return {
    events: [...events, { type: 'completeness-ruled', ruling }],
    send: [
      {
        type: 'completeness-ruled',
        payload: ruling,
        context: { ...next.routing },
        causationId: ctx.causationId,
        ...pendingDocuments(docs),
      },
    ],
  };
}

/** The input of `decide-work`: a grant for a period, or a refusal with the message's reasons. */
const DECIDE_WORK_INPUT = choiceInput('decision', {
  granted: { properties: { period: definitionRef('Period') } },
  refused: {
    properties: { reason: messageSchemaRef('work-authorisation-decided', '/oneOf/1/properties/reason') },
  },
});

// An application opens the dossier with the documents that read back and the ICT stays the region recorded
// of this transferee (Art. 31 16°, 17°), then rules on its completeness.
function applicationSubmittedStep(
  limits: RegionTimeLimits,
): MessageStep<RegionDossier, RegionEvent, ApplicationSubmitted> {
  return {
    needs: (_state, app: ApplicationSubmitted) => [
      ...slotReads(app.documents as Record<string, unknown>),
      // Art. 31 16°, 17°: the ICT stays the region recorded of this transferee count towards the maximum
      ...(app.ict
        ? [
            {
              kind: 'lookup' as const,
              key: 'ict-stays',
              lookup: ICT_STAYS_LOOKUP,
              arg: transfereeIdentity(app),
            },
          ]
        : []),
    ],
    decide: (_state, app: ApplicationSubmitted, ctx, facts) => {
      const documents = readable(app.documents as Record<string, unknown>, facts);
      const recorded = facts['ict-stays'] as IctStayRecord | undefined;
      const opened = openDossier(app, ctx.participant, ctx.sender, ctx.today, limits, documents, recorded);
      return thenRule(undefined, [{ type: 'opened', dossier: opened }], ctx, limits);
    },
  };
}

// The work authorisation, a case officer's decision (Art. 105/46 §2); a granted ICT period is recorded
// against the transferee's maximum.
const decideWorkStep: ActionStep<RegionDossier, RegionEvent, WorkDecision> = {
  title:
    'Decide the work authorisation: grant it for a period (cut to the legal maxima) or refuse it (Art. 105/46 §2)',
  input: DECIDE_WORK_INPUT,
  sends: ['work-authorisation-decided'],
  owed: (state) => {
    const deadline = workDecisionDue(state);
    return deadline ? { deadline } : undefined;
  },
  decide: (state, decision: WorkDecision, ctx) => {
    const docs: DecisionDocument[] = [];
    const payload = workAuthorisationPayload(
      state!,
      decision,
      ctx.participant,
      ctx.dossierId,
      ctx.today,
      docs,
    );
    if (isRefusal(payload)) return payload;
    const d = state!;
    return {
      // Art. 31 16°, 17°: the ICT period granted is recorded against the transferee's maximum
      ...(payload.decision === 'granted' && d.ictRole && d.transfereeKey
        ? {
            effects: [
              {
                kind: ICT_STAY_EFFECT,
                arg: { key: d.transfereeKey, dossierId: ctx.dossierId, period: payload.period },
              },
            ],
          }
        : {}),
      events: [
        {
          type: 'work-decided',
          work:
            payload.decision === 'granted'
              ? { decision: 'granted', period: payload.period }
              : { decision: 'refused', reason: payload.reason },
        },
      ],
      send: [
        {
          type: 'work-authorisation-decided',
          payload,
          context: { ...state!.routing },
          causationId: ctx.causationId,
          ...pendingDocuments(docs),
        },
      ],
      summary: payload.decision,
    };
  },
};

/**
 * The regional authority's steps: applications opened and ruled on (completeness and admissibility,
 * Art. 105/45, 105/50, 105/56, 105/61: automatic, from the documents that read back and the fee proof),
 * the work authorisation a case officer decides (Art. 105/46 §2: `decide-work`), the follow-up of the
 * dossier by the other bodies' messages, and the review when the fee proof or the missing items did not
 * come in time.
 *
 * @example
 * ```ts
 * const table = regionTable({ reviewAfterWorkingDays: 2, respondWithinWorkingDays: 15 });
 * ```
 */
export function regionTable(
  limits: RegionTimeLimits = DEFAULT_REGION_TIME_LIMITS,
): BodyTable<RegionDossier, RegionEvent> {
  return {
    body: 'regional-authority',
    evolve: evolveRegion,
    messages: {
      'application-submitted': applicationSubmittedStep(limits),
      'documents-added': {
        needs: (_state, added: DocumentsAdded) => slotReads(added.documents as Record<string, unknown>),
        decide: (state, added: DocumentsAdded, ctx, facts) => {
          const kinds = readable(added.documents as Record<string, unknown>, facts);
          const validity = validityOf(added, kinds);
          return thenRule(
            state,
            [
              { type: 'documents-received', kinds, ...(validity ? { validity } : {}) },
              // Art. 105/67: the answer to the authority's request
              ...(added.reason === 'requested-by-authority' && state?.informationRequest
                ? [{ type: 'information-answered' as const }]
                : []),
            ],
            ctx,
            limits,
          );
        },
      },
      'fee-proof-submitted': {
        // a proof whose document does not read back is no proof: the ruling asks for it again
        needs: (_state, proof: FeeProofSubmitted) => [
          { kind: 'document-reads-back', key: 'fee-proof', ref: proof.proof, slot: 'fee-proof' },
        ],
        decide: (state, _proof, ctx, facts) =>
          thenRule(
            state,
            [{ type: 'fee-proof-received', readable: facts['fee-proof'] === true }],
            ctx,
            limits,
          ),
      },
      // The Immigration Office checks the amount (Art. 1/2/1); the region only notes the request.
      'fee-payment-requested': { decide: () => ({ events: [] }) },
      'residence-decided': {
        decide: (_state, decision: ResidenceDecided) => ({
          events: [{ type: 'residence-decided', annex: decision.annex }],
        }),
      },
      'renewal-pending-attested': { decide: () => ({ events: [{ type: 'renewal-pending-attested' }] }) },
      'permit-issued': { decide: () => ({ events: [{ type: 'permit-issued' }] }) },
      'permit-renewed': { decide: () => ({ events: [{ type: 'permit-issued' }] }) },
      'stay-ended': { decide: () => ({ events: [{ type: 'stay-ended' }] }) },
    },
    actions: {
      'request-information': requestInformationStep(limits.respondWithinWorkingDays),
      'decide-work': decideWorkStep,
    },
    deadlines: {
      review: {
        title: 'Rule on a dossier whose fee proof or missing items did not come in time (Art. 105/45 §2)',
        deadline: (state) =>
          state.phase === 'received'
            ? state.reviewOn
            : state.phase === 'awaiting-items'
              ? state.respondBy
              : undefined,
        due: (state, ctx) =>
          (state.phase === 'received' || state.phase === 'awaiting-items') &&
          completenessRuling(state, ctx.participant, ctx.dossierId, ctx.today, limits) !== undefined,
        decide: (state, ctx) => thenRule(state, [], ctx, limits),
      },
      'work-decision': overrunStep('work-decision', workDecisionDue),
      // Art. 105/67: the date given to answer
      'information-answer': overrunStep('information-answer', (d) => d.informationRequest?.respondBy),
    },
  };
}
