import type { DocumentRef } from '@passerelle/documents';
import type { JournalEntry } from '@passerelle/procedure';

/** A document a dossier's received message referenced, as the back office lists it. */
export interface ReferencedDocument {
  /** Its id in the dossier: its SHA-256 (hex). */
  id: string;
  /** Where the message put it: the message type and the JSON pointer into its payload. */
  messageType: string;
  pointer: string;
  mediaType: string;
  size: number;
  /** The sender of the message (the issuer of a decision document). */
  from: string;
  /** A decision document (`…Document`), read from its issuer's decisions store; else an upload. */
  decision: boolean;
  ref: DocumentRef;
}

function isDocumentRef(value: unknown): value is DocumentRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r['sha256'] === 'string' &&
    /^[0-9a-f]{64}$/.test(r['sha256']) &&
    typeof r['size'] === 'number' &&
    typeof r['mediaType'] === 'string' &&
    typeof r['objectKey'] === 'string'
  );
}

const escape = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Every document the dossier's received messages referenced, the first reference of each (by hash) in
 * the order received.
 */
export function referencedDocuments(journal: readonly JournalEntry[]): ReferencedDocument[] {
  const found = new Map<string, ReferencedDocument>();
  const walk = (node: unknown, pointer: string, key: string, entry: JournalEntry): void => {
    if (isDocumentRef(node)) {
      if (!found.has(node.sha256)) {
        found.set(node.sha256, {
          id: node.sha256,
          messageType: entry.type,
          pointer,
          mediaType: node.mediaType,
          size: node.size,
          from: entry.from ?? '',
          decision: /Document$/.test(key),
          ref: node,
        });
      }
      return;
    }
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${pointer}/${i}`, key, entry));
    else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) walk(v, `${pointer}/${escape(k)}`, k, entry);
    }
  };
  for (const entry of journal) if (entry.kind === 'received') walk(entry.payload, '', '', entry);
  return [...found.values()];
}
