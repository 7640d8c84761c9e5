/**
 * `pnpm bench exchange [--count N] [--seconds S]`: secure messages end to end (seal, publish, consume, open,
 * contract and schema checks, idempotency, handler, signed receipt, ack, receipt verified by the sender)
 * beside a raw JetStream publish/consume of payloads of the same size, in the same run on the same
 * nats-server; for each crypto provider the runtime can use; then p50/p99 latency of the secure path at a
 * fixed 200 msg/s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { loadContracts } from '@passerelle/contracts';
import {
  type CryptoProvider,
  type ParticipantKeys,
  createNodeCryptoProvider,
  createStaticResolver,
  generateParticipantKeys,
  joseProvider,
  toPublicJwk,
} from '@passerelle/envelope';
import { type Exchange, connectExchange, connectNats, createLogger } from '@passerelle/exchange';
import { startNatsServer } from '@passerelle/testing';
import { machineLine, percentile } from './_util.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '10' } },
});
const COUNT = Number(values.count);
const RATE_SECONDS = Number(values.seconds);
const TYPE = 'application-submitted';
const root = join(import.meta.dirname, '..', '..');
const PROVIDERS: { name: string; provider: CryptoProvider; sender: string; receiver: string }[] = [
  { name: 'jose (default)', provider: joseProvider, sender: 'portal-bench-a', receiver: 'region-bruxelles' },
  {
    name: 'node-crypto',
    provider: createNodeCryptoProvider(),
    sender: 'portal-bench-b',
    receiver: 'region-wallonie',
  },
];

const payload = JSON.parse(
  readFileSync(join(root, 'schemas', 'examples', `${TYPE}.v1`, 'valid-ict-first-application.json'), 'utf8'),
) as unknown;
const payloadBytes = Buffer.byteLength(JSON.stringify(payload));

async function runConcurrent(
  count: number,
  width: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

async function until(predicate: () => Promise<boolean> | boolean): Promise<void> {
  while (!(await predicate())) await new Promise((r) => setTimeout(r, 20));
}

const server = await startNatsServer();
try {
  const keys = new Map<string, ParticipantKeys>();
  for (const p of PROVIDERS)
    for (const id of [p.sender, p.receiver]) keys.set(id, await generateParticipantKeys(id));
  const directory = createStaticResolver(
    [...keys].map(([participantId, k]) => ({
      participantId,
      signing: [toPublicJwk(k.signing)],
      encryption: k.encryption.map(toPublicJwk),
    })),
  );
  const contracts = await loadContracts({ root });

  // --- raw baseline: same payload size, JetStream publish + pull consume + ack, no security
  const nc = await connectNats({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'RAW', subjects: ['raw.>'] });
  await jsm.consumers.add('RAW', {
    durable_name: 'raw',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 1_024,
  });
  const js = jetstream(nc);
  const raw = new TextEncoder().encode(JSON.stringify(payload));
  const rawStart = performance.now();
  const rawConsumer = await js.consumers.get('RAW', 'raw');
  let rawSeen = 0;
  const rawDone = (async () => {
    const it = await rawConsumer.consume({ max_messages: 256 });
    for await (const m of it) {
      m.ack();
      if (++rawSeen >= COUNT) break;
    }
  })();
  await runConcurrent(COUNT, 32, (i) =>
    js.publish('raw.x', raw, { msgID: `raw-${i}` }).then(() => undefined),
  );
  await rawDone;
  const rawRate = COUNT / ((performance.now() - rawStart) / 1000);
  await nc.close();

  const rows: string[] = [];
  const latencyLines: string[] = [];
  for (const p of PROVIDERS) {
    const common = { directory, contracts, servers: server.url, provider: p.provider };
    const sender: Exchange = await connectExchange({
      ...common,
      participant: p.sender,
      keys: keys.get(p.sender)!,
      logger: createLogger(p.sender, { level: 'silent' }),
    });
    const receiver: Exchange = await connectExchange({
      ...common,
      participant: p.receiver,
      keys: keys.get(p.receiver)!,
      concurrency: 64,
      consumer: { maxAckPending: 1_024 },
      logger: createLogger(p.receiver, { level: 'silent' }),
    });
    let handled = 0;
    const latencies: number[] = [];
    receiver.subscribe({
      [TYPE]: async (m) => {
        handled++;
        // issuedAt is stamped when send() seals the message, just after its contract and schema checks.
        latencies.push(Date.now() - Date.parse(m.meta.issuedAt));
      },
    });
    const receipts = async (): Promise<number> =>
      (await sender.metrics.receiptsReceived.get()).values[0]?.value ?? 0;

    // Throughput with 32 sends in flight, measured until every receipt is verified by the sender.
    const start = performance.now();
    await runConcurrent(COUNT, 32, async () => {
      await sender.send(TYPE, payload, { to: p.receiver, dossierId: 'BENCH-DOSSIER' });
    });
    await until(async () => (await receipts()) >= COUNT);
    const rate = COUNT / ((performance.now() - start) / 1000);
    rows.push(
      `| secure, ${p.name}: seal → publish → open, contract, schema, idempotency, handler, signed receipt, ack, receipt verified | ${COUNT} | ${rate.toFixed(0)} | ${(rate / rawRate).toFixed(3)} |`,
    );

    // Fixed rate: 200 msg/s, latency from sealing to the handler.
    latencies.length = 0;
    const total = 200 * RATE_SECONDS;
    const rateStart = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const wait = rateStart + i * 5 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      pending.push(
        sender.send(TYPE, payload, { to: p.receiver, dossierId: 'BENCH-DOSSIER' }).then(() => undefined),
      );
    }
    await Promise.all(pending);
    await until(() => handled >= COUNT + total);
    latencyLines.push(
      `| ${p.name} | ${total} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} | ${Math.max(...latencies).toFixed(1)} |`,
    );
    await sender.close();
    await receiver.close();
  }

  console.log(
    [
      `### Exchange — ${new Date().toISOString().slice(0, 10)}`,
      '',
      `Command: \`pnpm bench exchange --count ${COUNT} --seconds ${RATE_SECONDS}\` · ${await machineLine()} · nats-server ${server.version} (one node, file storage); sender and receiver in one process.`,
      '',
      `Payload: \`${TYPE}\` example, ${payloadBytes} B of JSON.`,
      '',
      '| path | messages | rate (msg/s) | ratio to raw |',
      '| --- | ---: | ---: | ---: |',
      `| raw JetStream publish → pull consume → ack | ${COUNT} | ${rawRate.toFixed(0)} | 1.000 |`,
      ...rows,
      '',
      `Fixed rate 200 msg/s for ${RATE_SECONDS} s, latency from sealing to the handler (ms):`,
      '',
      '| provider | messages | p50 | p99 | max |',
      '| --- | ---: | ---: | ---: | ---: |',
      ...latencyLines,
    ].join('\n'),
  );
} finally {
  await server.stop();
}
