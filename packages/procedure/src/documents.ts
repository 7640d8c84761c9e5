import { createHash } from 'node:crypto';
import type { IsoDate } from './dates.js';
import type { DocumentRef } from './messages.js';
import type { Period } from './periods.js';

/** What a decision document states (PROCEDURE.md: annex, dates, period, issuing body, dossier id). */
export interface DecisionDocumentFacts {
  /** Annex number the law names (`46`, `48`, `49`, `52`, `60`…) or a document kind (`work-authorisation`). */
  document: string;
  /** Issuing participant id. */
  issuer: string;
  dossierId: string;
  issuedOn: IsoDate;
  /** Article(s) the decision applies. */
  article: string;
  period?: Period;
  /** Outcome or reason codes (never personal data). */
  outcome?: string;
}

/** A rendered decision document and its reference. */
export interface DecisionDocument {
  ref: DocumentRef;
  bytes: Uint8Array;
}

/**
 * Renders a decision document as canonical JSON (sorted keys, no personal data: the recipients hold the
 * holder's identity in the message) and its {@link DocumentRef}, keyed by hash under `decisions/<issuer>/`.
 * The same facts always give the same bytes and hash.
 *
 * @example
 * ```ts
 * const { ref } = decisionDocument({ document: '46', issuer: 'immigration-office', dossierId, issuedOn: '2027-03-01', article: 'Art. 105/46' });
 * ```
 */
export function decisionDocument(facts: DecisionDocumentFacts): DecisionDocument {
  const sorted = Object.fromEntries(
    Object.entries(facts)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const bytes = new TextEncoder().encode(JSON.stringify(sorted));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return {
    bytes,
    ref: {
      sha256,
      mediaType: 'application/json',
      size: bytes.length,
      objectKey: `decisions/${facts.issuer}/${sha256}.json`,
    },
  };
}

/**
 * A document number (annex 49, permit, visa) derived from the dossier and a sequence, so that a step
 * replayed after a crash prints the same number: `<prefix>-<10 hex digits>`, upper case.
 *
 * @example
 * ```ts
 * documentNumber('A49', 'D-2027-0001', 1); // 'A49-…'
 * ```
 */
export function documentNumber(prefix: string, dossierId: string, sequence: number): string {
  const digest = createHash('sha256').update(`${prefix}|${dossierId}|${sequence}`).digest('hex');
  return `${prefix}-${digest.slice(0, 10)}`.toUpperCase();
}

/** Adds a rendered document to `sink` (when given) and returns it: rules hand their documents to the service. */
export function collectDocument(
  sink: DecisionDocument[] | undefined,
  document: DecisionDocument,
): DecisionDocument {
  sink?.push(document);
  return document;
}

/** The documents of a pending message (see `PendingMessage.documents`): none gives an empty object to spread. */
export function pendingDocuments(docs: readonly DecisionDocument[]): {
  documents?: { objectKey: string; sha256: string; base64: string }[];
} {
  if (docs.length === 0) return {};
  return {
    documents: docs.map((d) => ({
      objectKey: d.ref.objectKey,
      sha256: d.ref.sha256,
      base64: Buffer.from(d.bytes).toString('base64'),
    })),
  };
}
