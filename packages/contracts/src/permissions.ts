import { REGION_IDS, participantKind, type ParticipantKind } from '@passerelle/directory';
import type { Contracts } from './contracts.js';

/** Publish and subscribe allow-lists of one participant (nats-server `permissions` block). */
export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
}

/** The placeholder the per-kind templates use for the participant's own id. */
export const SELF = '{self}';

const STREAM = 'EXCHANGE';
/** The auditor's durable consumer on EXCHANGE: its permissions name it, and services/auditor creates or reads it. */
export const AUDITOR_CONSUMER = 'auditor-ledger';

/** Participant ids a kind can have when they are a closed list, so a subject can name them one by one. */
function closedIds(kind: ParticipantKind): readonly string[] | undefined {
  if (kind === 'regional-authority') return REGION_IDS;
  if (kind === 'immigration-office') return ['immigration-office'];
  if (kind === 'auditor') return ['auditor'];
  return undefined;
}

/**
 * Pull, info and ack subjects of one of the participant's durable consumers. Not their creation: consumers
 * on EXCHANGE are the operator's to create (`provisionParticipant`), since a participant allowed to create
 * its own durable could create it with a filter wider than its inbox before the operator does.
 */
function consumerSubjects(durable: string): { publish: string[] } {
  return {
    publish: [
      `$JS.API.CONSUMER.MSG.NEXT.${STREAM}.${durable}`,
      `$JS.API.CONSUMER.INFO.${STREAM}.${durable}`,
      `$JS.ACK.${STREAM}.${durable}.>`,
    ],
  };
}

/**
 * NATS permissions of a participant kind, derived from the agreement, with `{self}` standing for the
 * participant id: publish only `pex.msg.<allowed type>.{self}.<allowed recipients>`, receipts as
 * `pex.rcpt.{self}.*`, dead letters on `pex.dlq.{self}`, the pull/ack/info subjects of its own durable
 * consumers (`inbox-{self}`, `receipts-{self}`; the auditor's `auditor-ledger` reads the whole stream);
 * subscribe only its private inbox prefix `_INBOX_{self}.>` (pull replies come there).
 *
 * @example
 * ```ts
 * natsPermissionsTemplate(contracts, 'commune').publish.allow; // ['pex.msg.arrival-registered.{self}.immigration-office', …]
 * ```
 */
export function natsPermissionsTemplate(contracts: Contracts, kind: ParticipantKind): NatsPermissions {
  const agreement = contracts.agreement();
  const publish = new Set<string>();
  for (const info of contracts.types()) {
    if (!info.senders.includes(kind)) continue;
    if (info.channel === 'receipt') {
      publish.add(`pex.rcpt.${SELF}.*`);
      continue;
    }
    const rules = agreement.messages[info.type]!.recipients;
    const lists = rules.map((r) => closedIds(r.kind));
    if (lists.some((l) => l === undefined)) {
      publish.add(`pex.msg.${info.type}.${SELF}.*`);
    } else {
      for (const list of lists) for (const id of list!) publish.add(`pex.msg.${info.type}.${SELF}.${id}`);
    }
  }
  const receives = contracts.types().some((t) => t.recipients.includes(kind));
  const durables =
    kind === 'auditor'
      ? [AUDITOR_CONSUMER]
      : receives
        ? [`inbox-${SELF}`, `receipts-${SELF}`]
        : [`receipts-${SELF}`];
  if (kind === 'auditor') publish.add('pex.ledger.>');
  // every participant files what it refuses, the auditor included (inputs whose seal does not verify)
  publish.add(`pex.dlq.${SELF}`);
  for (const durable of durables) for (const s of consumerSubjects(durable).publish) publish.add(s);
  return { publish: { allow: [...publish] }, subscribe: { allow: [`_INBOX_${SELF}.>`] } };
}

/**
 * The permissions of one participant: its kind's template with `{self}` replaced by its id.
 *
 * @example
 * ```ts
 * natsPermissionsFor(contracts, 'commune-21004').subscribe.allow; // ['_INBOX_commune-21004.>']
 * ```
 */
export function natsPermissionsFor(contracts: Contracts, participantId: string): NatsPermissions {
  const template = natsPermissionsTemplate(contracts, participantKind(participantId));
  const fill = (subjects: string[]) => subjects.map((s) => s.split(SELF).join(participantId));
  return {
    publish: { allow: fill(template.publish.allow) },
    subscribe: { allow: fill(template.subscribe.allow) },
  };
}
