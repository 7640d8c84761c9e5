import {
  type ApplicationSubmitted,
  type BodyTable,
  type CompletenessRuled,
  type DecisionDocument,
  type Decided,
  type DocumentKind,
  type DocumentRef,
  type DocumentsAdded,
  type Facts,
  type FeeProofSubmitted,
  type Need,
  type ResidenceDecided,
  type StepContext,
  definitionRef,
  isRefusal,
  messageSchemaRef,
  pendingDocuments,
} from '@passerelle/procedure';
import {
  DEFAULT_REGION_TIME_LIMITS,
  type RegionDossier,
  type RegionTimeLimits,
  type WorkDecision,
  completenessRuling,
  openDossier,
  phaseAfterRuling,
  providedKinds,
  workAuthorisationPayload,
} from './rules.js';

/** What happens to a dossier at a regional authority. */
export type RegionEvent =
  | { type: 'opened'; dossier: RegionDossier }
  | { type: 'documents-received'; kinds: DocumentKind[] }
  | { type: 'fee-proof-received'; readable: boolean }
  | { type: 'completeness-ruled'; ruling: CompletenessRuled }
  | { type: 'work-decided'; work: NonNullable<RegionDossier['work']> }
  | { type: 'residence-decided'; annex: ResidenceDecided['annex'] }
  | { type: 'renewal-pending-attested' }
  | { type: 'permit-issued' }
  | { type: 'stay-ended' };

/** Folds a region's event into its dossier. */
export function evolveRegion(state: RegionDossier | undefined, event: RegionEvent): RegionDossier {
  if (event.type === 'opened') return event.dossier;
  const cur = state!;
  switch (event.type) {
    case 'documents-received':
      return { ...cur, documents: [...new Set([...cur.documents, ...event.kinds])] };
    case 'fee-proof-received':
      return { ...cur, feeProof: cur.feeProof || event.readable };
    case 'completeness-ruled': {
      const { ruling } = event;
      return {
        ...cur,
        phase: phaseAfterRuling(ruling),
        ...(ruling.outcome === 'complete' ? { admissibilityDocument: ruling.admissibilityDocument } : {}),
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
    case 'permit-issued':
      return { ...cur, phase: 'permit-issued', permitIssued: true };
    case 'stay-ended':
      return { ...cur, phase: 'closed', closedBecause: 'annex-52' };
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
const DECIDE_WORK_INPUT = {
  type: 'object',
  oneOf: [
    {
      type: 'object',
      properties: { decision: { const: 'granted' }, period: definitionRef('Period') },
      required: ['decision', 'period'],
      additionalProperties: false,
    },
    {
      type: 'object',
      properties: {
        decision: { const: 'refused' },
        reason: messageSchemaRef('work-authorisation-decided', '/oneOf/1/properties/reason'),
      },
      required: ['decision', 'reason'],
      additionalProperties: false,
    },
  ],
} as const;

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
      'application-submitted': {
        needs: (_state, app: ApplicationSubmitted) => slotReads(app.documents as Record<string, unknown>),
        decide: (_state, app: ApplicationSubmitted, ctx, facts) => {
          const documents = readable(app.documents as Record<string, unknown>, facts);
          const opened = openDossier(app, ctx.participant, ctx.sender, ctx.today, limits, documents);
          return thenRule(undefined, [{ type: 'opened', dossier: opened }], ctx, limits);
        },
      },
      'documents-added': {
        needs: (_state, added: DocumentsAdded) => slotReads(added.documents as Record<string, unknown>),
        decide: (state, added: DocumentsAdded, ctx, facts) =>
          thenRule(
            state,
            [
              {
                type: 'documents-received',
                kinds: readable(added.documents as Record<string, unknown>, facts),
              },
            ],
            ctx,
            limits,
          ),
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
      'decide-work': {
        title:
          'Decide the work authorisation: grant it for a period (cut to the legal maxima) or refuse it (Art. 105/46 §2)',
        input: DECIDE_WORK_INPUT,
        sends: ['work-authorisation-decided'],
        owed: (state) => (state.phase === 'admissible' && !state.work ? {} : undefined),
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
          return {
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
      },
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
    },
  };
}
