/**
 * A consumer in its own process, for the crash test: `node --import tsx consumer-process.ts <fixture.json> <mode>`.
 * Mode `hang`: the handler records that it started, then never returns (the test kills the process).
 * Mode `normal`: the handler appends the message id to the effects file.
 * Mode `traced`: the same, followed by this process's pid (which process ran it).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { loadContracts } from '@passerelle/contracts';
import type { KeyResolver, ParticipantKeys, PublicJwk } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import { connectExchange, createLogger } from '../src/index.js';

interface ProcessFixture {
  server: string | string[];
  /** Stream and bucket replicas (3 on a cluster). */
  replicas?: number;
  root: string;
  participant: string;
  keys: ParticipantKeys;
  publics: Record<string, { sig: PublicJwk; enc: PublicJwk }>;
  startedFile: string;
  effectsFile: string;
  ackWaitMs: number;
}

const [file, mode] = process.argv.slice(2) as [string, 'hang' | 'normal' | 'traced'];
const fx = JSON.parse(readFileSync(file, 'utf8')) as ProcessFixture;
const resolver: KeyResolver = {
  resolve(id, use) {
    const k = fx.publics[id]?.[use];
    return k
      ? Promise.resolve(k)
      : Promise.reject(new PasserelleError('ERR_UNKNOWN_SENDER', `unknown ${id}`));
  },
};
const exchange = await connectExchange({
  participant: fx.participant,
  keys: fx.keys,
  directory: resolver,
  contracts: await loadContracts({ root: fx.root }),
  servers: fx.server,
  ...(fx.replicas ? { replicas: fx.replicas } : {}),
  // a node that dies is not the end: the client goes to the others, and back, for as long as it takes
  connection: { maxReconnectAttempts: -1, reconnectTimeWait: 250 },
  consumer: { ackWaitMs: fx.ackWaitMs },
  logger: createLogger(fx.participant, { level: 'silent' }),
});
exchange.subscribe(async (m) => {
  if (mode === 'hang') {
    appendFileSync(fx.startedFile, `${m.meta.id}\n`);
    await new Promise(() => undefined);
  }
  appendFileSync(fx.effectsFile, mode === 'traced' ? `${m.meta.id} ${process.pid}\n` : `${m.meta.id}\n`);
});
console.log('consuming');
