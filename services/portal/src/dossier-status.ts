import type { DossierContext } from '@passerelle/contracts';

/** Every state a dossier can be in, as the portal learns it from the administrations' messages. */
export const DOSSIER_STATES = [
  'submitted',
  'missing-items',
  'admissible',
  'inadmissible',
  'fee-payment-requested',
  'work-authorised',
  'work-refused',
  'residence-granted',
  'residence-refused',
  'fee-refused',
  'permit-issued',
  'permit-renewed',
  'stay-ended',
  'mobility-not-objected',
  'mobility-objected',
] as const;

/** Where a dossier stands, as the portal learnt it from the administrations' messages. */
export type DossierState = (typeof DOSSIER_STATES)[number];

/** States after which the dossier takes no more input from the integrator. */
export const CLOSED_STATES: readonly DossierState[] = [
  'inadmissible',
  'residence-refused',
  'fee-refused',
  'stay-ended',
  // a short-term mobility answered (Art. 105/43): nothing more to add, whichever the answer
  'mobility-not-objected',
  'mobility-objected',
];

/** One step of a dossier's history: meta and a short non-personal summary (outcome, annex, items asked). */
export interface DossierEvent {
  at: string;
  type: string;
  direction: 'sent' | 'received';
  /** The other party (recipient of a sent message, sender of a received one). */
  party: string;
  messageId: string;
  summary?: string;
}

/**
 * What the portal keeps per dossier in its KV bucket. Routing facts and rulings only: no names, passport
 * numbers, addresses or document references (those live in the encrypted messages).
 */
export interface DossierRecord {
  dossierId: string;
  /** The integrator that filed it; only it may read or add to it. */
  integrator: string;
  category: string;
  context: DossierContext;
  state: DossierState;
  createdAt: string;
  updatedAt: string;
  /** Set while the region waits for items (`missing-items`). */
  missingItems?: string[];
  respondBy?: string;
  /** Set while the Immigration Office waits for the fee (`fee-payment-requested`). */
  feeRequest?: { reason: string; amountDue?: unknown; payBy?: string };
  /**
   * The legal deadlines an administration reported overrun (`deadline-overrun`), one line per deadline and
   * date due, kept once the dossier moves on: what the integrator may chase.
   */
  overdue?: OverdueDeadline[];
  /** Latest decisions, by kind. */
  decisions: {
    work?: { decision: string; decidedOn?: string; period?: unknown; reason?: string };
    residence?: {
      annex: string;
      decidedOn?: string;
      period?: unknown;
      permitToIssue?: string;
      reason?: string;
    };
    permit?: { permit: string; on?: string; validity?: unknown };
    stayEnded?: { endsOn?: string; reason?: string };
    /** A short-term mobility's answer (Art. 105/43). */
    mobility?: { outcome: string; decidedOn?: string; period?: unknown; tacit?: boolean; reason?: string };
  };
  events: DossierEvent[];
}

/** A deadline an administration reported overrun: which, its article, the dates, who reported it. */
export interface OverdueDeadline {
  deadline: string;
  article: string;
  dueOn: string;
  reportedOn: string;
  reportedBy: string;
}

/**
 * Notes, in `next`, the deadline a `deadline-overrun` reports (once per deadline and date due; the state is
 * unchanged); returns the history line's summary.
 */
function noteOverdue(next: DossierRecord, p: Payload, sender: string): string {
  const line: OverdueDeadline = {
    deadline: str(p['deadline']) ?? 'unspecified',
    article: str(p['article']) ?? 'unspecified',
    dueOn: str(p['dueOn']) ?? 'unspecified',
    reportedOn: str(p['reportedOn']) ?? 'unspecified',
    reportedBy: sender,
  };
  const seen = (next.overdue ?? []).some((o) => o.deadline === line.deadline && o.dueOn === line.dueOn);
  if (!seen) next.overdue = [...(next.overdue ?? []), line];
  return `deadline passed: ${line.deadline}, due ${line.dueOn} (${line.article})`;
}

/** Whether a dossier takes no more input. */
export function isClosed(record: DossierRecord): boolean {
  return CLOSED_STATES.includes(record.state);
}

type Payload = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `{ [name]: value }` when `value` is a non-empty string, else nothing: a record's optional member, to spread. */
const strAs = (name: string, value: unknown): Record<string, string> => {
  const s = str(value);
  return s ? { [name]: s } : {};
};

/** `{ [name]: p[name] }` when the payload has the member, whatever its type, else nothing (to spread). */
const kept = (p: Payload, name: string): Record<string, unknown> =>
  p[name] !== undefined ? { [name]: p[name] } : {};

/** The day a decision was taken and the period it covers, those of them the payload gives (to spread). */
const dated = (p: Payload): Record<string, unknown> => ({
  ...strAs('decidedOn', p['decidedOn']),
  ...kept(p, 'period'),
});

/** A completeness ruling on `next` (mutated): its state, the items asked for; the history line's summary. */
function applyCompleteness(next: DossierRecord, p: Payload): string | undefined {
  const outcome = str(p['outcome']);
  if (outcome === 'complete') {
    // An outstanding fee request stays the dossier's state: messages of the region and of the
    // Immigration Office may arrive in any order.
    if (!next.feeRequest) next.state = 'admissible';
    delete next.missingItems;
    delete next.respondBy;
    return 'complete';
  }
  if (outcome === 'missing-items') {
    next.state = 'missing-items';
    next.missingItems = Array.isArray(p['missingItems']) ? p['missingItems'].map(String) : [];
    const respondBy = str(p['respondBy']);
    if (respondBy) next.respondBy = respondBy;
    return `missing: ${next.missingItems.join(', ')}`;
  }
  if (outcome === 'inadmissible') {
    next.state = 'inadmissible';
    return `inadmissible: ${str(p['reason']) ?? 'unspecified'}`;
  }
  return undefined;
}

/**
 * Applies a message received from an administration to a dossier record (pure): new state, rulings and a
 * history line. Messages of types the portal does not track leave the state as is but are still recorded.
 */
export function applyReceived(
  record: DossierRecord,
  message: { type: string; sender: string; id: string; at: string; payload: unknown },
): DossierRecord {
  const p = (message.payload ?? {}) as Payload;
  const next: DossierRecord = {
    ...record,
    decisions: { ...record.decisions },
    events: [...record.events],
    updatedAt: message.at,
  };
  let summary: string | undefined;
  switch (message.type) {
    case 'completeness-ruled':
      summary = applyCompleteness(next, p);
      break;
    case 'information-requested': {
      // Art. 105/67: a request for documents or information; the state is unchanged, the event says it
      summary = `information requested: ${str(p['concern']) ?? 'unspecified'} from the ${str(p['addressee']) ?? 'applicant'}, by ${str(p['respondBy']) ?? 'unspecified'}`;
      break;
    }
    case 'deadline-overrun':
      summary = noteOverdue(next, p, message.sender);
      break;
    case 'fee-payment-requested': {
      next.state = 'fee-payment-requested';
      next.feeRequest = {
        reason: str(p['reason']) ?? 'unspecified',
        ...kept(p, 'amountDue'),
        ...strAs('payBy', p['payBy']),
      };
      summary = `fee: ${next.feeRequest.reason}`;
      break;
    }
    case 'work-authorisation-decided': {
      const decision = str(p['decision']) ?? 'unknown';
      next.decisions.work = {
        decision,
        ...dated(p),
        ...strAs('reason', p['reason']),
      };
      // A work decision does not overtake a later residence decision that arrived first.
      // Nor does it hide an outstanding fee request, which only the residence decision settles.
      if (!next.decisions.residence && !(next.feeRequest && decision === 'granted')) {
        next.state = decision === 'granted' ? 'work-authorised' : 'work-refused';
      }
      summary = `work ${decision}`;
      break;
    }
    case 'residence-decided': {
      const annex = str(p['annex']) ?? '?';
      next.decisions.residence = {
        annex,
        ...dated(p),
        ...strAs('permitToIssue', p['permitToIssue']),
        ...strAs('reason', p['reason'] ?? p['feeCase']),
      };
      next.state =
        annex === '46' ? 'residence-granted' : annex === '48' ? 'residence-refused' : 'fee-refused';
      delete next.feeRequest;
      summary = `annex ${annex}`;
      break;
    }
    case 'permit-issued':
    case 'permit-renewed': {
      const permit = str(p['permit']) ?? '?';
      next.decisions.permit = {
        permit,
        ...strAs('on', p['issuedOn'] ?? p['renewedOn']),
        ...kept(p, 'validity'),
      };
      next.state = message.type === 'permit-issued' ? 'permit-issued' : 'permit-renewed';
      summary = permit;
      break;
    }
    case 'stay-ended': {
      next.decisions.stayEnded = {
        ...strAs('endsOn', p['endsOn']),
        ...strAs('reason', p['reason']),
      };
      next.state = 'stay-ended';
      summary = 'annex 52';
      break;
    }
    case 'short-term-mobility-decided':
      summary = applyMobilityDecision(next, p);
      break;
    default:
      break;
  }
  next.events.push({
    at: message.at,
    type: message.type,
    direction: 'received',
    party: message.sender,
    messageId: message.id,
    ...(summary ? { summary } : {}),
  });
  return next;
}

/**
 * Art. 105/43; directive 2014/66/EU Art. 21 - a short-term mobility's answer applied to `next`: no
 * objection (the mobility may take place) or objection; returns the history line's summary.
 */
function applyMobilityDecision(next: DossierRecord, p: Payload): string {
  const outcome = str(p['outcome']) ?? 'unknown';
  next.decisions.mobility = {
    outcome,
    ...dated(p),
    ...(typeof p['tacit'] === 'boolean' ? { tacit: p['tacit'] } : {}),
    ...strAs('reason', p['reason']),
  };
  next.state = outcome === 'objected' ? 'mobility-objected' : 'mobility-not-objected';
  return outcome === 'objected'
    ? `mobility objected: ${str(p['reason']) ?? 'unspecified'}`
    : `mobility not objected${p['tacit'] === true ? ' (20 days passed)' : ''}`;
}

/** The types of messages the portal receives (per the agreement) and tracks. */
export const RECEIVED_TYPES = [
  'completeness-ruled',
  'information-requested',
  'deadline-overrun',
  'fee-payment-requested',
  'work-authorisation-decided',
  'residence-decided',
  'permit-issued',
  'permit-renewed',
  'stay-ended',
  'short-term-mobility-decided',
] as const;
