import { collectionSchema, pageQuerySchema } from '@passerelle/door';
import type { FastifyInstance } from 'fastify';
import { CLOSED_STATES, DOSSIER_STATES } from './dossier-status.js';

/** A dossier id: a random UUID (or one derived from the `Idempotency-Key` run), never personal data. */
export const DOSSIER_ID_PATTERN = '^[A-Za-z0-9-]{8,64}$';

/** The path parameters of a dossier's routes. */
export const dossierParams = {
  type: 'object',
  required: ['dossierId'],
  additionalProperties: false,
  properties: {
    dossierId: { type: 'string', pattern: DOSSIER_ID_PATTERN, description: 'The dossier id.' },
  },
} as const;

const state = { type: 'string', enum: [...DOSSIER_STATES] } as const;
const closed = {
  type: 'boolean',
  description: `True in the states after which the dossier takes no more input: ${CLOSED_STATES.join(', ')}.`,
} as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const date = { type: 'string', format: 'date' } as const;
/** What every decision of a dossier's status may say of itself: the day it was taken, the period it covers. */
const decidedFor = { decidedOn: date, period: { $ref: 'Period#' } } as const;

/**
 * The portal's own schemas, shared by its routes (components of its OpenAPI document): the status of a
 * dossier, its line in the list, what a posted message answers. Responses are serialized by them, so a
 * member they do not name never leaves the portal.
 */
const SCHEMAS = [
  {
    $id: 'SentMessage',
    type: 'object',
    description: 'One message the portal published (one per recipient of the fan-out).',
    required: ['id', 'type', 'recipient'],
    properties: {
      id: { type: 'string', description: 'Message id (UUID v7).' },
      type: { type: 'string' },
      recipient: { type: 'string', description: 'Participant id.' },
    },
  },
  {
    $id: 'Accepted',
    type: 'object',
    description: 'A message taken by the exchange: the dossier, its state, and the messages published.',
    required: ['dossierId', 'state', 'messages'],
    properties: {
      dossierId: { type: 'string', pattern: DOSSIER_ID_PATTERN },
      state,
      messages: { type: 'array', items: { $ref: 'SentMessage#' } },
    },
  },
  {
    $id: 'DossierSummary',
    type: 'object',
    description: "A dossier in the integrator's list: its status fields, and its link.",
    required: ['dossierId', 'href', 'category', 'procedure', 'state', 'closed', 'createdAt', 'updatedAt'],
    properties: {
      dossierId: { type: 'string', pattern: DOSSIER_ID_PATTERN },
      href: { type: 'string', format: 'uri', description: 'The dossier (GET for its status and history).' },
      category: { type: 'string' },
      procedure: { type: 'string', enum: ['first', 'renewal'] },
      state,
      closed,
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  },
  {
    $id: 'DossierStatus',
    type: 'object',
    description: 'What the portal learnt of a dossier from the administrations; no personal data.',
    required: [
      'dossierId',
      'category',
      'procedure',
      'state',
      'closed',
      'decisions',
      'createdAt',
      'updatedAt',
      'events',
    ],
    properties: {
      dossierId: { type: 'string', pattern: DOSSIER_ID_PATTERN },
      category: { type: 'string' },
      procedure: { type: 'string', enum: ['first', 'renewal'] },
      state,
      closed,
      missingItems: { type: 'array', items: { type: 'string' }, description: 'While items are asked for.' },
      respondBy: date,
      feeRequest: {
        type: 'object',
        description: 'While the Immigration Office waits for the fee.',
        required: ['reason'],
        properties: { reason: { type: 'string' }, amountDue: { $ref: 'Money#' }, payBy: date },
      },
      overdue: {
        type: 'array',
        description:
          'The legal deadlines an administration reported overrun (deadline-overrun), each once: which, the article that sets it, the dates, the reporting body.',
        items: {
          type: 'object',
          required: ['deadline', 'article', 'dueOn', 'reportedOn', 'reportedBy'],
          properties: {
            deadline: { type: 'string' },
            article: { type: 'string' },
            dueOn: date,
            reportedOn: date,
            reportedBy: { type: 'string' },
          },
        },
      },
      decisions: {
        type: 'object',
        description: 'The latest decision of each kind.',
        properties: {
          work: {
            type: 'object',
            properties: { decision: { type: 'string' }, ...decidedFor, reason: { type: 'string' } },
          },
          residence: {
            type: 'object',
            properties: {
              annex: { type: 'string' },
              ...decidedFor,
              permitToIssue: { type: 'string' },
              reason: { type: 'string' },
            },
          },
          permit: {
            type: 'object',
            properties: { permit: { type: 'string' }, on: date, validity: { $ref: 'Period#' } },
          },
          stayEnded: { type: 'object', properties: { endsOn: date, reason: { type: 'string' } } },
          mobility: {
            type: 'object',
            description: "A short-term mobility's answer (Art. 105/43): no objection or objection.",
            properties: {
              outcome: { type: 'string', enum: ['no-objection', 'objected'] },
              ...decidedFor,
              tacit: { type: 'boolean' },
              reason: { type: 'string' },
            },
          },
        },
      },
      createdAt: dateTime,
      updatedAt: dateTime,
      events: {
        type: 'array',
        description: 'The messages sent and received for the dossier: meta and a short summary.',
        items: {
          type: 'object',
          required: ['at', 'type', 'direction', 'party', 'messageId'],
          properties: {
            at: dateTime,
            type: { type: 'string' },
            direction: { type: 'string', enum: ['sent', 'received'] },
            party: { type: 'string', description: 'Participant id.' },
            messageId: { type: 'string' },
            summary: { type: 'string' },
          },
        },
      },
    },
  },
] as const;

/** Adds the portal's shared schemas to the app. */
export function addApiSchemas(app: FastifyInstance): void {
  for (const schema of SCHEMAS) app.addSchema(schema);
}

/** The query of `GET /v1/dossiers`: paging and the filters. */
export function dossierListQuery(categories: readonly string[]) {
  return pageQuerySchema({
    max: 100,
    defaultSize: 20,
    filters: {
      state: {
        type: 'array',
        maxItems: DOSSIER_STATES.length,
        items: state,
        description: 'Only dossiers in one of these states.',
      },
      category: {
        type: 'array',
        maxItems: categories.length,
        items: { type: 'string', enum: [...categories] },
        description: 'Only dossiers of one of these categories.',
      },
      closed: { type: 'boolean', description: 'Only closed (true) or open (false) dossiers.' },
      updatedSince: { ...dateTime, description: 'Only dossiers updated at or after this time.' },
    },
  });
}

/** The answer of `GET /v1/dossiers`. */
export const dossierListPage = collectionSchema(
  { $ref: 'DossierSummary#' },
  "The integrator's dossiers, newest first.",
);
