import { Subjects } from './streams.js';

/** `pex.msg.<type>.<sender>.<recipient>` */
export function messageSubject(type: string, sender: string, recipient: string): string {
  return `${Subjects.message}.${type}.${sender}.${recipient}`;
}

/** `pex.rcpt.<receiver>.<originalSender>`: a receipt goes back to the message's sender. */
export function receiptSubject(receiver: string, originalSender: string): string {
  return `${Subjects.receipt}.${receiver}.${originalSender}`;
}

/** `pex.dlq.<participant>`: dead letters of one participant's consumer. */
export function deadLetterSubject(participant: string): string {
  return `${Subjects.deadLetter}.${participant}`;
}

/** Everything addressed to a participant: `pex.msg.*.*.<participant>`. */
export function inboxFilter(participant: string): string {
  return `${Subjects.message}.*.*.${participant}`;
}

/** Every receipt coming back to a participant: `pex.rcpt.*.<participant>`. */
export function receiptFilter(participant: string): string {
  return `${Subjects.receipt}.*.${participant}`;
}

/** Splits an addressed-message subject into its tokens, or undefined when it is not one. */
export function parseMessageSubject(
  subject: string,
): { type: string; sender: string; recipient: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5 || `${parts[0]}.${parts[1]}` !== Subjects.message) return undefined;
  const [, , type, sender, recipient] = parts as [string, string, string, string, string];
  return { type, sender, recipient };
}
