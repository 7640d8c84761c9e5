/**
 * The receiving participant of `pnpm bench exchange`, in its own process as in a deployment (each
 * administration runs its own service). Started by exchange.ts with a JSON settings file; reports on IPC.
 */
import { readFileSync } from 'node:fs';
import { loadContracts } from '@passerelle/contracts';
import {
  type ParticipantKeys,
  type ParticipantPublicKeys,
  createNodeCryptoProvider,
  createStaticResolver,
  joseProvider,
} from '@passerelle/envelope';
import { connectExchange, createLogger } from '@passerelle/exchange';

/** The providers exchange.ts compares, by the key it passes in the settings. */
export type ProviderKey = 'jose' | 'node-crypto' | 'node-crypto-inline';

interface ReceiverSettings {
  server: string;
  root: string;
  type: string;
  provider: ProviderKey;
  keys: ParticipantKeys;
  publics: ParticipantPublicKeys[];
}

const settings = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as ReceiverSettings;
const receiver = await connectExchange({
  participant: settings.keys.participantId,
  keys: settings.keys,
  directory: createStaticResolver(settings.publics),
  contracts: await loadContracts({ root: settings.root }),
  servers: settings.server,
  provider: {
    jose: joseProvider,
    'node-crypto': createNodeCryptoProvider({ signatures: 'thread-pool' }),
    'node-crypto-inline': createNodeCryptoProvider({ signatures: 'inline' }),
  }[settings.provider],
  concurrency: 64,
  consumer: { maxAckPending: 1_024 },
  logger: createLogger(settings.keys.participantId, { level: 'silent' }),
});
let handled = 0;
let latencies: number[] = [];
receiver.subscribe({
  [settings.type]: async (m) => {
    handled++;
    // issuedAt is stamped when the sender seals the message, after its contract and schema checks.
    latencies.push(Date.now() - Date.parse(m.meta.issuedAt));
  },
});
process.on('message', (msg: { cmd: string }) => {
  if (msg.cmd === 'handled') process.send?.({ handled });
  if (msg.cmd === 'latencies') {
    process.send?.({ latencies });
    latencies = [];
  }
  if (msg.cmd === 'stop') void receiver.close().then(() => process.exit(0));
});
process.send?.({ ready: true });
