import type { ParticipantKind } from '@passerelle/directory';
import type { MessageChannel } from './agreement.js';

/** Summary of one message type, for listings and generators. */
export interface MessageTypeInfo {
  /** The type, a NATS subject token such as `residence-decided`. */
  type: string;
  title: string;
  article: string;
  channel: MessageChannel;
  /** Schema versions available, ascending. */
  versions: number[];
  latestVersion: number;
  senders: ParticipantKind[];
  recipients: ParticipantKind[];
  receiptRequired: boolean;
  retentionDays: number;
  personalDataCategories: string[];
}
