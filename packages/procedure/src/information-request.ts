import type { ActionStep } from './decider.js';
import { addWorkingDays } from './calendar.js';
import type { IsoDate } from './dates.js';
import type { InformationRequested } from './messages.js';
import { messageSchemaRef } from './schema-refs.js';

/** What a case officer gives to ask for documents or information (Art. 105/67). */
export interface InformationRequestInput {
  concern: InformationRequested['concern'];
  addressee: InformationRequested['addressee'];
  /** Working days to answer (default: the body's delay to provide missing items). */
  respondWithinWorkingDays?: number;
}

/** The input schema of the `request-information` action, from the message's schema. */
export const REQUEST_INFORMATION_INPUT = {
  type: 'object',
  properties: {
    concern: messageSchemaRef('information-requested', '/properties/concern'),
    addressee: messageSchemaRef('information-requested', '/properties/addressee'),
    respondWithinWorkingDays: { type: 'integer', minimum: 1, maximum: 60 },
  },
  required: ['concern', 'addressee'],
  additionalProperties: false,
} as const;

/** The action's one-line title. */
export const REQUEST_INFORMATION_TITLE =
  'Ask the applicant or the employer for documents or information, in case of doubt about the purpose of the stay or the means of subsistence (Art. 105/67)';

/**
 * Art. 105/67 - the request a competent authority sends the integrator: what the doubt is about, who is
 * asked, and the date to answer (`workingDays` working days from `today`). The answer comes as
 * `documents-added` with the reason `requested-by-authority`.
 *
 * @example
 * ```ts
 * informationRequest({ concern: 'means-of-subsistence', addressee: 'employer' }, '2027-01-20', 15);
 * // { concern: 'means-of-subsistence', addressee: 'employer', requestedOn: '2027-01-20', respondBy: '2027-02-10' }
 * ```
 */
export function informationRequest(
  input: InformationRequestInput,
  today: IsoDate,
  workingDays: number,
): InformationRequested {
  return {
    concern: input.concern,
    addressee: input.addressee,
    requestedOn: today,
    respondBy: addWorkingDays(today, input.respondWithinWorkingDays ?? workingDays),
  };
}

/** The event a body records when it asks for information (Art. 105/67). */
export interface InformationRequestedEvent {
  type: 'information-requested';
  request: InformationRequested;
}

/**
 * Art. 105/67 - the `request-information` action, the same for every competent authority: the request is
 * recorded and sent to the dossier's integrator, to be answered within `workingDays` working days.
 *
 * @example
 * ```ts
 * actions: { 'request-information': requestInformationStep(limits.respondWithinWorkingDays) }
 * ```
 */
export function requestInformationStep<S extends { routing: { portalId: string } }>(
  workingDays: number,
): ActionStep<S, InformationRequestedEvent, InformationRequestInput> {
  return {
    title: REQUEST_INFORMATION_TITLE,
    input: REQUEST_INFORMATION_INPUT,
    sends: ['information-requested'],
    decide: (state, input, ctx) => {
      const request = informationRequest(input, ctx.today, workingDays);
      return {
        events: [{ type: 'information-requested', request }],
        send: [
          {
            type: 'information-requested',
            payload: request,
            to: [state!.routing.portalId],
            context: { ...state!.routing },
            causationId: ctx.causationId,
          },
        ],
        summary: 'requested',
      };
    },
  };
}
