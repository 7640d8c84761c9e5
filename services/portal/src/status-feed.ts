import { type Door, type DoorEventInput } from '@passerelle/door';
import { deriveMessageId } from '@passerelle/envelope';
import { PasserelleError, isPasserelleError } from '@passerelle/errors';
import type { Logger } from '@passerelle/exchange';
import type { DossierStore } from './dossier-store.js';
import { type DossierRecord, RECEIVED_TYPES, applyReceived, isClosed } from './dossier-status.js';

/** A message the portal receives, as the exchange hands it over. */
interface Received {
  meta: { type: string; sender: string; id: string; dossierId: string };
  payload: unknown;
}

/**
 * What an integrator's event says happened to its dossier, per message type received (the type's last
 * segment, `be.passerelle.portal.v1.dossiers.notify.<this>`): lowerCamelCase, ending in a past participle.
 */
export const STATUS_EVENT_TYPES: Readonly<Record<(typeof RECEIVED_TYPES)[number], string>> = {
  'completeness-ruled': 'completenessRuled',
  'information-requested': 'informationRequested',
  'deadline-overrun': 'deadlinePassed',
  'fee-payment-requested': 'feePaymentRequested',
  'work-authorisation-decided': 'workAuthorisationDecided',
  'residence-decided': 'residenceDecided',
  'permit-issued': 'permitIssued',
  'permit-renewed': 'permitRenewed',
  'stay-ended': 'stayEnded',
  'short-term-mobility-decided': 'shortTermMobilityDecided',
};

/**
 * The CloudEvent of a dossier's status change: its subject the dossier id, its data the status fields the
 * integrator reads with `GET /v1/dossiers/{dossierId}` (no personal data) and the message that changed
 * them (type, sender, id). Its id derives from the message's, so that the event of a message handled again
 * is the same event.
 */
export function statusEvent(record: DossierRecord, message: Received['meta']): DoorEventInput {
  const line = record.events.find((e) => e.direction === 'received' && e.messageId === message.id);
  const at = line?.at ?? record.updatedAt;
  return {
    resourceType: 'dossiers',
    happened: STATUS_EVENT_TYPES[message.type as keyof typeof STATUS_EVENT_TYPES] ?? 'updated',
    subject: record.dossierId,
    id: deriveMessageId(message.id, 'portal status event'),
    time: new Date(at),
    data: {
      dossierId: record.dossierId,
      category: record.category,
      procedure: record.context.procedure,
      state: record.state,
      closed: isClosed(record),
      ...(record.missingItems ? { missingItems: record.missingItems } : {}),
      ...(record.respondBy ? { respondBy: record.respondBy } : {}),
      ...(record.overdue ? { overdue: record.overdue } : {}),
      updatedAt: record.updatedAt,
      message: {
        type: message.type,
        from: message.sender,
        id: message.id,
        ...(line?.summary ? { summary: line.summary } : {}),
      },
    },
  };
}

/**
 * The portal's handlers of what the administrations send it: each message updates its dossier's record
 * (`applyReceived`), once even if handled again, then is logged as the dossier's next CloudEvent in the
 * door's event log, from where webhooks and event streams deliver it to the integrator that filed the
 * dossier. The record exists before the application leaves, so a message for a dossier the portal does not
 * know is out of sequence: `ERR_UNKNOWN_DOSSIER`, straight to the dead letters.
 *
 * @example
 * ```ts
 * exchange.subscribe(statusHandlers({ participant, dossiers, door, logger }));
 * ```
 */
export function statusHandlers(parts: {
  participant: string;
  dossiers: DossierStore;
  door: Door;
  logger: Logger;
}): Record<string, (m: Received) => Promise<void>> {
  const { participant, dossiers, door, logger } = parts;
  const handle = async (m: Received): Promise<void> => {
    const record = await dossiers
      .update(m.meta.dossierId, (current) =>
        // a message handled again (its event not logged the first time) changes nothing twice
        current.events.some((e) => e.direction === 'received' && e.messageId === m.meta.id)
          ? current
          : applyReceived(current, {
              type: m.meta.type,
              sender: m.meta.sender,
              id: m.meta.id,
              at: new Date().toISOString(),
              payload: m.payload,
            }),
      )
      .catch((err: unknown) => {
        if (!isPasserelleError(err, 'ERR_DOSSIER_NOT_FOUND')) throw err;
        throw new PasserelleError('ERR_UNKNOWN_DOSSIER', `${participant} has no dossier with this id.`, {
          details: { dossierId: m.meta.dossierId, type: m.meta.type },
        });
      });
    const logged = await door.append(statusEvent(record, m.meta));
    logger.info(
      {
        dossierId: m.meta.dossierId,
        type: m.meta.type,
        sender: m.meta.sender,
        state: record.state,
        subjectseq: logged.event.subjectseq,
      },
      'dossier updated',
    );
  };
  return Object.fromEntries(RECEIVED_TYPES.map((type) => [type, handle]));
}
