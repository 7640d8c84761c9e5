/**
 * A service in its own process, for the crash test: `node --import tsx secure-service-process.ts <fixture.json>`.
 * Connects with its credentials file (provision: false) and applies each visa to the dossier state in its
 * KV bucket through DossierStore (compare-and-set, applied ids), as the real services do.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { Kvm } from '@nats-io/kv';
import { loadContracts } from '@passerelle/contracts';
import type { KeyResolver, ParticipantKeys, PublicJwk } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import { connectExchange, createLogger, loadCredentials } from '@passerelle/exchange';
import { DossierStore } from '@passerelle/procedure';

interface ServiceFixture {
  root: string;
  credentialsFile: string;
  keys: ParticipantKeys;
  publics: Record<string, { sig: PublicJwk; enc: PublicJwk }>;
  bucket: string;
  appliedFile: string;
  ackWaitMs: number;
}

/** The state the test checks: how many visas were applied, and which. */
export interface VisaState {
  visas: number;
  ids: string[];
}

const fx = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as ServiceFixture;
const resolver: KeyResolver = {
  resolve(id, use) {
    const k = fx.publics[id]?.[use];
    return k
      ? Promise.resolve(k)
      : Promise.reject(new PasserelleError('ERR_UNKNOWN_SENDER', `unknown ${id}`));
  },
};
const credentials = await loadCredentials(fx.credentialsFile);
const exchange = await connectExchange({
  participant: credentials.participant,
  keys: fx.keys,
  directory: resolver,
  contracts: await loadContracts({ root: fx.root }),
  servers: credentials.servers,
  connection: credentials.connection,
  ...(credentials.accounts ? { exchangeApiPrefix: credentials.accounts.exchangeApiPrefix } : {}),
  provision: false,
  consumer: { ackWaitMs: fx.ackWaitMs },
  logger: createLogger(credentials.participant, { level: 'silent' }),
});
const store = new DossierStore<VisaState>(await new Kvm(exchange.nc).open(fx.bucket));
exchange.subscribe({
  'visa-issued': async (m) => {
    await store.apply(
      credentials.participant,
      m.meta.dossierId,
      m.meta.id,
      (cur) => ({ state: { visas: (cur?.visas ?? 0) + 1, ids: [...(cur?.ids ?? []), m.meta.id] } }),
      async () => undefined,
    );
    appendFileSync(fx.appliedFile, `${m.meta.id}\n`);
  },
});
console.log('consuming');
