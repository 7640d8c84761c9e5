/**
 * `pnpm bench exchange [--count N] [--seconds S]`: secure messages end to end (seal, publish, consume, open,
 * contract and schema checks, idempotency, handler, signed receipt, ack, receipt verified by the sender)
 * beside a raw JetStream publish/consume of payloads of the same size, in the same run on the same
 * nats-server; then p50/p99 latency of the secure path at a fixed 200 msg/s.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { loadContracts } from '@passerelle/contracts';
import {
  type KeyResolver,
  type ParticipantKeys,
  generateParticipantKeys,
  toPublicJwk,
} from '@passerelle/envelope';
import { PasserelleError } from '@passerelle/errors';
import { connectExchange, connectNats, createLogger } from '@passerelle/exchange';
import { startNatsServer } from '@passerelle/testing';
import { machineLine, percentile } from './_util.js';

const { values } = parseArgs({
  options: { count: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '10' } },
});
const COUNT = Number(values.count);
const RATE_SECONDS = Number(values.seconds);
const SENDER = 'portal-bench';
const RECEIVER = 'region-bruxelles';
const TYPE = 'application-submitted';
const root = join(import.meta.dirname, '..', '..');

const payload = JSON.parse(
  readFileSync(join(root, 'schemas', 'examples', `${TYPE}.v1`, 'valid-ict-first-application.json'), 'utf8'),
) as unknown;
const payloadBytes = Buffer.byteLength(JSON.stringify(payload));

const server = await startNatsServer();
try {
  const keys = new Map<string, ParticipantKeys>();
  for (const id of [SENDER, RECEIVER]) keys.set(id, await generateParticipantKeys(id));
  const directory: KeyResolver = {
    resolve(id, use) {
      const k = keys.get(id);
      if (!k) return Promise.reject(new PasserelleError('ERR_UNKNOWN_SENDER', `unknown ${id}`));
      return Promise.resolve(toPublicJwk(use === 'sig' ? k.signing : k.encryption[0]!));
    },
  };
  const contracts = await loadContracts({ root });
  const common = { directory, contracts, servers: server.url };
  const sender = await connectExchange({
    ...common,
    participant: SENDER,
    keys: keys.get(SENDER)!,
    logger: createLogger(SENDER, { level: 'silent' }),
  });
  const receiver = await connectExchange({
    ...common,
    participant: RECEIVER,
    keys: keys.get(RECEIVER)!,
    concurrency: 64,
    consumer: { maxAckPending: 1_024 },
    logger: createLogger(RECEIVER, { level: 'silent' }),
  });

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

  // --- secure path: throughput with 32 sends in flight, measured until every receipt is verified
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
  const secureStart = performance.now();
  await runConcurrent(COUNT, 32, async () => {
    await sender.send(TYPE, payload, { to: RECEIVER, dossierId: 'BENCH-DOSSIER' });
  });
  while ((await receipts()) < COUNT) await new Promise((r) => setTimeout(r, 20));
  const secureRate = COUNT / ((performance.now() - secureStart) / 1000);

  // --- fixed rate: 200 msg/s, latency from send() to handler
  latencies.length = 0;
  const total = 200 * RATE_SECONDS;
  const rateStart = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = rateStart + i * 5;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      sender.send(TYPE, payload, { to: RECEIVER, dossierId: 'BENCH-DOSSIER' }).then(() => undefined),
    );
  }
  await Promise.all(pending);
  while (handled < COUNT + total) await new Promise((r) => setTimeout(r, 20));

  const lines = [
    `### Exchange — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Command: \`pnpm bench exchange --count ${COUNT} --seconds ${RATE_SECONDS}\` · ${await machineLine()} · nats-server ${server.version} (one node, file storage)`,
    '',
    `Payload: \`${TYPE}\` example, ${payloadBytes} B of JSON (envelope on the wire ≈ ${Math.round(payloadBytes * 1.4 + 1500)} B).`,
    '',
    '| path | messages | rate (msg/s) | ratio to raw |',
    '| --- | ---: | ---: | ---: |',
    `| raw JetStream publish → pull consume → ack | ${COUNT} | ${rawRate.toFixed(0)} | 1.00 |`,
    `| secure: seal → publish → open, contract, schema, idempotency, handler, signed receipt, ack, receipt verified | ${COUNT} | ${secureRate.toFixed(0)} | ${(secureRate / rawRate).toFixed(3)} |`,
    '',
    `Fixed rate 200 msg/s for ${RATE_SECONDS} s (${total} messages), latency from sealing to the handler: ` +
      `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms ` +
      `(${latencies.length} samples).`,
  ];
  console.log(lines.join('\n'));
  await sender.close();
  await receiver.close();
  await nc.close();
} finally {
  await server.stop();
}

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
