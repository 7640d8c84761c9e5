import { REGION_IDS, type ParticipantKind } from '@passerelle/directory';
import { stringify } from 'yaml';
import { bundleSchemas } from './bundle.js';
import type { Contracts } from './contracts.js';

const KIND_IDS: Record<ParticipantKind, { description: string; enum?: string[]; examples?: string[] }> = {
  'regional-authority': { description: 'A regional labour authority.', enum: [...REGION_IDS] },
  'immigration-office': { description: 'The Immigration Office.', enum: ['immigration-office'] },
  'consular-post': { description: 'A consular post: post-<code>.', examples: ['post-lagos'] },
  commune: { description: 'A commune: commune-<NIS code>.', examples: ['commune-21004', 'commune-63023'] },
  portal: { description: 'An integrator: portal-<name>.', examples: ['portal-wib'] },
  auditor: { description: 'The auditor.', enum: ['auditor'] },
};

function parameter(role: 'sender' | 'recipient', kind: ParticipantKind): Record<string, unknown> {
  const ids = KIND_IDS[kind];
  return {
    description: `${role === 'sender' ? 'Sender' : 'Recipient'} participant id. ${ids.description}`,
    ...(ids.enum ? { enum: ids.enum } : {}),
    ...(ids.examples ? { examples: ids.examples } : {}),
  };
}

/**
 * The AsyncAPI 3.0 document of the agreement: one channel per (type, sender kind, recipient kind) on
 * `pex.msg.<type>.{sender}.{recipient}`, the receipt channel `pex.rcpt.{sender}.{recipient}`, one message
 * per type whose payload is the type's schema, and send/receive operations per participant kind.
 *
 * @example
 * ```ts
 * writeFileSync('contracts/asyncapi.yaml', renderAsyncApi(await loadContracts()));
 * ```
 */
export function renderAsyncApi(contracts: Contracts): string {
  const agreement = contracts.agreement();
  const { schemas, payloads } = bundleSchemas(contracts, '#/components/schemas/');
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const info of contracts.types()) {
    const contract = agreement.messages[info.type]!;
    const payload = payloads[info.type];
    if (!payload) continue;
    messages[info.type] = {
      name: info.type,
      title: info.title,
      summary: `${info.title} (${info.article}).`,
      contentType: 'application/json',
      description:
        'The payload travels signed and encrypted inside the envelope { meta, jwe, seal }; meta.type is the ' +
        `message type and meta.schemaVersion ${info.latestVersion}.`,
      payload: { $ref: `#/components/schemas/${payload}` },
      'x-article': info.article,
      'x-receipt-required': info.receiptRequired,
      'x-retention-days': info.retentionDays,
      'x-personal-data': contract.personalData,
    };

    if (info.channel === 'receipt') {
      const id = 'receipt';
      channels[id] = {
        address: 'pex.rcpt.{sender}.{recipient}',
        title: 'Signed receipts',
        description: 'A receipt goes from the recipient of a message back to its sender.',
        parameters: {
          sender: { description: 'Participant id of the receipt sender (the recipient of the message).' },
          recipient: { description: 'Participant id of the sender of the acknowledged message.' },
        },
        messages: { [info.type]: { $ref: `#/components/messages/${info.type}` } },
      };
      for (const kind of info.senders) {
        operations[`${kind}.send.${info.type}`] = {
          action: 'send',
          title: `A ${kind} sends receipts`,
          channel: { $ref: `#/channels/${id}` },
          messages: [{ $ref: `#/channels/${id}/messages/${info.type}` }],
        };
      }
      for (const rule of contract.recipients) {
        operations[`${rule.kind}.receive.${info.type}`] = {
          action: 'receive',
          title: `A ${rule.kind} receives receipts`,
          channel: { $ref: `#/channels/${id}` },
          messages: [{ $ref: `#/channels/${id}/messages/${info.type}` }],
        };
      }
      continue;
    }

    for (const sender of info.senders) {
      for (const rule of contract.recipients) {
        const id = `${info.type}.${sender}.${rule.kind}`;
        channels[id] = {
          address: `pex.msg.${info.type}.{sender}.{recipient}`,
          title: `${info.title}: ${sender} to ${rule.kind}`,
          parameters: { sender: parameter('sender', sender), recipient: parameter('recipient', rule.kind) },
          messages: { [info.type]: { $ref: `#/components/messages/${info.type}` } },
          'x-projection': rule.projection,
          ...(rule.when ? { 'x-when': rule.when } : {}),
        };
        const ref = [{ $ref: `#/channels/${id}/messages/${info.type}` }];
        operations[`${sender}.send.${info.type}.to.${rule.kind}`] = {
          action: 'send',
          title: `A ${sender} sends ${info.type} to a ${rule.kind}`,
          channel: { $ref: `#/channels/${id}` },
          messages: ref,
        };
        operations[`${rule.kind}.receive.${info.type}.from.${sender}`] = {
          action: 'receive',
          title: `A ${rule.kind} receives ${info.type} from a ${sender}`,
          channel: { $ref: `#/channels/${id}` },
          messages: ref,
        };
      }
    }
  }

  const document = {
    asyncapi: '3.0.0',
    info: {
      title: 'Passerelle exchange',
      version: `${agreement.version}.0.0`,
      description:
        'Messages of the Belgian single-permit procedure between regional labour authorities, the Immigration ' +
        'Office, consular posts, communes and integrators. Generated from contracts/exchange.yaml and schemas/ ' +
        'by `pnpm gen:contracts`; do not edit. Each recipient receives its projection of the payload (x-projection).',
      license: { name: 'EUPL-1.2' },
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: 'localhost:4222',
        protocol: 'nats',
        description:
          'Development nats-server with JetStream (stream EXCHANGE covers pex.msg.> and pex.rcpt.>).',
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
  return `# Generated by scripts/gen-contracts.ts from contracts/exchange.yaml and schemas/. Do not edit.\n${stringify(document, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
