/**
 * `pnpm bench soak [--seconds 60] [--rate 100] [--window 10]`: a bounded soak of the secured exchange.
 * One nats-server with infra/nats/secure.conf (mutual TLS, operator mode, one account per participant); a sender and
 * a receiver connected with their credentials files and `provision: false` exchange sealed messages at a
 * fixed rate (each handled, receipted, the receipt verified), while a raw JetStream publisher/consumer on
 * the same server, same TLS, same rate and same message size runs beside it as the baseline. Every window
 * reports, for both paths, messages handled and p50/p99 latency from send to handler, and the resident
 * memory of the benchmark process and of nats-server — so a leak or a latency drift shows as a trend.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { headers } from '@nats-io/transport-node';
import { loadContracts, exampleFolder } from '@passerelle/contracts';
import {
  createStaticResolver,
  generateParticipantKeys,
  toPublicJwk,
  publicKeysOf,
} from '@passerelle/envelope';
import { loadCredentials } from '@passerelle/exchange';
import {
  connectOnCredentials,
  connectOperator,
  prepareSecureDeployment,
  provisionSecure,
  startSecureServer,
} from '../secure-exchange.js';
import { benchArgs, machineLine, percentile, rawStream } from './_util.js';

const { seconds: SECONDS, rate: RATE, window: WINDOW } = benchArgs({ seconds: 60, rate: 100, window: 10 });
const SENDER = 'post-ankara';
const RECEIVER = 'immigration-office';
const TYPE = 'visa-issued';
const root = join(import.meta.dirname, '..', '..');
const examples = exampleFolder(root, TYPE);
const exampleFile = (await import('node:fs'))
  .readdirSync(examples)
  .filter((f) => f.startsWith('valid-'))
  .sort()[0]!;
const payload = JSON.parse(readFileSync(join(examples, exampleFile), 'utf8')) as unknown;

function serverRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 'NaN');
  return kb / 1024;
}

interface Window {
  secure: number[];
  raw: number[];
  clientRssMb: number;
  serverRssMb: number;
}

const home = mkdtempSync(join(tmpdir(), 'passerelle-soak-'));
const deployment = await prepareSecureDeployment({ dir: join(home, 'secure') });
const server = await startSecureServer(deployment);
try {
  await deployment.writeCredentials([server.url]);
  await provisionSecure(deployment, server.url, { participants: [SENDER, RECEIVER] });
  const keys = new Map([
    [SENDER, await generateParticipantKeys(SENDER)],
    [RECEIVER, await generateParticipantKeys(RECEIVER)],
  ]);
  const directory = createStaticResolver([...keys.values()].map(publicKeysOf));
  const contracts = await loadContracts({ root });
  const open = async (id: string) =>
    connectOnCredentials(await loadCredentials(deployment.credentialsFile(id)), id, keys.get(id)!, {
      directory,
      contracts,
      concurrency: 32,
      logLevel: 'silent',
    });

  const sender = await open(SENDER);
  const receiver = await open(RECEIVER);

  // Raw baseline: same server, same TLS, a message of the sealed envelope's size.
  const sample = JSON.stringify(
    await (
      await import('@passerelle/envelope')
    ).sealEnvelope({
      meta: {
        id: '00000000-0000-7000-8000-000000000000',
        type: TYPE,
        schemaVersion: 1,
        sender: SENDER,
        recipient: RECEIVER,
        dossierId: 'soak-sample',
        issuedAt: new Date().toISOString(),
        correlationId: 'soak',
        causationId: null,
      },
      payload,
      sender: keys.get(SENDER)!,
      recipientKey: toPublicJwk(keys.get(RECEIVER)!.encryption[0]!),
    }),
  );
  const rawBody = new TextEncoder().encode(sample);
  const op = await connectOperator(deployment, server.url);
  const { js, consumer } = await rawStream(op, 'SOAKRAW', ['soak.raw']);

  const windows: Window[] = [];
  const started = performance.now();
  const windowOf = (): Window => {
    const i = Math.min(
      Math.floor((performance.now() - started) / 1000 / WINDOW),
      Math.ceil(SECONDS / WINDOW) - 1,
    );
    while (windows.length <= i) windows.push({ secure: [], raw: [], clientRssMb: 0, serverRssMb: 0 });
    return windows[i]!;
  };
  receiver.subscribe({
    [TYPE]: async (m) => void windowOf().secure.push(Date.now() - Date.parse(m.meta.issuedAt)),
  });
  const rawMessages = await consumer.consume({ max_messages: 256 });
  const rawLoop = (async () => {
    for await (const m of rawMessages) {
      windowOf().raw.push(Date.now() - Number(m.headers?.get('Soak-Sent-At')));
      m.ack();
    }
  })();
  const sampler = setInterval(() => {
    const w = windowOf();
    w.clientRssMb = Math.max(w.clientRssMb, process.memoryUsage().rss / 2 ** 20);
    w.serverRssMb = Math.max(w.serverRssMb, serverRssMb(server.pid));
  }, 1_000);

  const total = Math.round(RATE * SECONDS);
  const pending = new Set<Promise<unknown>>();
  let failed = 0;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const h = headers();
    h.set('Soak-Sent-At', String(Date.now()));
    const both = Promise.all([
      sender.send(TYPE, payload, { to: RECEIVER, dossierId: `soak-dossier-${i % 1000}` }),
      js.publish('soak.raw', rawBody, { headers: h, msgID: `raw-${i}` }),
    ]).catch(() => void failed++);
    pending.add(both);
    void both.finally(() => pending.delete(both));
  }
  await Promise.all(pending);
  const drainDeadline = Date.now() + 30_000;
  const count = (k: 'secure' | 'raw'): number => windows.reduce((n, w) => n + w[k].length, 0);
  while ((count('secure') < total - failed || count('raw') < total - failed) && Date.now() < drainDeadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  clearInterval(sampler);
  rawMessages.stop();
  await rawLoop;
  const unreceipted = (await sender.unreceipted(0)).length;

  const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '—');
  const lines = [
    `### Soak of the secured exchange — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Command: \`pnpm bench soak --seconds ${SECONDS} --rate ${RATE} --window ${WINDOW}\` · ${await machineLine()} · ` +
      `nats-server ${server.version}, one node, infra/nats/secure.conf (mutual TLS, operator mode, one account per participant)`,
    '',
    `${RATE} msg/s of \`${TYPE}\` (${rawBody.length} B sealed) from ${SENDER} to ${RECEIVER} for ${SECONDS} s, ` +
      `and in the same run the raw baseline: JetStream publish → pull consume → ack of ${rawBody.length} B bodies at the same rate, ` +
      'same server and TLS, operator identity. Latency: send to handler (secure), publish to consume (raw).',
    '',
    '| window | secure handled | secure p50 ms | secure p99 ms | raw handled | raw p99 ms | p99 ratio | bench RSS MB | nats-server RSS MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...windows.map((w, i) => {
      const sp99 = percentile(w.secure, 99);
      const rp99 = percentile(w.raw, 99);
      return `| ${i * WINDOW}–${Math.min((i + 1) * WINDOW, SECONDS)} s | ${w.secure.length} | ${fmt(percentile(w.secure, 50))} | ${fmt(sp99)} | ${w.raw.length} | ${fmt(rp99)} | ${fmt(sp99 / rp99)} | ${w.clientRssMb.toFixed(0)} | ${w.serverRssMb.toFixed(0)} |`;
    }),
    '',
    `Sent ${total}, handled ${count('secure')} (secure) and ${count('raw')} (raw); ${failed} sends failed; ` +
      `${unreceipted} sent without a verified receipt at the end. Whole run: secure p99 ${fmt(
        percentile(
          windows.flatMap((w) => w.secure),
          99,
        ),
      )} ms, ` +
      `raw p99 ${fmt(
        percentile(
          windows.flatMap((w) => w.raw),
          99,
        ),
      )} ms.`,
  ];
  console.log(lines.join('\n'));
  await sender.close();
  await receiver.close();
  await op.close();
} finally {
  await server.stop();
  rmSync(home, { recursive: true, force: true });
}
