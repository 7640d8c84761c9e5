import {
  type Notice,
  type ActionStep,
  type ArrivalRegistered,
  type BodyTable,
  type DocumentRef,
  type IsoDate,
  type MessageStep,
  type Need,
  type OverrunReported,
  type Period,
  type PermitKind,
  type ResidenceDecided,
  type StayEnded,
  definitionRef,
  isRefusal,
  choiceInput,
  messageSchemaRef,
  overrunStep,
  recordOverrun,
  refuse,
  reportOverrun,
} from '@passerelle/procedure';
import {
  type CommuneDossier,
  type CommuneGrant,
  type CommuneRouting,
  type ProvisionalDocument,
  type RegisteredPermit,
  type ResidenceCheck,
  type ResidenceCheckInput,
  attestRenewalPending,
  checkResidence,
  extendProvisional,
  issuePermit,
  permitAwaitsResidenceCheck,
  registerArrival,
  renewPermit,
} from './rules.js';

const OE = 'immigration-office';

/** What happens to a dossier at a commune. */
export type CommuneEvent =
  | { type: 'annex-46-received'; routing: CommuneRouting; grant: CommuneGrant; holderPassport?: string }
  | {
      type: 'permit-renewed';
      routing: CommuneRouting;
      grant: CommuneGrant;
      holderPassport?: string;
      permit: NonNullable<CommuneDossier['permit']>;
    }
  | {
      type: 'arrival-registered';
      routing: CommuneRouting;
      grant: CommuneGrant;
      arrival: NonNullable<CommuneDossier['arrival']>;
      provisional: ProvisionalDocument;
    }
  | { type: 'provisional-extended'; provisional: ProvisionalDocument }
  | { type: 'residence-checked'; check: ResidenceCheck }
  | { type: 'permit-issued'; permit: NonNullable<CommuneDossier['permit']> }
  | {
      type: 'renewal-pending-attested';
      routing: CommuneRouting;
      holderPassport?: string;
      expiredPermitNumber: string;
      provisional: ProvisionalDocument;
    }
  | { type: 'stay-ended' }
  | OverrunReported;

/** Folds a commune's event into its dossier. */
export function evolveCommune(state: CommuneDossier | undefined, event: CommuneEvent): CommuneDossier {
  const passport = (p: string | undefined) => (p ? { holderPassport: p } : {});
  /** What the annex 46 tells the commune: where the dossier goes, the grant, the holder's passport. */
  const annex46 = (e: { routing: CommuneRouting; grant: CommuneGrant; holderPassport?: string }) => ({
    routing: e.routing,
    grant: e.grant,
    ...passport(e.holderPassport),
  });
  switch (event.type) {
    case 'annex-46-received':
      return { ...state, phase: 'annex-46-received', ...annex46(event) };
    case 'permit-renewed':
      return { ...state, phase: 'permit-issued', ...annex46(event), permit: event.permit };
    case 'arrival-registered':
      return {
        ...state,
        phase: 'arrived',
        routing: event.routing,
        grant: event.grant,
        arrival: event.arrival,
        provisional: event.provisional,
      };
    case 'provisional-extended':
      return { ...state!, provisional: event.provisional };
    case 'residence-checked':
      return { ...state!, residenceCheck: event.check };
    case 'permit-issued':
      return { ...state!, phase: 'permit-issued', permit: event.permit };
    case 'renewal-pending-attested':
      return {
        ...state,
        phase: 'renewal-pending',
        routing: event.routing,
        ...passport(event.holderPassport),
        expiredPermitNumber: event.expiredPermitNumber,
        provisional: event.provisional,
      };
    case 'stay-ended':
      return { ...state!, phase: 'closed' };
    case 'deadline-overrun-reported':
      return recordOverrun(state!, event);
  }
}

/** Where what a commune issues goes: the Immigration Office, and the region and portal when known. */
function recipients(routing: CommuneRouting): string[] {
  return [
    OE,
    ...(routing.regionId ? [routing.regionId] : []),
    ...(routing.portalId ? [routing.portalId] : []),
  ];
}

/** The register entry of a permit issued or renewed (`register-permit` effect), for a holder known by passport. */
export interface RegisterPermit {
  passport: string;
  entry: RegisteredPermit;
}

/** The read of the foreigners' register a step needs when it knows the holder's passport. */
function registerLookup(passport: string | undefined): Need[] {
  return passport ? [{ kind: 'lookup', key: 'registered', lookup: 'registered-permit', arg: passport }] : [];
}

function registerEffect(
  passport: string | undefined,
  dossierId: string,
  permit: { permit: PermitKind; permitNumber: string; validity: Period },
) {
  if (!passport) return [];
  const entry: RegisteredPermit = {
    permit: permit.permit,
    permitNumber: permit.permitNumber,
    validity: permit.validity,
    dossierId,
  };
  return [{ kind: 'register-permit', arg: { passport, entry } satisfies RegisterPermit }];
}

/** The annex 46 the person presents at the desk when the commune did not receive its copy. */
export interface PresentedAnnex46 extends CommuneRouting {
  period: Period;
  permitToIssue: PermitKind;
  decidedOn: IsoDate;
}

/** The input of `register-arrival`. */
export interface ArrivalInput {
  enteredOn: IsoDate;
  /** Default: today. */
  reportedOn?: IsoDate;
  address?: ArrivalRegistered['address'];
  presented?: PresentedAnnex46;
}

/** The input of `attest-renewal-pending`: the expired permit and the region's admissibility document produced. */
export interface RenewalPendingInput {
  expiredPermitNumber: string;
  admissibilityDocument: DocumentRef;
  passportNumber?: string;
  regionId: string;
  portalId?: string;
}

const NO_INPUT = { type: 'object', properties: {}, additionalProperties: false } as const;

const ARRIVAL_INPUT = {
  type: 'object',
  properties: {
    enteredOn: definitionRef('IsoDate'),
    reportedOn: definitionRef('IsoDate'),
    address: definitionRef('Address'),
    presented: {
      type: 'object',
      description: 'The annex 46 the person presents, when the commune did not receive its copy.',
      properties: {
        period: definitionRef('Period'),
        permitToIssue: messageSchemaRef('residence-decided', '/oneOf/0/properties/permitToIssue'),
        decidedOn: definitionRef('IsoDate'),
        procedure: definitionRef('Procedure'),
        regionId: definitionRef('RegionId'),
        portalId: messageSchemaRef('residence-decided', '/oneOf/0/properties/portalId'),
      },
      required: ['period', 'permitToIssue', 'decidedOn'],
      additionalProperties: false,
    },
  },
  required: ['enteredOn'],
  additionalProperties: false,
} as const;

const RENEWAL_PENDING_INPUT = {
  type: 'object',
  properties: {
    expiredPermitNumber: definitionRef('DocumentNumber'),
    admissibilityDocument: definitionRef('DocumentRef'),
    passportNumber: {
      $ref: 'https://passerelle.invalid/schemas/defs/common.v1.json#/$defs/Applicant/properties/passportNumber',
    },
    regionId: definitionRef('RegionId'),
    portalId: messageSchemaRef('residence-decided', '/oneOf/0/properties/portalId'),
  },
  required: ['expiredPermitNumber', 'admissibilityDocument', 'regionId'],
  additionalProperties: false,
} as const;

/** The annex 46 copy: a renewal is renewed at once on it, a first application waits for the person. */
const residenceDecided: MessageStep<CommuneDossier, CommuneEvent, ResidenceDecided> = {
  needs: (state, decision: ResidenceDecided, ctx) => {
    if (decision.annex !== '46') {
      return refuse('ERR_OUT_OF_SEQUENCE', `A commune acts on annex 46 only (dossier ${ctx.dossierId}).`, {
        dossierId: ctx.dossierId,
        step: 'residence-decided',
        annex: decision.annex,
      });
    }
    // permits are issued and renewed on the annex 46 itself: the Office's copy must read back and say so
    return [
      {
        kind: 'decision-document',
        ref: decision.decisionDocument,
        expected: {
          document: '46',
          dossierId: ctx.dossierId,
          issuer: ctx.sender,
          period: decision.period,
          outcome: 'granted',
        },
      },
      ...registerLookup(decision.holder?.passportNumber ?? state?.holderPassport),
    ];
  },
  decide: (state, decision: ResidenceDecided, ctx, facts) => {
    if (decision.annex !== '46') {
      return refuse('ERR_OUT_OF_SEQUENCE', `A commune acts on annex 46 only (dossier ${ctx.dossierId}).`, {
        dossierId: ctx.dossierId,
        step: 'residence-decided',
      });
    }
    const grant: CommuneGrant = {
      period: decision.period,
      permitToIssue: decision.permitToIssue,
      visaRequired: decision.visaRequired,
      decidedOn: decision.decidedOn,
    };
    const routing: CommuneRouting = {
      ...state?.routing,
      ...(decision.procedure ? { procedure: decision.procedure } : {}),
      ...(decision.regionId ? { regionId: decision.regionId } : {}),
      ...(decision.portalId ? { portalId: decision.portalId } : {}),
    };
    const passport = decision.holder?.passportNumber ?? state?.holderPassport;
    const registered = facts['registered'] as RegisteredPermit | undefined;
    // Without the procedure in the annex (older senders), a permit on the register means a renewal.
    const renewal =
      decision.procedure === 'renewal' ||
      state?.phase === 'renewal-pending' ||
      (decision.procedure === undefined && passport !== undefined && registered !== undefined);
    const holder = passport ? { holderPassport: passport } : {};
    if (!renewal) return { events: [{ type: 'annex-46-received', routing, grant, ...holder }] };
    const previous = registered?.permitNumber ?? state?.expiredPermitNumber;
    if (!previous) {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId}: no permit on the register to renew.`, {
        dossierId: ctx.dossierId,
        step: 'renew-permit',
      });
    }
    const payload = renewPermit(ctx.participant, ctx.dossierId, grant, previous, ctx.today);
    return {
      events: [
        {
          type: 'permit-renewed',
          routing,
          grant,
          ...holder,
          permit: {
            kind: payload.permit,
            number: payload.permitNumber,
            validity: payload.validity,
            previousNumber: previous,
          },
        },
      ],
      send: [{ type: 'permit-renewed', payload, to: recipients(routing), causationId: ctx.causationId }],
      effects: registerEffect(passport, ctx.dossierId, payload),
    };
  },
};

/** The end of stay (annex 52), once the Office's decision reads back. */
const stayEnded: MessageStep<CommuneDossier, CommuneEvent, StayEnded> = {
  needs: (_state, ended: StayEnded, ctx) => [
    {
      kind: 'decision-document',
      ref: ended.decisionDocument,
      expected: {
        document: '52',
        dossierId: ctx.dossierId,
        issuer: ctx.sender,
        outcome: `ended:${ended.reason}`,
      },
    },
  ],
  decide: () => ({ events: [{ type: 'stay-ended' }] }),
};

/** The desk registers the arrival and issues the annex 49 at once. */
const registerArrivalStep: ActionStep<CommuneDossier, CommuneEvent, ArrivalInput> = {
  title: 'Register the arrival and issue the annex 49 at once (Art. 105/47 §2, 105/58)',
  input: ARRIVAL_INPUT,
  sends: ['arrival-registered', 'deadline-overrun'],
  decide: (state, input: ArrivalInput, ctx) => {
    const presented = input.presented;
    const grant: CommuneGrant | undefined =
      state?.grant ??
      (presented
        ? {
            period: presented.period,
            permitToIssue: presented.permitToIssue,
            visaRequired: true,
            decidedOn: presented.decidedOn,
          }
        : undefined);
    if (!grant) {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId}: no annex 46 received or presented.`, {
        dossierId: ctx.dossierId,
        step: 'register-arrival',
      });
    }
    const routing: CommuneRouting = state?.routing ?? {
      ...(presented?.procedure ? { procedure: presented.procedure } : {}),
      ...(presented?.regionId ? { regionId: presented.regionId } : {}),
      ...(presented?.portalId ? { portalId: presented.portalId } : {}),
    };
    if (routing.procedure === 'renewal') {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId} is a renewal: no arrival to register.`, {
        dossierId: ctx.dossierId,
        step: 'register-arrival',
      });
    }
    const reg = registerArrival(ctx.participant, ctx.dossierId, {
      enteredOn: input.enteredOn,
      reportedOn: input.reportedOn ?? ctx.today,
      ...(input.address ? { address: input.address } : {}),
    });
    if (isRefusal(reg)) return reg;
    // Art. 105/47 §2 al. 1, 105/58 §1 al. 1: a late report is known at the desk; reported once, there
    const reported = reg.arrival.inTime
      ? undefined
      : reportOverrun({ phase: 'arrived', routing }, 'arrival-report', reg.arrival.deadline, ctx);
    return {
      events: [
        {
          type: 'arrival-registered',
          routing,
          grant,
          arrival: reg.arrival,
          provisional: reg.provisional,
        },
        ...(reported?.events ?? []),
      ],
      send: [
        { type: 'arrival-registered', payload: reg.payload, to: [OE], causationId: ctx.causationId },
        ...(reported?.send ?? []),
      ],
      notices: reported?.notices ?? [],
    };
  },
};

/** The desk extends the annex 49 while the permit or a renewal is awaited. */
const extendProvisionalStep: ActionStep<CommuneDossier, CommuneEvent> = {
  title:
    'Extend the annex 49: 45 days until the permit, or once 30 days while a renewal is pending (Art. 105/47 §2, 33 §6)',
  input: NO_INPUT,
  sends: ['provisional-document-extended'],
  decide: (state, _input, ctx) => {
    const ext = extendProvisional(state!, ctx.dossierId, ctx.today);
    if (isRefusal(ext)) return ext;
    return {
      events: [{ type: 'provisional-extended', provisional: ext.provisional }],
      send: [
        {
          type: 'provisional-document-extended',
          payload: ext.payload,
          to: [OE],
          causationId: ctx.causationId,
        },
      ],
    };
  },
};

const CHECK_RESIDENCE_INPUT = choiceInput('outcome', {
  positive: { properties: { checkedOn: definitionRef('IsoDate') }, required: [] },
  negative: {
    properties: {
      reason: messageSchemaRef('residence-checked', '/oneOf/1/properties/reason'),
      checkedOn: definitionRef('IsoDate'),
    },
    required: ['reason'],
  },
});

/**
 * The desk records the residence check, owed after the arrival before the annex 49 runs out; its result
 * goes to the Immigration Office, which decides what follows a negative one.
 */
const checkResidenceStep: ActionStep<CommuneDossier, CommuneEvent, ResidenceCheckInput> = {
  title: 'Record the residence check, before the permit (Art. 105/47 §2 al. 2, 105/58 al. 2)',
  input: CHECK_RESIDENCE_INPUT,
  sends: ['residence-checked'],
  owed: (state) =>
    state.phase === 'arrived' && !state.residenceCheck
      ? state.provisional
        ? { deadline: state.provisional.validity.to }
        : {}
      : undefined,
  decide: (state, input: ResidenceCheckInput, ctx) => {
    const checked = checkResidence(ctx.participant, ctx.dossierId, state!, input, ctx.today);
    if (isRefusal(checked)) return checked;
    const notices: Notice[] =
      checked.check.outcome === 'negative'
        ? [
            {
              kind: 'notice',
              type: 'residence-check-negative',
              detail: `Art. 105/47 §2: residence check negative (${checked.check.reason}); no permit issued`,
            },
          ]
        : [];
    return {
      events: [{ type: 'residence-checked', check: checked.check }],
      send: [{ type: 'residence-checked', payload: checked.payload, to: [OE], causationId: ctx.causationId }],
      notices,
      summary: checked.check.outcome,
    };
  },
};

/** The desk issues the permit the annex 46 grants, owed once the residence check is positive. */
const issuePermitStep: ActionStep<CommuneDossier, CommuneEvent> = {
  title:
    'Issue the permit (annex 60, annex 61 or the single permit) for the authorised stay (Art. 31 16°, 17°)',
  input: NO_INPUT,
  sends: ['permit-issued'],
  // after a positive residence check, before the annex 49 runs out (or is extended)
  owed: (state) =>
    state.phase === 'arrived' && state.residenceCheck?.outcome === 'positive'
      ? state.provisional
        ? { deadline: state.provisional.validity.to }
        : {}
      : undefined,
  decide: (state, _input, ctx) => {
    const cur = state!;
    if (!cur.grant) {
      return refuse('ERR_OUT_OF_SEQUENCE', `Dossier ${ctx.dossierId}: no annex 46 to issue a permit on.`, {
        dossierId: ctx.dossierId,
        step: 'issue-permit',
      });
    }
    const unchecked = permitAwaitsResidenceCheck(cur, ctx.dossierId);
    if (unchecked) return unchecked;
    const payload = issuePermit(ctx.participant, ctx.dossierId, cur.grant, ctx.today);
    return {
      events: [
        {
          type: 'permit-issued',
          permit: { kind: payload.permit, number: payload.permitNumber, validity: payload.validity },
        },
      ],
      send: [{ type: 'permit-issued', payload, to: recipients(cur.routing), causationId: ctx.causationId }],
      effects: registerEffect(cur.holderPassport, ctx.dossierId, payload),
    };
  },
};

/** The desk attests a renewal pending at the permit's expiry, on the region's admissibility document. */
const attestRenewalPendingStep: ActionStep<CommuneDossier, CommuneEvent, RenewalPendingInput> = {
  title: "Attest a renewal pending at the permit's expiry: annex 49 for 30 days (Art. 33 §6)",
  input: RENEWAL_PENDING_INPUT,
  sends: ['renewal-pending-attested'],
  // the document presented must be the region's admissibility document of this dossier
  needs: (state, input: RenewalPendingInput, ctx) => [
    {
      kind: 'decision-document',
      ref: input.admissibilityDocument,
      expected: {
        document: 'admissibility',
        dossierId: ctx.dossierId,
        issuer: input.regionId,
        outcome: 'complete',
      },
    },
    ...registerLookup(input.passportNumber ?? state?.holderPassport),
  ],
  decide: (state, input: RenewalPendingInput, ctx, facts) => {
    const registered = facts['registered'] as RegisteredPermit | undefined;
    const att = attestRenewalPending(
      ctx.participant,
      ctx.dossierId,
      {
        expiredPermitNumber: input.expiredPermitNumber,
        admissibilityDocument: input.admissibilityDocument,
        ...(registered ? { registered } : {}),
      },
      ctx.today,
    );
    if (isRefusal(att)) return att;
    const passport = input.passportNumber ?? state?.holderPassport;
    const routing: CommuneRouting = {
      ...state?.routing,
      procedure: 'renewal',
      regionId: input.regionId,
      ...(input.portalId ? { portalId: input.portalId } : {}),
    };
    return {
      events: [
        {
          type: 'renewal-pending-attested',
          routing,
          ...(passport ? { holderPassport: passport } : {}),
          expiredPermitNumber: input.expiredPermitNumber,
          provisional: att.provisional,
        },
      ],
      send: [
        {
          type: 'renewal-pending-attested',
          payload: att.payload,
          to: [OE, input.regionId],
          causationId: ctx.causationId,
        },
      ],
    };
  },
};

/**
 * The commune's steps: the annex 46 copy (a renewal renewed without delay, Art. 105/52 §2, 105/63 §2; a
 * first application waits for the person), the desk's actions — the arrival and its annex 49 (Art. 105/47
 * §2, 105/58), the annex 49's extension, the residence check before the permit (Art. 105/47 §2 al. 2,
 * 105/58 al. 2), the permit (annexes 60 / 61, the single permit), the
 * renewal-pending attestation (Art. 33 §6) — and the end of stay (annex 52). The foreigners' register is
 * read (`registered-permit` lookup) and written (`register-permit` effect) by the service.
 *
 * @example
 * ```ts
 * const table = communeTable();
 * ```
 */
export function communeTable(): BodyTable<CommuneDossier, CommuneEvent> {
  return {
    body: 'commune',
    evolve: evolveCommune,
    messages: {
      'residence-decided': residenceDecided,
      'stay-ended': stayEnded,
    },
    actions: {
      'register-arrival': registerArrivalStep,
      'extend-provisional': extendProvisionalStep,
      'check-residence': checkResidenceStep,
      'issue-permit': issuePermitStep,
      'attest-renewal-pending': attestRenewalPendingStep,
    },
    deadlines: {
      // Art. 105/47 §2, 105/58 §1: the permit before the annex 49 runs out unextended
      'provisional-document': overrunStep('provisional-document', (d) =>
        d.phase === 'arrived' && d.provisional?.purpose === 'awaiting-permit'
          ? d.provisional.validity.to
          : undefined,
      ),
      // Art. 33 §6: the renewal before the attestation runs out unextended
      'renewal-pending': overrunStep('renewal-pending', (d) =>
        d.phase === 'renewal-pending' ? d.provisional?.validity.to : undefined,
      ),
    },
  };
}
