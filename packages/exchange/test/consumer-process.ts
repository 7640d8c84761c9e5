/**
 * A consumer in its own process, for the crash test: `node --import tsx consumer-process.ts <fixture.json> <mode>`.
 * Mode `hang`: the handler records that it started, then never returns (the test kills the process).
 * Mode `normal`: the handler appends the message id to the effects file.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { loadContracts } from '@passerelle/contracts';
import type { KeyResolver, ParticipantKeys, PublicJwk } from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import { connectExchange, createLogger } from '../src/index.js';

interface ProcessFixture {
  server: string;
  root: string;
  participant: string;
  keys: ParticipantKeys;
  publics: Record<string, { sig: PublicJwk; enc: PublicJwk }>;
  startedFile: string;
  effectsFile: string;
  ackWaitMs: number;
}

const [file, mode] = process.argv.slice(2) as [string, 'hang' | 'normal'];
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
  consumer: { ackWaitMs: fx.ackWaitMs },
  logger: createLogger(fx.participant, { level: 'silent' }),
});
exchange.subscribe(async (m) => {
  if (mode === 'hang') {
    appendFileSync(fx.startedFile, `${m.meta.id}\n`);
    await new Promise(() => undefined);
  }
  appendFileSync(fx.effectsFile, `${m.meta.id}\n`);
});
console.log('consuming');
