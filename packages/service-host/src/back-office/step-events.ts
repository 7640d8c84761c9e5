import { createHash } from 'node:crypto';
import type { Door, DoorLogger } from '@passerelle/door';
import type { DecidedStep } from '../body-service.js';

/** What happened to the dossier, as the event type's past participle, for each kind of step. */
const HAPPENED = { received: 'received', action: 'acted', deadline: 'expired' } as const;

/** A UUID derived from the step, so that a step told twice is one event (the log drops the repeat). */
function eventId(step: DecidedStep): string {
  const h = createHash('sha256')
    .update(`${step.participant}\n${step.dossierId}\n${step.entry.stepId}`)
    .digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The CloudEvent data of a step: which body, the step, the phase after it, the messages it sent and who
 * took an action; never a payload (no personal data: the dossier is read through the door).
 */
function eventData(step: DecidedStep): Record<string, unknown> {
  const { entry } = step;
  return {
    participantId: step.participant,
    dossierId: step.dossierId,
    step: entry.kind,
    type: entry.type,
    phase: entry.phase,
    ...(entry.from ? { from: entry.from } : {}),
    ...(entry.by ? { by: entry.by } : {}),
    ...(entry.summary ? { summary: entry.summary } : {}),
    ...(entry.sent ? { sent: entry.sent.map((m) => ({ type: m.type, ...(m.to ? { to: m.to } : {}) })) } : {}),
  };
}

/**
 * Logs each step the body decides as a CloudEvent of the door (`<service>.dossiers.notify.received`,
 * `…acted`, `…expired`; `subject` the dossier id), which goes to the webhook subscriptions and the event
 * streams alike. Steps are logged one after the other, in the order they were decided; an event that
 * cannot be logged is logged as a warning (the dossier itself is read through the door). Returns the
 * function that stops listening and waits for what is being logged.
 */
export function logStepEvents(
  door: Door,
  onStep: (listener: (step: DecidedStep) => void) => () => void,
  logger: DoorLogger,
): () => Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  const stop = onStep((step) => {
    queue = queue.then(() =>
      door
        .append({
          resourceType: 'dossiers',
          happened: HAPPENED[step.entry.kind],
          subject: step.dossierId,
          id: eventId(step),
          data: eventData(step),
        })
        .catch((err: unknown) =>
          logger.warn(
            { dossierId: step.dossierId, code: (err as { code?: unknown }).code },
            'back-office event not logged',
          ),
        ),
    );
  });
  return async () => {
    stop();
    await queue;
  };
}
