import type { ParticipantKind } from '@passerelle/directory';
import type { DossierScheme } from './dossier-context.js';

/** Subject family a message type travels on. */
export type MessageChannel = 'message' | 'receipt';

/** Conditions narrowing a recipient to some dossiers. */
export interface RecipientCondition {
  procedure?: ('first' | 'renewal')[];
  scheme?: DossierScheme[];
  outcome?: string[];
}

/** One recipient kind of a message type, with the part of the payload it sees. */
export interface RecipientRule {
  kind: ParticipantKind;
  when?: RecipientCondition;
  /** Skip this recipient when the dossier context does not name it yet. */
  skipIfUnknown?: boolean;
  /** Allow-list of JSON pointers; `''` is the whole payload. */
  projection: string[];
}

/** What the agreement says about one message type (`contracts/exchange.yaml`, `messages.<type>`). */
export interface MessageContract {
  title: string;
  /** The provisions of law the message carries out. */
  article: string;
  channel?: MessageChannel;
  senders: ParticipantKind[];
  outcome?: { pointer: string; values: Record<string, string> };
  recipients: RecipientRule[];
  receiptRequired: boolean;
  retentionDays: number;
  /** Personal-data category → pointers of the payload holding it. */
  personalData: Record<string, string[]>;
}

/** The whole agreement file. */
export interface Agreement {
  agreement: string;
  version: number;
  personalData: Record<string, string>;
  kinds: Partial<Record<ParticipantKind, { description: string; neverReceives?: string[] }>>;
  messages: Record<string, MessageContract>;
}
