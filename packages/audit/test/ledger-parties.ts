import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type EnvelopeMeta,
  type KeyResolver,
  type ParticipantKeys,
  createStaticResolver,
  generateKey,
  generateParticipantKeys,
  newMessageId,
  publicKeysOf,
  sealEnvelope,
  toPublicJwk,
} from '@passerelle/envelope';
import { connectNats } from '@passerelle/exchange';
import type { PrivateJwk, PublicJwk } from '../src/keys.js';
import { readLedger } from '../src/reader.js';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll } from 'vitest';

/** The parties of the ledger tests: an office and a region that exchange, and the auditor that seals. */
export interface LedgerParties {
  nc: NatsConnection;
  jsm: JetStreamManager;
  office: ParticipantKeys;
  region: ParticipantKeys;
  auditor: PrivateJwk;
  /** Knows the public keys of all three. */
  resolver: KeyResolver;
}

/** Connects to the server at `url` and makes fresh keys for the office, the region and the auditor. */
export async function connectLedgerParties(url: string): Promise<LedgerParties> {
  const nc = await connectNats({ servers: url });
  const jsm = await jetstreamManager(nc, { timeout: 30_000 });
  const [office, region] = await Promise.all([
    generateParticipantKeys('immigration-office'),
    generateParticipantKeys('region-bruxelles'),
  ]);
  const auditor = await generateKey('sig', { kid: 'auditor-sig-1' });
  const resolver = createStaticResolver([
    ...[office, region].map(publicKeysOf),
    { participantId: 'auditor', signing: [toPublicJwk(auditor)], encryption: [] },
  ]);
  return { nc, jsm, office, region, auditor, resolver };
}

/** What a test may set on an envelope; the rest is a plain residence decision. */
export interface EnvelopeChoice {
  type?: string;
  dossierId?: string;
  correlationId?: string;
  payload?: Record<string, unknown>;
}

/** A sealed envelope from `from` to `to`, serialized as the exchange carries it. */
export async function sealedEnvelope(
  from: ParticipantKeys,
  to: ParticipantKeys,
  choice: EnvelopeChoice = {},
): Promise<string> {
  const meta: EnvelopeMeta = {
    id: newMessageId(),
    type: choice.type ?? 'residence-decided',
    schemaVersion: 1,
    sender: from.participantId,
    recipient: to.participantId,
    dossierId: choice.dossierId ?? 'DOS-2026-000001',
    issuedAt: new Date().toISOString(),
    correlationId: choice.correlationId ?? 'corr-1',
    causationId: null,
  };
  const env = await sealEnvelope({
    meta,
    payload: choice.payload ?? { decision: 'granted' },
    sender: from,
    recipientKey: toPublicJwk(to.encryption[0] as PublicJwk),
  });
  return JSON.stringify(env);
}

/** Every line LEDGER holds, in order. */
export async function storedLedger(nc: NatsConnection): Promise<string[]> {
  const out: string[] = [];
  for await (const m of readLedger(nc)) out.push(Buffer.from(m.data).toString('utf8'));
  return out;
}

/** The live tail of LEDGER as the archive verifier reads it: the raw entries from `from` on. */
export const liveLedger = (nc: NatsConnection) =>
  async function* (from: number): AsyncGenerator<Uint8Array> {
    for await (const m of readLedger(nc, { from })) yield m.data;
  };

/**
 * Starts a NATS server for the suite and the parties on it: the fields are set before the first test
 * and the connection closed after the last.
 */
export function useLedgerParties(): LedgerParties {
  const nats = useNatsServer();
  const parties = {} as LedgerParties;
  beforeAll(async () => {
    Object.assign(parties, await connectLedgerParties(nats.url));
  }, 60_000);
  afterAll(async () => {
    await parties.nc?.close();
  });
  return parties;
}
