import {
  type BodyTable,
  type IsoDate,
  type OverrunReported,
  type Period,
  type ResidenceDecided,
  isRefusal,
  overrunStep,
  recordOverrun,
} from '@passerelle/procedure';
import { type PostDossier, acceptAnnex46, issueVisa } from './rules.js';

/** What happens to a dossier at a consular post. */
export type PostEvent =
  | { type: 'annex-46-received'; stay: Period; annex46On: IsoDate; receivedOn: IsoDate }
  | { type: 'visa-issued'; visa: NonNullable<PostDossier['visa']> }
  | OverrunReported;

/** Folds a post's event into its dossier. */
export function evolvePost(state: PostDossier | undefined, event: PostEvent): PostDossier {
  switch (event.type) {
    case 'annex-46-received':
      return {
        phase: 'annex-46-received',
        stay: event.stay,
        annex46On: event.annex46On,
        receivedOn: event.receivedOn,
      };
    case 'visa-issued':
      return { ...state!, phase: 'visa-issued', visa: event.visa };
    case 'deadline-overrun-reported':
      return recordOverrun(state!, event);
  }
}

/** The input of `issue-visa`: nothing, the visa follows from the passport and the annex 46. */
const ISSUE_VISA_INPUT = { type: 'object', properties: {}, additionalProperties: false } as const;

/**
 * The consular post's steps (Art. 105/46 §3, 105/47 §1): the copy of annex 46 opens the dossier once its
 * document reads back as the copy states it; the long-stay visa is then owed without delay, a person's
 * action on the passport presented (or the configured policy's).
 *
 * @example
 * ```ts
 * const host = await ServiceHost.open({ ...config, service: 'consular-post', kind: 'consular-post', table: postTable() });
 * ```
 */
export function postTable(): BodyTable<PostDossier, PostEvent> {
  return {
    body: 'consular-post',
    evolve: evolvePost,
    messages: {
      'residence-decided': {
        needs: (_state, decision: ResidenceDecided, ctx) => {
          const grant = acceptAnnex46(decision, ctx.participant, ctx.dossierId);
          if (isRefusal(grant)) return grant;
          // the visa is issued on the annex 46 itself: the copy the Office stored must read back and say so
          return [
            {
              kind: 'decision-document',
              ref: grant.decisionDocument,
              expected: {
                document: '46',
                dossierId: ctx.dossierId,
                issuer: ctx.sender,
                period: grant.period,
                outcome: 'granted',
              },
            },
          ];
        },
        decide: (_state, decision: ResidenceDecided, ctx) => {
          const grant = acceptAnnex46(decision, ctx.participant, ctx.dossierId);
          if (isRefusal(grant)) return grant;
          return {
            events: [
              {
                type: 'annex-46-received',
                stay: grant.period,
                annex46On: grant.decidedOn,
                receivedOn: ctx.today,
              },
            ],
          };
        },
      },
    },
    actions: {
      'issue-visa': {
        title: 'Issue the long-stay visa (type D) on the passport and the annex 46 (Art. 105/47 §1)',
        input: ISSUE_VISA_INPUT,
        sends: ['visa-issued'],
        owed: (state) => (state.phase === 'annex-46-received' ? { deadline: visaDue(state)! } : undefined),
        decide: (state, _input, ctx) => {
          const visa = issueVisa(state!.stay, ctx.dossierId, ctx.today);
          return {
            events: [
              {
                type: 'visa-issued',
                visa: { number: visa.visaNumber, issuedOn: visa.issuedOn, validity: visa.validity },
              },
            ],
            send: [
              {
                type: 'visa-issued',
                payload: visa,
                to: ['immigration-office'],
                causationId: ctx.causationId,
              },
            ],
            summary: 'issued',
          };
        },
      },
    },
    deadlines: {
      // Art. 105/47 §1: reported to the post itself (it keeps no route to the integrator)
      visa: overrunStep('visa', visaDue),
    },
  };
}

/** Art. 105/47 §1 - the visa is due without delay: the day the copy of annex 46 came, while not issued. */
export function visaDue(state: PostDossier): IsoDate | undefined {
  return state.phase === 'annex-46-received' ? (state.receivedOn ?? state.annex46On) : undefined;
}
