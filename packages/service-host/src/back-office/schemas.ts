import { collectionSchema, pageQuerySchema } from '@passerelle/door';
import type { FastifyInstance } from 'fastify';

/** A dossier id, as the envelope's meta takes it. */
export const DOSSIER_ID_PATTERN = '^[A-Za-z0-9-]{8,64}$';
/** A participant id (`region-bruxelles`, `commune-21004`). */
export const PARTICIPANT_ID_PATTERN = '^[a-z][a-z0-9-]{1,62}$';

/** The path parameters of a dossier's routes. */
export const dossierParams = {
  type: 'object',
  required: ['participantId', 'dossierId'],
  additionalProperties: false,
  properties: {
    participantId: {
      type: 'string',
      pattern: PARTICIPANT_ID_PATTERN,
      description: 'The body (hosted participant id) the dossier is at.',
    },
    dossierId: { type: 'string', pattern: DOSSIER_ID_PATTERN, description: 'The dossier id.' },
  },
} as const;

/** The path parameters of a dossier's document. */
export const documentParams = {
  ...dossierParams,
  required: [...dossierParams.required, 'documentId'],
  properties: {
    ...dossierParams.properties,
    documentId: { type: 'string', pattern: '^[0-9a-f]{64}$', description: "The document's SHA-256 (hex)." },
  },
} as const;

const date = { type: 'string', format: 'date' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const uri = { type: 'string', format: 'uri' } as const;
const anyObject = { type: 'object', additionalProperties: true } as const;

/** The worklist's query: paging and its filters. */
export const worklistQuery = (actions: readonly string[]) =>
  pageQuerySchema({
    filters: {
      participantId: { type: 'string', pattern: PARTICIPANT_ID_PATTERN, description: 'Only this body.' },
      action: { type: 'string', enum: [...actions], description: 'Only this action.' },
      phase: {
        type: 'string',
        pattern: '^[a-z][a-z0-9-]{0,63}$',
        description: 'Only dossiers in this phase.',
      },
      overdue: { type: 'boolean', description: 'Only actions whose legal deadline has passed (true).' },
      dueWithin: {
        type: 'integer',
        minimum: 0,
        maximum: 366,
        description: 'Only actions due within this many working days (overdue ones included).',
      },
    },
  });

/**
 * The back office's own schemas, shared by its routes (components of its OpenAPI document). Responses are
 * serialized by them, so a member they do not name never leaves the door.
 */
const SCHEMAS = [
  {
    $id: 'Actor',
    type: 'object',
    description: 'Who took an action: the calling system (door client) and the officer, pseudonymous ids.',
    required: ['clientId', 'officerId'],
    properties: { clientId: { type: 'string' }, officerId: { type: 'string' } },
  },
  {
    $id: 'WorkItem',
    type: 'object',
    description: 'An action a body owes a dossier now.',
    required: ['participantId', 'dossierId', 'phase', 'action', 'href', 'actionHref'],
    properties: {
      participantId: { type: 'string' },
      dossierId: { type: 'string', pattern: DOSSIER_ID_PATTERN },
      phase: { type: 'string' },
      action: { type: 'string', description: "The action's name in the body's table." },
      deadline: { ...date, description: 'The legal deadline, where the law sets one.' },
      workingDaysLeft: {
        type: 'integer',
        description: 'Working days left to the deadline (0 on the day, negative once passed).',
      },
      href: { ...uri, description: 'The dossier.' },
      actionHref: { ...uri, description: 'POST here to take the action.' },
    },
  },
  {
    $id: 'SentMessageRef',
    type: 'object',
    required: ['type'],
    properties: {
      id: { type: 'string' },
      type: { type: 'string' },
      to: { type: 'array', items: { type: 'string' } },
    },
  },
  {
    $id: 'TimelineEntry',
    type: 'object',
    description: 'A step of the dossier at this body: a message received, an action, a deadline step.',
    required: ['at', 'kind', 'type', 'phase'],
    properties: {
      at: dateTime,
      kind: { type: 'string', enum: ['received', 'action', 'deadline'] },
      type: { type: 'string', description: 'The message type, action or deadline step.' },
      from: { type: 'string', description: 'The sender of a received message.' },
      messageId: { type: 'string', description: 'The id of a received message.' },
      by: { $ref: 'Actor#' },
      automatic: { type: 'boolean', description: 'An action a configured policy took.' },
      phase: { type: 'string', description: "The dossier's phase after the step." },
      summary: { type: 'string' },
      sent: { type: 'array', items: { $ref: 'SentMessageRef#' } },
    },
  },
  {
    $id: 'ReceivedMessage',
    type: 'object',
    description: 'A message this body received for the dossier, decrypted.',
    required: ['messageId', 'type', 'from', 'at', 'payload'],
    properties: {
      messageId: { type: 'string' },
      type: { type: 'string' },
      from: { type: 'string' },
      at: dateTime,
      payload: anyObject,
    },
  },
  {
    $id: 'DossierDocument',
    type: 'object',
    description: 'A document a received message referenced; GET its href for the bytes, decrypted.',
    required: ['id', 'messageType', 'pointer', 'mediaType', 'size', 'from', 'decision', 'href'],
    properties: {
      id: { type: 'string', description: 'Its SHA-256 (hex).' },
      messageType: { type: 'string' },
      pointer: { type: 'string', description: 'JSON pointer into the message payload.' },
      mediaType: { type: 'string' },
      size: { type: 'integer' },
      from: { type: 'string' },
      decision: { type: 'boolean', description: "A decision document of the message's sender." },
      href: uri,
    },
  },
  {
    $id: 'Decision',
    type: 'object',
    description: 'An action taken on the dossier here, by a person or a configured policy.',
    required: ['action', 'stepId', 'on'],
    properties: {
      action: { type: 'string' },
      stepId: { type: 'string' },
      on: date,
      by: { $ref: 'Actor#' },
      automatic: { type: 'boolean' },
      summary: { type: 'string' },
    },
  },
  {
    $id: 'AvailableAction',
    type: 'object',
    required: ['action', 'href'],
    properties: { action: { type: 'string' }, title: { type: 'string' }, href: uri },
  },
  {
    $id: 'BackOfficeDossier',
    type: 'object',
    description: 'A dossier as this body keeps it: decrypted for the back office.',
    required: [
      'participantId',
      'dossierId',
      'phase',
      'state',
      'available',
      'timeline',
      'received',
      'documents',
      'decisions',
    ],
    properties: {
      participantId: { type: 'string' },
      dossierId: { type: 'string', pattern: DOSSIER_ID_PATTERN },
      phase: { type: 'string' },
      state: { ...anyObject, description: "The body's state of the dossier." },
      available: { type: 'array', items: { $ref: 'AvailableAction#' } },
      timeline: { type: 'array', items: { $ref: 'TimelineEntry#' } },
      received: { type: 'array', items: { $ref: 'ReceivedMessage#' } },
      documents: { type: 'array', items: { $ref: 'DossierDocument#' } },
      decisions: { type: 'array', items: { $ref: 'Decision#' } },
    },
  },
  {
    $id: 'ActionTaken',
    type: 'object',
    description: "The action's outcome: the dossier's phase after it and the actions it accepts now.",
    required: ['participantId', 'dossierId', 'action', 'phase', 'available', 'href'],
    properties: {
      participantId: { type: 'string' },
      dossierId: { type: 'string' },
      action: { type: 'string' },
      phase: { type: 'string' },
      available: { type: 'array', items: { type: 'string' } },
      href: uri,
    },
  },
] as const;

/** The worklist page. */
export const worklistPage = collectionSchema(
  { $ref: 'WorkItem#' },
  'The actions owed, overdue first, those without a deadline last.',
);

/** Adds the back office's schemas to the app. */
export function addBackOfficeSchemas(app: FastifyInstance): void {
  for (const schema of SCHEMAS) app.addSchema(schema);
}
