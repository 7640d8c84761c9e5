import { randomUUID } from 'node:crypto';
import { CloudEvent, ValidationError } from 'cloudevents';
import { DoorError } from './door-error.js';

/**
 * A door's event: a CloudEvent 1.0 in structured JSON with the Belgif REST guide's attributes (`service`,
 * `type` = `<service>.<resourceType>.notify.<pastParticiple>`, `source` a URN, `id` a UUID, `subject` the
 * resource's opaque id, `time`) and {@link SUBJECT_SEQUENCE_ATTRIBUTE}, the subject's counter.
 */
export interface DoorEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  service: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  /**
   * The event's number among its subject's events: 1, 2, 3… in the order the door logged them, never
   * reused, never going back. Consumers order a subject's events by it and drop any they have seen.
   */
  subjectseq: number;
  data?: unknown;
}

/**
 * The extension attribute carrying a subject's counter. CloudEvents' own `sequence` extension orders the
 * events of a whole source; this one orders the events of one subject (one dossier), which is what a
 * consumer keeping each dossier's state needs.
 */
export const SUBJECT_SEQUENCE_ATTRIBUTE = 'subjectseq';

/** `<reverse-DNS name>.v<major>`, segments in lowerCamelCase: `be.passerelle.regionalAuthority.v1`. */
export const SERVICE_PATTERN = /^[a-z][a-z0-9]*(?:\.[a-z][A-Za-z0-9]*)+\.v[0-9]+$/;
/** A URN (RFC 8141): `urn:passerelle:door:region-bruxelles`. */
export const SOURCE_PATTERN = /^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[\x21-\x7e]+$/;
/** A resource type (lowerCamelCase, plural for a collection) or a past participle: `dossiers`, `decided`. */
export const TYPE_SEGMENT_PATTERN = /^[a-z][A-Za-z0-9]*$/;
/** An opaque resource id, also a NATS subject token: never personal data. */
export const SUBJECT_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What a service says happened; the door adds the rest. */
export interface DoorEventInput {
  /** The type of resource, lowerCamelCase, plural for a collection: `dossiers`. */
  resourceType: string;
  /** What happened, as a past participle: `decided`, `submitted`, `closed`. */
  happened: string;
  /** The resource's opaque id (a dossier id). */
  subject: string;
  /** JSON data: what the subscribers may read, no more. */
  data?: unknown;
  /** The event id (a UUID): derive it from `request.idempotency.runId` so that a rerun logs nothing twice. */
  id?: string;
  /** When it happened (default now). */
  time?: Date;
}

function invalid(attribute: string, why: string): DoorError {
  return new DoorError('ERR_EVENT_INVALID', `CloudEvent ${attribute} ${why}.`, { details: { attribute } });
}

/**
 * Builds and checks a door's CloudEvent with the `cloudevents` SDK (which checks the spec's attributes
 * and extension names); throws `ERR_EVENT_INVALID` naming the attribute.
 *
 * @example
 * ```ts
 * buildDoorEvent(
 *   { service: 'be.passerelle.regionalAuthority.v1', source: 'urn:passerelle:door:region-bruxelles' },
 *   { resourceType: 'dossiers', happened: 'decided', subject: 'd-2026-0001', data: { outcome: 'granted' } },
 *   3,
 * ).type; // 'be.passerelle.regionalAuthority.v1.dossiers.notify.decided'
 * ```
 */
export function buildDoorEvent(
  origin: { service: string; source: string },
  input: DoorEventInput,
  subjectseq: number,
  now: () => Date = () => new Date(),
): DoorEvent {
  if (!SERVICE_PATTERN.test(origin.service)) throw invalid('service', 'must be <reverse-DNS name>.v<major>');
  if (!SOURCE_PATTERN.test(origin.source)) throw invalid('source', 'must be a URN');
  if (!TYPE_SEGMENT_PATTERN.test(input.resourceType))
    throw invalid('type', 'needs a lowerCamelCase resource type');
  if (!TYPE_SEGMENT_PATTERN.test(input.happened))
    throw invalid('type', 'needs a lowerCamelCase past participle');
  if (!SUBJECT_PATTERN.test(input.subject))
    throw invalid('subject', 'must be an opaque id of 1 to 128 letters, digits, - or _');
  const id = input.id ?? randomUUID();
  if (!UUID.test(id)) throw invalid('id', 'must be a lower-case UUID');
  if (!Number.isSafeInteger(subjectseq) || subjectseq < 1)
    throw invalid(SUBJECT_SEQUENCE_ATTRIBUTE, 'must be a positive integer');
  const event: DoorEvent = {
    specversion: '1.0',
    id,
    source: origin.source,
    type: `${origin.service}.${input.resourceType}.notify.${input.happened}`,
    service: origin.service,
    subject: input.subject,
    time: (input.time ?? now()).toISOString(),
    datacontenttype: 'application/json',
    subjectseq,
    ...(input.data === undefined ? {} : { data: input.data }),
  };
  return checkDoorEvent(event);
}

/**
 * Checks a structured-mode CloudEvent read back (from the log, or by a consumer) with the SDK and the
 * door's attribute rules; returns it as a {@link DoorEvent}.
 */
export function checkDoorEvent(value: unknown): DoorEvent {
  try {
    // the SDK validates the spec's attributes and the extensions' names and types
    new CloudEvent(value as Record<string, unknown>, true);
  } catch (err) {
    if (err instanceof ValidationError) throw invalid('attributes', 'do not satisfy CloudEvents 1.0');
    if (err instanceof TypeError) throw invalid('attributes', 'do not satisfy CloudEvents 1.0');
    throw err;
  }
  const event = value as DoorEvent;
  if (event.specversion !== '1.0') throw invalid('specversion', 'must be 1.0');
  if (!SUBJECT_PATTERN.test(event.subject)) throw invalid('subject', 'must be an opaque id');
  if (!Number.isSafeInteger(event.subjectseq) || event.subjectseq < 1) {
    throw invalid(SUBJECT_SEQUENCE_ATTRIBUTE, 'must be a positive integer');
  }
  if (!event.type.startsWith(`${event.service}.`) || !/\.notify\.[a-z][A-Za-z0-9]*$/.test(event.type)) {
    throw invalid('type', 'must be <service>.<resourceType>.notify.<pastParticiple>');
  }
  return event;
}
