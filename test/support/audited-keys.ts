import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Contracts } from '@passerelle/contracts';
import {
  type KeyResolver,
  type ParticipantKeys,
  type PrivateJwk,
  createStaticResolver,
  generateKey,
  generateParticipantKeys,
  publicKeysOf,
  toPublicJwk,
} from '@passerelle/envelope';
import {
  type Exchange,
  type ExchangeOptions,
  connectExchange,
  connectNats,
  createLogger,
} from '@passerelle/exchange';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll } from 'vitest';
import { startedHandle } from './handle.js';

/** Two participants' keys, the auditor's signing key, and a resolver that knows the three. */
export interface AuditedKeys {
  post: ParticipantKeys;
  office: ParticipantKeys;
  auditor: PrivateJwk;
  resolver: KeyResolver;
}

/** Real keys for a post and the Office, and for an auditor that signs only (it can decrypt nothing). */
export async function auditedKeys(postId: string, officeId: string): Promise<AuditedKeys> {
  const [post, office] = await Promise.all([
    generateParticipantKeys(postId),
    generateParticipantKeys(officeId),
  ]);
  const auditor = await generateKey('sig', { kid: 'auditor-sig-1' });
  const resolver = createStaticResolver([
    publicKeysOf(post),
    publicKeysOf(office),
    { participantId: 'auditor', signing: [toPublicJwk(auditor)], encryption: [] },
  ]);
  return { post, office, auditor, resolver };
}

/** A plain nats-server, a connection to it with its JetStream manager, and audited keys (`auditedKeys`). */
export interface AuditedNats extends AuditedKeys {
  url: string;
  nc: NatsConnection;
  jsm: JetStreamManager;
  /** Connects the participant of `keys` to the server under `contracts`, logging nothing. */
  connect(keys: ParticipantKeys, contracts: Contracts, extra?: Partial<ExchangeOptions>): Promise<Exchange>;
}

/** An `AuditedNats` around the tests of the enclosing `describe`, started before them and closed after. */
export function useAuditedNats(postId: string, officeId: string): AuditedNats {
  const nats = useNatsServer();
  let started: AuditedNats | undefined;
  beforeAll(async () => {
    const nc = await connectNats({ servers: nats.url });
    const jsm = await jetstreamManager(nc, { timeout: 30_000 });
    const keys = await auditedKeys(postId, officeId);
    started = {
      ...keys,
      url: nats.url,
      nc,
      jsm,
      connect: (participant, contracts, extra = {}) =>
        connectExchange({
          participant: participant.participantId,
          keys: participant,
          directory: keys.resolver,
          contracts,
          servers: nats.url,
          logger: createLogger(participant.participantId, { level: 'silent' }),
          ...extra,
        }),
    };
  });
  afterAll(async () => {
    await started?.nc.close();
  });
  return startedHandle(() => started, 'the nats-server of the scenario');
}

/** A `visa-issued` payload whose number marks it. */
export const visa = (visaNumber: string) => ({
  visaType: 'D',
  visaNumber,
  issuedOn: '2026-12-18',
  validity: { from: '2026-12-20', to: '2027-06-19' },
});
