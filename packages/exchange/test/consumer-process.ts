/**
 * A consumer in its own process, for the crash test: `node --import tsx consumer-process.ts <fixture.json> <mode>`.
 * Mode `hang`: the handler records that it started, then never returns (the test kills the process).
 * Mode `normal`: the handler appends the message id to the effects file.
 * Mode `traced`: the same, followed by this process's pid (which process ran it).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { loadContracts } from '@passerelle/contracts';
import { createStaticResolver } from '@passerelle/envelope';
import { connectExchange, createLogger } from '../src/index.js';
import type { ProcessFixture } from './process-fixture.js';

const [file, mode] = process.argv.slice(2) as [string, 'hang' | 'normal' | 'traced'];
const fx = JSON.parse(readFileSync(file, 'utf8')) as ProcessFixture;
const exchange = await connectExchange({
  participant: fx.participant,
  keys: fx.keys,
  directory: createStaticResolver(fx.publics),
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
