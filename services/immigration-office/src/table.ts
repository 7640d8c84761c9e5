import {
  type ActionStep,
  type ApplicationSubmitted,
  type ArrivalRegistered,
  type BodyTable,
  type CompletenessRuled,
  type DeadlineStep,
  type OverrunReported,
  type DecisionDocument,
  type DocumentKind,
  type DocumentRef,
  type DocumentsAdded,
  type Facts,
  type MissingItem,
  type Need,
  type Decided,
  type FeeProofSubmitted,
  type IsoDate,
  type MessageContext,
  type MessageStep,
  type PendingMessage,
  type PermitIssued,
  type PermitRenewed,
  type Refusal,
  type ResidenceChecked,
  type ResidenceDecided,
  type ResidenceRefusalReason,
  type MobilityObjectionReason,
  type StayEndReason,
  type StepContext,
  type VisaIssued,
  type WorkAuthorisationDecided,
  type InformationRequested,
  addWorkingDays,
  collectDocument,
  decisionDocument,
  definitionRef,
  isRefusal,
  choiceInput,
  messageSchemaRef,
  pendingDocuments,
  overrunStep,
  recordOverrun,
  refuse,
  requestInformationStep,
} from '@passerelle/procedure';
import {
  type FamilyFile,
  type FeeAccount,
  type MobilityFile,
  type OfficeDossier,
  familyMissing,
  familyDecisionDue,
  mobilityDecision,
  mobilityMissing,
  mobilityObjectionGround,
  objectionDeadline,
  objectionPeriodOver,
  feeCheck,
  feeOverdue,
  feePaymentRequest,
  feeRefusal,
  openOfficeDossier,
  outcomeOf,
  residenceGrant,
  residenceDecisionDue,
  residenceRefusal,
  stayEnded,
} from './rules.js';

/** What happens to a dossier at the Immigration Office. */
export type OfficeEvent =
  | { type: 'opened'; dossier: OfficeDossier }
  | { type: 'fee-counted'; fee: FeeAccount }
  | { type: 'admissible'; on?: IsoDate }
  | { type: 'closed'; because: string }
  | { type: 'work-decided'; work: NonNullable<OfficeDossier['work']> }
  | { type: 'residence-decided'; residence: NonNullable<OfficeDossier['residence']> }
  | { type: 'visa-recorded'; visa: NonNullable<OfficeDossier['visa']> }
  | { type: 'arrived'; arrival: NonNullable<OfficeDossier['arrival']> }
  | { type: 'provisional-extended' }
  | { type: 'residence-checked'; check: NonNullable<OfficeDossier['residenceCheck']> }
  | { type: 'renewal-pending' }
  | { type: 'permit-recorded'; permit: NonNullable<OfficeDossier['permit']> }
  | { type: 'stay-ended'; endsOn: IsoDate }
  | OverrunReported
  | { type: 'family-documents'; kinds: DocumentKind[]; validity?: FamilyValidity }
  | { type: 'first-state-permit-renewed'; validUntil: IsoDate }
  | { type: 'information-requested'; request: InformationRequested }
  | { type: 'information-answered' }
  | { type: 'family-asked'; items: MissingItem[]; respondBy: IsoDate }
  | { type: 'mobility-documents'; kinds: DocumentKind[]; passportExpiresOn?: IsoDate }
  | { type: 'mobility-asked'; items: MissingItem[]; respondBy: IsoDate }
  | { type: 'mobility-notified'; notifiedOn: IsoDate; objectionDeadline: IsoDate }
  | { type: 'mobility-decided'; decision: NonNullable<MobilityFile['decision']> };

/** The validity dates that documents added to a family member's application state. */
export type FamilyValidity = Partial<Pick<FamilyFile, 'passportExpiresOn' | 'insuranceCoversUntil'>>;

/** Folds an Office's event into its dossier. */
export function evolveOffice(state: OfficeDossier | undefined, event: OfficeEvent): OfficeDossier {
  if (event.type === 'opened') return event.dossier;
  const cur = state!;
  switch (event.type) {
    case 'fee-counted':
      return { ...cur, fee: event.fee };
    case 'admissible':
      return { ...cur, phase: 'admissible', ...(event.on ? { completeOn: event.on } : {}) };
    case 'closed':
      return { ...cur, phase: 'closed', closedBecause: event.because };
    case 'work-decided':
      return { ...cur, phase: 'work-decided', work: event.work };
    case 'residence-decided':
      return event.residence.annex === '46'
        ? { ...cur, phase: 'granted', residence: event.residence }
        : {
            ...cur,
            phase: 'closed',
            residence: event.residence,
            closedBecause: `annex-${event.residence.annex}`,
          };
    case 'visa-recorded':
      return { ...cur, phase: 'visa-issued', visa: event.visa };
    case 'arrived':
      return {
        ...cur,
        phase: 'arrived',
        routing: { ...cur.routing, communeId: event.arrival.communeId },
        arrival: event.arrival,
      };
    case 'provisional-extended':
      return { ...cur, provisionalExtensions: (cur.provisionalExtensions ?? 0) + 1 };
    case 'residence-checked':
      return { ...cur, residenceCheck: event.check };
    case 'renewal-pending':
      return { ...cur, renewalPending: true };
    case 'permit-recorded':
      return { ...cur, phase: 'permit-issued', permit: event.permit };
    case 'stay-ended':
      return { ...cur, phase: 'closed', stayEndsOn: event.endsOn, closedBecause: 'annex-52' };
    case 'deadline-overrun-reported':
      return recordOverrun(cur, event);
    case 'family-documents':
      return cur.family
        ? {
            ...cur,
            family: {
              ...cur.family,
              ...event.validity,
              documents: [...new Set([...cur.family.documents, ...event.kinds])],
            },
          }
        : cur;
    case 'information-requested':
      return { ...cur, informationRequest: event.request };
    case 'information-answered': {
      const { informationRequest: _answered, ...rest } = cur;
      return rest;
    }
    case 'first-state-permit-renewed':
      return { ...cur, firstMemberStatePermitValidUntil: event.validUntil };
    case 'family-asked':
      return cur.family
        ? { ...cur, family: { ...cur.family, asked: { items: event.items, respondBy: event.respondBy } } }
        : cur;
    default:
      return evolveMobility(cur, event);
  }
}

/** Folds a short-term mobility's events (Art. 105/43) into the Office's dossier. */
function evolveMobility(cur: OfficeDossier, event: OfficeEvent): OfficeDossier {
  const file = cur.mobility;
  if (!file) return cur;
  switch (event.type) {
    case 'mobility-documents':
      return {
        ...cur,
        mobility: {
          ...file,
          ...(event.passportExpiresOn ? { passportExpiresOn: event.passportExpiresOn } : {}),
          documents: [...new Set([...file.documents, ...event.kinds])],
        },
      };
    case 'mobility-asked':
      return { ...cur, mobility: { ...file, asked: { items: event.items, respondBy: event.respondBy } } };
    case 'mobility-notified':
      return {
        ...cur,
        phase: 'admissible',
        mobility: { ...file, notifiedOn: event.notifiedOn, objectionDeadline: event.objectionDeadline },
      };
    case 'mobility-decided':
      return {
        ...cur,
        phase: 'closed',
        closedBecause: `short-term-mobility:${event.decision.outcome}`,
        mobility: { ...file, decision: event.decision },
      };
    default:
      return cur;
  }
}

/**
 * The message of a residence decision: explicit recipients (a generic first application may name no
 * consular post, which the contract's routing would otherwise require): the region and the portal, and for
 * an annex 46 the post (first application needing a visa, Art. 105/46 §3) and the commune when known.
 */
function residenceMessage(
  dossier: OfficeDossier,
  payload: ResidenceDecided,
  causationId: string | null,
  docs: readonly DecisionDocument[],
): PendingMessage {
  const r = dossier.routing;
  const granted = payload.annex === '46';
  // a family member's dossier has no region (Art. 26/2 §3: residence only)
  const to = r.scheme === 'family' ? [r.portalId] : [r.regionId, r.portalId];
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

/** A residence decision's event and message. */
function residenceDecided(
  dossier: OfficeDossier,
  payload: ResidenceDecided,
  causationId: string | null,
  docs: readonly DecisionDocument[],
): Decided<OfficeEvent> {
  const residence =
    payload.annex === '46'
      ? {
          annex: payload.annex,
          period: payload.period,
          permitToIssue: payload.permitToIssue,
          visaRequired: payload.visaRequired,
        }
      : { annex: payload.annex };
  return {
    events: [{ type: 'residence-decided', residence }],
    send: [residenceMessage(dossier, payload, causationId, docs)],
    summary: outcomeOf(payload.annex),
  };
}

/**
 * `events`, then what follows by law in the state they lead to: once the fee is paid and the work decided,
 * a refused work authorisation ends in an annex 48 (Art. 105/48). A granted one leaves the residence
 * decision to a case officer (`decide-residence`), or to the configured policy.
 */
function thenFollow(
  state: OfficeDossier | undefined,
  events: OfficeEvent[],
  ctx: StepContext,
  more: Omit<Decided<OfficeEvent>, 'events'> = {},
): Decided<OfficeEvent> {
  const next = events.reduce<OfficeDossier | undefined>((s, e) => evolveOffice(s, e), state);
  if (
    !next ||
    next.phase !== 'work-decided' ||
    next.fee.status !== 'ok' ||
    next.residence ||
    next.work?.decision !== 'refused'
  ) {
    return { ...more, events };
  }
  const docs: DecisionDocument[] = [];
  const payload = residenceRefusal(next, ctx.dossierId, 'work-authorisation-refused', ctx.today, docs);
  const refusal = residenceDecided(next, payload, ctx.causationId, docs);
  return {
    events: [...events, ...refusal.events],
    send: [...(more.send ?? []), ...(refusal.send ?? [])],
  };
}

/** Each filled slot's document must read back before it counts (`ServiceHost.documentReadsBack`). */
function slotReads(documents: Record<string, unknown>): Need[] {
  return providedSlots(documents).map((kind) => {
    const slot = documents[kind] as DocumentRef | { document: DocumentRef };
    return {
      kind: 'document-reads-back',
      key: `slot:${kind}`,
      ref: 'document' in slot ? slot.document : slot,
      slot: kind,
    };
  });
}

function providedSlots(documents: Record<string, unknown>): DocumentKind[] {
  return Object.entries(documents)
    .filter(([k, v]) => k !== 'other' && v !== undefined && v !== null)
    .map(([k]) => k as DocumentKind);
}

/** The slots whose documents read back. */
function readable(documents: Record<string, unknown>, facts: Facts): DocumentKind[] {
  return providedSlots(documents).filter((kind) => facts[`slot:${kind}`] === true);
}

/** A message of the Office on `dossier` to the integrator alone (no other body follows it), with its documents. */
function toPortal(
  dossier: OfficeDossier,
  causationId: string | null,
  type: string,
  payload: unknown,
  docs: DecisionDocument[] = [],
): PendingMessage {
  return {
    type,
    payload,
    to: [dossier.routing.portalId],
    context: { ...dossier.routing },
    causationId,
    ...pendingDocuments(docs),
  };
}

/** The completeness ruling the Office sends the integrator itself, on the dossier `next` (with its documents). */
function rulingToPortal(
  next: OfficeDossier,
  ctx: StepContext,
): (payload: CompletenessRuled, docs?: DecisionDocument[]) => PendingMessage {
  return (payload, docs) => toPortal(next, ctx.causationId, 'completeness-ruled', payload, docs);
}

/** The ruling "complete" the Office sends the integrator itself, with its admissibility document under `article`. */
function completeRuling(
  portal: (payload: CompletenessRuled, docs?: DecisionDocument[]) => PendingMessage,
  ctx: StepContext,
  article: string,
): PendingMessage {
  const docs: DecisionDocument[] = [];
  const { ref } = collectDocument(
    docs,
    decisionDocument({
      document: 'admissibility',
      issuer: ctx.participant,
      dossierId: ctx.dossierId,
      issuedOn: ctx.today,
      article,
      outcome: 'complete',
    }),
  );
  return portal({ outcome: 'complete', ruledOn: ctx.today, admissibilityDocument: ref }, docs);
}

/**
 * What follows a step on a dossier the Office rules on itself, no region taking part: the step's `decided`,
 * then the ruling it leads to, with `respondDays` working days to provide what is missing.
 */
type ThenRuling = (
  state: OfficeDossier | undefined,
  decided: Decided<OfficeEvent>,
  ctx: StepContext,
  respondDays: number,
) => Decided<OfficeEvent>;

/** `decided`, then the items `missing` asked for (once: the caller checks) by `respondBy`, told to the integrator. */
function askMissing(
  decided: Decided<OfficeEvent>,
  type: 'family-asked' | 'mobility-asked',
  missing: MissingItem[],
  portal: (payload: CompletenessRuled) => PendingMessage,
  respondDays: number,
  ctx: StepContext,
): Decided<OfficeEvent> {
  const respondBy = addWorkingDays(ctx.today, respondDays);
  return {
    ...decided,
    events: [...decided.events, { type, items: missing, respondBy }],
    send: [
      ...(decided.send ?? []),
      portal({ outcome: 'missing-items', ruledOn: ctx.today, missingItems: missing, respondBy }),
    ],
  };
}

/**
 * `decided`, then the Office's own completeness ruling on a family member's application (Art. 26/2 §3,
 * 26/2/1 §3; no region sees it), sent to the integrator: complete once every document is there and valid
 * and the fee paid (the dossier is then admissible and its residence decision owed), or the items missing,
 * asked for once with 15 working days to provide them. The 90-day deadline runs meanwhile.
 */
const thenFamily: ThenRuling = (state, decided, ctx, respondDays) => {
  const next = decided.events.reduce<OfficeDossier | undefined>((s, e) => evolveOffice(s, e), state);
  if (!next?.family || next.phase !== 'submitted') return decided;
  const missing = familyMissing(next.family);
  const portal = rulingToPortal(next, ctx);
  if (missing.length === 0) {
    if (next.fee.status !== 'ok') return decided;
    return {
      ...decided,
      events: [...decided.events, { type: 'admissible' }],
      send: [...(decided.send ?? []), completeRuling(portal, ctx, 'Art. 26/2 §3, 26/2/1 §3')],
    };
  }
  if (next.family.asked) return decided;
  return askMissing(decided, 'family-asked', missing, portal, respondDays, ctx);
};

/**
 * A short-term mobility's answer, rendered by the rules: its event and its message to the integrator (no
 * other body follows it), or the rules' refusal when the answer does not fit the file.
 */
function answerMobility(
  dossier: OfficeDossier,
  answer: Parameters<typeof mobilityDecision>[2],
  ctx: { dossierId: string; today: IsoDate; causationId: string | null },
): Decided<OfficeEvent> | Refusal {
  const docs: DecisionDocument[] = [];
  const payload = mobilityDecision(dossier.mobility!, ctx.dossierId, answer, ctx.today, docs);
  if (isRefusal(payload)) return payload;
  const decision =
    payload.outcome === 'objected'
      ? { outcome: payload.outcome, decidedOn: payload.decidedOn, reason: payload.reason }
      : { outcome: payload.outcome, decidedOn: payload.decidedOn, tacit: payload.tacit };
  return {
    events: [{ type: 'mobility-decided', decision }],
    send: [toPortal(dossier, ctx.causationId, 'short-term-mobility-decided', payload, docs)],
    summary: payload.outcome,
  };
}

/**
 * `decided`, then the Office's ruling on a short-term mobility's notification (Art. 105/43; directive
 * 2014/66/EU Art. 21), which no region sees: the items missing, asked for once with `respondDays` working
 * days to provide them; or complete, the day the 20 days to object start (`completeness-ruled` to the
 * integrator). A mobility whose dates alone exceed the maximum is objected to at once.
 */
const thenMobility: ThenRuling = (state, decided, ctx, respondDays) => {
  const next = decided.events.reduce<OfficeDossier | undefined>((s, e) => evolveOffice(s, e), state);
  if (!next?.mobility || next.phase !== 'submitted') return decided;
  const portal = rulingToPortal(next, ctx);
  const missing = mobilityMissing(next.mobility, next.firstMemberStatePermitValidUntil);
  if (missing.length > 0) {
    if (next.mobility.asked) return decided;
    return askMissing(decided, 'mobility-asked', missing, portal, respondDays, ctx);
  }
  const notified: OfficeEvent = {
    type: 'mobility-notified',
    notifiedOn: ctx.today,
    objectionDeadline: objectionDeadline(ctx.today),
  };
  const complete: Decided<OfficeEvent> = {
    ...decided,
    events: [...decided.events, notified],
    send: [...(decided.send ?? []), completeRuling(portal, ctx, 'Art. 105/43; directive 2014/66/EU Art. 21')],
  };
  const ground = mobilityObjectionGround(next.mobility, next);
  if (!ground) return complete;
  const after = evolveOffice(next, notified);
  const objection = answerMobility(after, { outcome: 'objected', reason: ground }, ctx);
  if (isRefusal(objection)) return complete;
  return {
    ...complete,
    events: [...complete.events, ...objection.events],
    send: [...(complete.send ?? []), ...(objection.send ?? [])],
  };
};

function notCompetent(ctx: MessageContext, step: string, expected: string | undefined): Refusal {
  return refuse(
    'ERR_NOT_COMPETENT',
    `${ctx.sender} is not the body dossier ${ctx.dossierId} names for ${step}.`,
    {
      dossierId: ctx.dossierId,
      step,
      sender: ctx.sender,
      expected: expected ?? null,
    },
  );
}

function requireRenewal(state: OfficeDossier, step: string, dossierId: string): Refusal | undefined {
  if (state.routing.procedure === 'renewal') return undefined;
  return refuse(
    'ERR_OUT_OF_SEQUENCE',
    `${step} concerns a renewal; dossier ${dossierId} is a first application.`,
    {
      dossierId,
      step,
    },
  );
}

/** A residence decision of a case officer. */
export type ResidenceDecision =
  { decision: 'granted' } | { decision: 'refused'; reason: ResidenceRefusalReason };

const DECIDE_RESIDENCE_INPUT = choiceInput('decision', {
  granted: {},
  refused: { properties: { reason: messageSchemaRef('residence-decided', '/oneOf/1/properties/reason') } },
});

const END_STAY_INPUT = {
  type: 'object',
  properties: {
    reason: messageSchemaRef('stay-ended', '/properties/reason'),
    endsOn: definitionRef('IsoDate'),
  },
  required: ['reason', 'endsOn'],
  additionalProperties: false,
} as const;

/** The Office's own settings: the fee and the time given to pay it. */
export interface OfficeSettings {
  /** The fee, the same base amount for every category (Art. 1/2/1), in euro cents (default 35 800). */
  feeAmountCents?: number;
  /** Working days given to pay a missing or short fee (default 15). */
  feePaymentWorkingDays?: number;
  /** Working days a family member is given to provide missing documents (default 15). */
  respondWithinWorkingDays?: number;
}

/** The fee an applicant owes and the working days given to pay the rest (Art. 1/2/1). */
interface FeeTerms {
  due: number;
  payDays: number;
}

/**
 * Art. 1/2/1 - a fee proof counted: paid in full, the dossier goes on; short, the applicant is told and
 * invited to pay (unpaid at the date, the fee refusal follows).
 */
function countFeeProof(
  cur: OfficeDossier,
  proof: FeeProofSubmitted,
  ctx: StepContext,
  facts: Facts,
  fee: FeeTerms,
): Decided<OfficeEvent> {
  const paidCents = cur.fee.paidCents + (facts['fee-proof'] === true ? proof.amount.amountCents : 0);
  if (feeCheck(paidCents, fee.due) === 'ok') {
    return thenFollow(cur, [{ type: 'fee-counted', fee: { paidCents, status: 'ok' } }], ctx);
  }
  if (cur.fee.status === 'requested') {
    return thenFollow(cur, [{ type: 'fee-counted', fee: { ...cur.fee, paidCents } }], ctx);
  }
  // Art. 1/2/1: the applicant is told and invited to pay; unpaid at the date, the fee refusal follows.
  const request = feePaymentRequest(paidCents, fee.due, ctx.today, fee.payDays);
  return thenFollow(cur, [{ type: 'fee-counted', fee: { paidCents, status: 'requested', request } }], ctx, {
    send: [
      {
        type: 'fee-payment-requested',
        payload: request,
        // no region follows a family member's dossier
        ...(cur.routing.scheme === 'family' ? { to: [cur.routing.portalId] } : {}),
        context: { ...cur.routing },
        causationId: ctx.causationId,
      },
    ],
  });
}

/** Whether the Office itself rules on an application's documents: a family member's, a short-term mobility's. */
function officeChecks(app: ApplicationSubmitted): boolean {
  return !!app.familyMemberOf || app.ict?.scheme === 'short-term-mobility';
}

/** An application opens the dossier; a family member's documents are counted at once (no region sees them), */
const applicationSubmittedStep = (
  respondDays: number,
): MessageStep<OfficeDossier, OfficeEvent, ApplicationSubmitted> => ({
  // a family member's documents are the Office's to check (no region sees the application)
  // as a short-term mobility's (Art. 105/43: no region either)
  needs: (_state, app: ApplicationSubmitted) =>
    officeChecks(app) ? slotReads(app.documents as Record<string, unknown>) : [],
  decide: (_state, app: ApplicationSubmitted, ctx, facts) => {
    const docs = officeChecks(app) ? readable(app.documents as Record<string, unknown>, facts) : [];
    const opened: Decided<OfficeEvent> = {
      events: [{ type: 'opened', dossier: openOfficeDossier(app, ctx.sender, ctx.today, docs) }],
    };
    return app.familyMemberOf
      ? thenFamily(undefined, opened, ctx, respondDays)
      : thenMobility(undefined, opened, ctx, respondDays);
  },
});

/** Documents added: the answer to a request, a renewed first-state permit, or a family member's documents. */
const documentsAddedStep = (
  respondDays: number,
): MessageStep<OfficeDossier, OfficeEvent, DocumentsAdded> => ({
  needs: (state, added: DocumentsAdded) =>
    state?.family || state?.mobility ? slotReads(added.documents as Record<string, unknown>) : [],
  decide: (state, added: DocumentsAdded, ctx, facts) => {
    if (state?.mobility) return mobilityDocumentsAdded(state, added, ctx, facts, respondDays);
    // Art. 105/67: the answer to the Office's request
    const answered: OfficeEvent[] =
      added.reason === 'requested-by-authority' && state?.informationRequest
        ? [{ type: 'information-answered' }]
        : [];
    if (!state?.family) {
      // Art. 105/56 §2 4°: a renewed first-state permit is the new bound of the mobility period
      const renewed = added.documents.firstMemberStatePermit && added.firstMemberStatePermitValidUntil;
      return thenFollow(
        state,
        [
          ...answered,
          ...(renewed ? [{ type: 'first-state-permit-renewed' as const, validUntil: renewed }] : []),
        ],
        ctx,
      );
    }
    const kinds = readable(added.documents as Record<string, unknown>, facts);
    const validity: FamilyValidity = {
      ...(kinds.includes('passportCopy') && added.passportExpiresOn
        ? { passportExpiresOn: added.passportExpiresOn }
        : {}),
      ...(kinds.includes('healthInsurance') && added.documents.healthInsurance?.coversUntil
        ? { insuranceCoversUntil: added.documents.healthInsurance.coversUntil }
        : {}),
    };
    return thenFamily(state, { events: [{ type: 'family-documents', kinds, validity }] }, ctx, respondDays);
  },
});

/**
 * Documents added to a short-term mobility's notification: those that read back are counted, a renewed
 * first member state permit with its date; then the notification is ruled on again.
 */
function mobilityDocumentsAdded(
  state: OfficeDossier,
  added: DocumentsAdded,
  ctx: StepContext,
  facts: Facts,
  respondDays: number,
): Decided<OfficeEvent> {
  const kinds = readable(added.documents as Record<string, unknown>, facts);
  const renewed = kinds.includes('firstMemberStatePermit') && added.firstMemberStatePermitValidUntil;
  const events: OfficeEvent[] = [
    ...(added.reason === 'requested-by-authority' && state.informationRequest
      ? [{ type: 'information-answered' as const }]
      : []),
    {
      type: 'mobility-documents',
      kinds,
      ...(kinds.includes('passportCopy') && added.passportExpiresOn
        ? { passportExpiresOn: added.passportExpiresOn }
        : {}),
    },
    ...(renewed ? [{ type: 'first-state-permit-renewed' as const, validUntil: renewed }] : []),
  ];
  return thenMobility(state, { events }, ctx, respondDays);
}

/** A fee proof, counted once its document reads back (Art. 1/2/1). */
const feeProofSubmittedStep = (
  fee: FeeTerms,
  respondDays: number,
): MessageStep<OfficeDossier, OfficeEvent, FeeProofSubmitted> => ({
  // a proof whose document does not read back pays nothing: the payment request follows
  needs: (_state, proof: FeeProofSubmitted) => [
    { kind: 'document-reads-back', key: 'fee-proof', ref: proof.proof, slot: 'fee-proof' },
  ],
  decide: (state, proof: FeeProofSubmitted, ctx, facts) =>
    // the texts name the fee for the applications of Art. 105/45 §2 and 105/56 §2, not for a notification
    state?.mobility
      ? refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId} is a short-term mobility: no fee is owed.`, {
          dossierId: ctx.dossierId,
          step: 'fee-proof-submitted',
        })
      : thenFamily(state, countFeeProof(state!, proof, ctx, facts, fee), ctx, respondDays),
});

/** The region's completeness ruling: the dossier admissible, closed as inadmissible, or still waiting. */
const completenessRuledStep: MessageStep<OfficeDossier, OfficeEvent, CompletenessRuled> = {
  // the region's admissibility document must read back and say so before the dossier is admissible
  needs: (_state, ruling: CompletenessRuled, ctx) =>
    ruling.outcome === 'complete'
      ? [
          {
            kind: 'decision-document',
            ref: ruling.admissibilityDocument,
            expected: {
              document: 'admissibility',
              dossierId: ctx.dossierId,
              issuer: ctx.sender,
              outcome: 'complete',
            },
          },
        ]
      : [],
  decide: (state, ruling: CompletenessRuled, ctx) => {
    if (ruling.outcome === 'complete')
      return thenFollow(state, [{ type: 'admissible', on: ruling.ruledOn }], ctx);
    if (ruling.outcome === 'inadmissible') {
      return thenFollow(state, [{ type: 'closed', because: `inadmissible:${ruling.reason}` }], ctx);
    }
    return thenFollow(state, [], ctx);
  },
};

/** The competent region's work authorisation, which the residence decision follows. */
const workAuthorisationDecidedStep: MessageStep<OfficeDossier, OfficeEvent, WorkAuthorisationDecided> = {
  // the residence decision follows the work authorisation: its document must read back and agree
  needs: (state, w: WorkAuthorisationDecided, ctx) => {
    if (ctx.sender !== state!.routing.regionId)
      return notCompetent(ctx, 'work-authorisation-decided', state!.routing.regionId);
    return [
      {
        kind: 'decision-document',
        ref: w.decisionDocument,
        expected: {
          document: 'work-authorisation',
          dossierId: ctx.dossierId,
          issuer: ctx.sender,
          ...(w.decision === 'granted'
            ? { period: w.period, outcome: 'granted' }
            : { outcome: `refused:${w.reason}` }),
        },
      },
    ];
  },
  decide: (state, w: WorkAuthorisationDecided, ctx) => {
    if (ctx.sender !== state!.routing.regionId)
      return notCompetent(ctx, 'work-authorisation-decided', state!.routing.regionId);
    const work =
      w.decision === 'granted'
        ? { decision: 'granted' as const, period: w.period }
        : { decision: 'refused' as const, reason: w.reason };
    return thenFollow(state, [{ type: 'work-decided', work }], ctx);
  },
};

/** The consular post's visa, recorded on a dossier that needs one. */
const visaIssuedStep: MessageStep<OfficeDossier, OfficeEvent, VisaIssued> = {
  decide: (state, v: VisaIssued, ctx) => {
    const cur = state!;
    if (!cur.residence?.visaRequired) {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId} needs no visa.`, {
        dossierId: ctx.dossierId,
        step: 'visa-issued',
      });
    }
    if (ctx.sender !== cur.routing.consularPostId)
      return notCompetent(ctx, 'visa-issued', cur.routing.consularPostId);
    return {
      events: [{ type: 'visa-recorded', visa: { number: v.visaNumber, issuedOn: v.issuedOn } }],
    };
  },
};

/** The commune's registration of the arrival, once any visa is recorded (never on a renewal). */
const arrivalRegisteredStep: MessageStep<OfficeDossier, OfficeEvent, ArrivalRegistered> = {
  decide: (state, a: ArrivalRegistered, ctx) => {
    const cur = state!;
    if (cur.residence?.visaRequired && !cur.visa) {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId} has no visa yet.`, {
        dossierId: ctx.dossierId,
        step: 'arrival-registered',
      });
    }
    if (cur.routing.procedure === 'renewal') {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId} is a renewal.`, {
        dossierId: ctx.dossierId,
        step: 'arrival-registered',
      });
    }
    return {
      events: [
        {
          type: 'arrived',
          arrival: { communeId: a.communeId, enteredOn: a.enteredOn, reportedOn: a.reportedOn },
        },
      ],
    };
  },
};

/** The commune extended the annex 49: noted, nothing to decide. */
const provisionalDocumentExtendedStep: MessageStep<OfficeDossier, OfficeEvent> = {
  decide: () => ({ events: [{ type: 'provisional-extended' }] }),
};

/**
 * The residence check of the commune where the person arrived (Art. 105/47 §2 al. 2, 105/58 al. 2),
 * recorded; a negative one is reported to the Office's case officers, who decide what follows (a new check,
 * or the end of the stay, `end-stay`): the texts name no consequence (PROCEDURE.md).
 */
const residenceCheckedStep: MessageStep<OfficeDossier, OfficeEvent, ResidenceChecked> = {
  decide: (state, c: ResidenceChecked, ctx) => {
    const cur = state!;
    if (ctx.sender !== cur.routing.communeId || c.communeId !== ctx.sender)
      return notCompetent(ctx, 'residence-checked', cur.routing.communeId);
    const check =
      c.outcome === 'negative'
        ? { outcome: c.outcome, checkedOn: c.checkedOn, reason: c.reason }
        : { outcome: c.outcome, checkedOn: c.checkedOn };
    return {
      events: [{ type: 'residence-checked', check }],
      notices:
        c.outcome === 'negative'
          ? [
              {
                kind: 'notice',
                type: 'residence-check-negative',
                detail: `Art. 105/47 §2: the commune's residence check is negative (${c.reason}); no permit issued`,
              },
            ]
          : [],
    };
  },
};

/** The commune's renewal-pending attestation, on a renewal dossier only. */
const renewalPendingAttestedStep: MessageStep<OfficeDossier, OfficeEvent> = {
  decide: (state, _payload, ctx) =>
    requireRenewal(state!, 'renewal-pending-attested', ctx.dossierId) ?? {
      events: [{ type: 'renewal-pending' }],
    },
};

/** The commune's permit, recorded. */
const permitIssuedStep: MessageStep<OfficeDossier, OfficeEvent, PermitIssued> = {
  decide: (_state, p: PermitIssued) => ({
    events: [{ type: 'permit-recorded', permit: { number: p.permitNumber, validity: p.validity } }],
  }),
};

/** The commune's renewed permit, recorded on a renewal dossier only. */
const permitRenewedStep: MessageStep<OfficeDossier, OfficeEvent, PermitRenewed> = {
  decide: (state, p: PermitRenewed, ctx) =>
    requireRenewal(state!, 'permit-renewed', ctx.dossierId) ?? {
      events: [{ type: 'permit-recorded', permit: { number: p.permitNumber, validity: p.validity } }],
    },
};

/** What an action owes by `deadline`, when there is one. */
function ownedBy(deadline: IsoDate | undefined): { deadline?: IsoDate } {
  return deadline ? { deadline } : {};
}

/** A case officer decides residence (annex 46 or 48), owed once the work decision and the fee are settled. */
const decideResidenceStep: ActionStep<OfficeDossier, OfficeEvent, ResidenceDecision> = {
  title: 'Decide residence: annex 46 for the work-authorisation period, or annex 48 (Art. 105/46, 105/48)',
  input: DECIDE_RESIDENCE_INPUT,
  sends: ['residence-decided'],
  owed: (state) =>
    ((state.phase === 'work-decided' && state.work?.decision === 'granted') ||
      // Art. 26/2 §3, 26/2/1 §3: a family member's residence, once the application is complete
      (state.phase === 'admissible' && state.family !== undefined)) &&
    state.fee.status === 'ok' &&
    !state.residence
      ? ownedBy(familyDecisionDue(state) ?? residenceDecisionDue(state))
      : undefined,
  decide: (state, decision: ResidenceDecision, ctx) => {
    const d = state!;
    if (d.family && d.phase === 'admissible' && d.fee.status === 'ok') {
      // Art. 26/2 §3, 26/2/1 §3: residence for the period asked (the transferee's), or annex 48
      const docs: DecisionDocument[] = [];
      const payload =
        decision.decision === 'granted'
          ? residenceGrant(d, ctx.dossierId, d.family.requestedPeriod, ctx.today, docs)
          : residenceRefusal(d, ctx.dossierId, decision.reason, ctx.today, docs);
      if (isRefusal(payload)) return payload;
      return residenceDecided(d, payload, ctx.causationId, docs);
    }
    if (d.fee.status !== 'ok' || !d.work) {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId} awaits its fee or work decision.`, {
        dossierId: ctx.dossierId,
        step: 'decide-residence',
      });
    }
    const docs: DecisionDocument[] = [];
    const payload =
      decision.decision === 'granted' && d.work.decision === 'granted'
        ? residenceGrant(d, ctx.dossierId, d.work.period, ctx.today, docs)
        : residenceRefusal(
            d,
            ctx.dossierId,
            decision.decision === 'refused' ? decision.reason : 'work-authorisation-refused',
            ctx.today,
            docs,
          );
    if (isRefusal(payload)) return payload;
    return residenceDecided(d, payload, ctx.causationId, docs);
  },
};

/** A case officer's answer to a short-term mobility. */
export type MobilityDecisionInput =
  { decision: 'no-objection' } | { decision: 'objected'; reason: MobilityObjectionReason };

const DECIDE_MOBILITY_INPUT = choiceInput('decision', {
  'no-objection': {},
  objected: {
    properties: { reason: messageSchemaRef('short-term-mobility-decided', '/oneOf/1/properties/reason') },
  },
});

/**
 * A case officer answers a short-term mobility: no objection, or an objection with its ground, owed by the
 * end of the 20 days from the complete notification (directive 2014/66/EU Art. 21); an objection may come
 * before the notification is complete (a condition not met), never after the 20 days.
 */
const decideMobilityStep: ActionStep<OfficeDossier, OfficeEvent, MobilityDecisionInput> = {
  title: 'Answer a short-term mobility: no objection, or an objection within 20 days (Art. 105/43)',
  input: DECIDE_MOBILITY_INPUT,
  sends: ['short-term-mobility-decided'],
  owed: (state) =>
    state.phase === 'admissible' && state.mobility?.objectionDeadline && !state.mobility.decision
      ? { deadline: state.mobility.objectionDeadline }
      : undefined,
  decide: (state, input: MobilityDecisionInput, ctx) => {
    const d = state!;
    if (!d.mobility) {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId} is not a short-term mobility.`, {
        dossierId: ctx.dossierId,
        step: 'decide-mobility',
      });
    }
    return answerMobility(
      d,
      input.decision === 'objected'
        ? { outcome: 'objected', reason: input.reason }
        : { outcome: 'no-objection', tacit: false },
      ctx,
    );
  },
};

/** The 20 days to object ended without an answer: the mobility may take place (tacit no objection). */
const objectionDeadlineStep: DeadlineStep<OfficeDossier, OfficeEvent> = {
  title:
    'Attest a short-term mobility not objected to within the 20 days from its notification (Art. 105/43)',
  deadline: (state) => state.mobility?.objectionDeadline,
  due: (state, ctx) => state.phase === 'admissible' && objectionPeriodOver(state.mobility, ctx.today),
  decide: (state, ctx) => {
    return answerMobility(state, { outcome: 'no-objection', tacit: true }, ctx);
  },
};

/** A case officer ends the stay with an annex 52, sent to every party that follows the dossier. */
const endStayStep: ActionStep<OfficeDossier, OfficeEvent, { reason: StayEndReason; endsOn: IsoDate }> = {
  title: 'End the stay with an annex 52 (Art. 105/54, 105/65)',
  input: END_STAY_INPUT,
  sends: ['stay-ended'],
  decide: (state, input: { reason: StayEndReason; endsOn: IsoDate }, ctx) => {
    const d = state!;
    const docs: DecisionDocument[] = [];
    const payload = stayEnded(d, ctx.dossierId, input.reason, input.endsOn, ctx.today, docs);
    const to = [
      ...(d.routing.scheme === 'family' ? [] : [d.routing.regionId]),
      d.routing.portalId,
      ...(d.routing.communeId ? [d.routing.communeId] : []),
    ];
    return {
      events: [{ type: 'stay-ended', endsOn: input.endsOn }],
      send: [
        {
          type: 'stay-ended',
          payload,
          to,
          context: { ...d.routing },
          causationId: ctx.causationId,
          ...pendingDocuments(docs),
        },
      ],
      summary: 'ended',
    };
  },
};

/** A fee unpaid at the date given ends in the fee refusal (annex 43 or 43bis). */
const feeDeadlineStep: DeadlineStep<OfficeDossier, OfficeEvent> = {
  title: 'Refuse a dossier whose fee is unpaid at the date given (Art. 1/2/1: annex 43 or 43bis)',
  deadline: (state) => state.fee.request?.payBy,
  due: (state, ctx) => feeOverdue(state.fee, ctx.today) && state.phase !== 'closed' && !state.residence,
  decide: (state, ctx) => {
    const docs: DecisionDocument[] = [];
    return residenceDecided(state, feeRefusal(state, ctx.dossierId, ctx.today, docs), ctx.causationId, docs);
  },
};

/**
 * The Immigration Office's steps: the fee check (Art. 1/2/1, annexes 43 / 43bis at its deadline), the
 * region's rulings and work decisions (their documents checked), the residence decision a case officer
 * takes (annex 46 for the work-authorisation period, annex 48; `decide-residence`) with its copies, the
 * follow-up of visa, arrival and permit, the end of stay (`end-stay`, annex 52), the family members'
 * 90-day decision deadline (Art. 26/2 §3) and the short-term mobilities (Art. 105/43: the notification
 * ruled on, `decide-mobility` within 20 days, tacit no objection at their end).
 *
 * @example
 * ```ts
 * const table = officeTable({ feeAmountCents: 35_800 });
 * ```
 */
export function officeTable(settings: OfficeSettings = {}): BodyTable<OfficeDossier, OfficeEvent> {
  const feeDue = settings.feeAmountCents ?? 35_800;
  const payDays = settings.feePaymentWorkingDays ?? 15;
  const respondDays = settings.respondWithinWorkingDays ?? 15;
  return {
    body: 'immigration-office',
    evolve: evolveOffice,
    messages: {
      'application-submitted': applicationSubmittedStep(respondDays),
      'documents-added': documentsAddedStep(respondDays),
      'fee-proof-submitted': feeProofSubmittedStep({ due: feeDue, payDays }, respondDays),
      'completeness-ruled': completenessRuledStep,
      'work-authorisation-decided': workAuthorisationDecidedStep,
      'visa-issued': visaIssuedStep,
      'arrival-registered': arrivalRegisteredStep,
      'provisional-document-extended': provisionalDocumentExtendedStep,
      'residence-checked': residenceCheckedStep,
      'renewal-pending-attested': renewalPendingAttestedStep,
      'permit-issued': permitIssuedStep,
      'permit-renewed': permitRenewedStep,
    },
    actions: {
      'request-information': requestInformationStep(respondDays),
      'decide-residence': decideResidenceStep,
      'decide-mobility': decideMobilityStep,
      'end-stay': endStayStep,
    },
    deadlines: {
      'fee-deadline': feeDeadlineStep,
      // Art. 26/2 §3, 26/2/1 §3: a family member's 90 days
      'decision-deadline': overrunStep('family-decision', familyDecisionDue),
      'residence-decision': overrunStep('residence-decision', residenceDecisionDue),
      // Art. 105/67: the date given to answer
      'information-answer': overrunStep('information-answer', (d) => d.informationRequest?.respondBy),
      // directive 2014/66/EU Art. 21(6): no answer in 20 days is no objection
      'objection-deadline': objectionDeadlineStep,
    },
  };
}
