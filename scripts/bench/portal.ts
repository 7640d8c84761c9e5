/**
 * `pnpm bench portal [--rounds N]`: the cost of the portal's document encryption. Stores documents of
 * 100 KiB and 5 MiB in the JetStream Object Store through `DocumentStore` (AES-256-GCM, streamed, plus the
 * reference MAC) beside a plain object-store put of the same bytes in the same chunks, and reads them back
 * (`DocumentStore.read`: decrypt and SHA-256 check, against a plain `getBlob`), on the same nats-server.
 */
import { randomBytes } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { connectNats } from '@passerelle/exchange';
import { startNatsServer } from '@passerelle/testing';
import { type DocumentRef, DocumentStore } from '@passerelle/documents';
import { benchArgs, machineLine } from './_util.js';

const { rounds: ROUNDS } = benchArgs({ rounds: 20 });
const CHUNK = 64 * 1024;

async function* chunks(data: Buffer): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += CHUNK) yield data.subarray(i, i + CHUNK);
}

function stream(data: Buffer): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= data.length) return controller.close();
      controller.enqueue(data.subarray(offset, offset + CHUNK));
      offset += CHUNK;
    },
  });
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const server = await startNatsServer();
const rows: string[] = [];
try {
  const nc = await connectNats({ servers: server.url });
  const docs = await DocumentStore.open(nc, { bucket: 'bench-encrypted' });
  const plain = await new Objm(nc).create('bench-plain');
  for (const size of [100 * 1024, 5 * 1024 * 1024]) {
    const data = randomBytes(size);
    const refs: DocumentRef[] = [];
    let encPut = 0;
    let plainPut = 0;
    let encRead = 0;
    let plainRead = 0;
    // Alternate the two so server warm-up and disk state hit both alike.
    for (let r = 0; r < ROUNDS; r++) {
      encPut += await time(async () => {
        refs.push(
          await docs.put({
            owner: 'bench',
            mediaType: 'application/pdf',
            body: chunks(data),
            maxBytes: 50 * 1024 * 1024,
          }),
        );
      });
      plainPut += await time(async () => {
        await plain.put({ name: `plain-${size}-${r}` }, stream(data));
      });
    }
    for (let r = 0; r < ROUNDS; r++) {
      encRead += await time(async () => {
        await docs.read(refs[r] as DocumentRef);
      });
      plainRead += await time(async () => {
        await plain.getBlob(`plain-${size}-${r}`);
      });
    }
    const mibs = (ms: number): string => ((size * ROUNDS) / 2 ** 20 / (ms / 1000)).toFixed(1);
    const label = size >= 2 ** 20 ? `${size / 2 ** 20} MiB` : `${size / 1024} KiB`;
    rows.push(
      `| ${label} | put | ${mibs(plainPut)} MiB/s | ${mibs(encPut)} MiB/s | ${(encPut / plainPut).toFixed(2)}× |`,
      `| ${label} | read | ${mibs(plainRead)} MiB/s | ${mibs(encRead)} MiB/s | ${(encRead / plainRead).toFixed(2)}× |`,
    );
  }
  await nc.close();
} finally {
  await server.stop();
}

console.log(
  `### portal documents (${ROUNDS} rounds per size; ${await machineLine()}; nats-server ${server.version})\n`,
);
console.log('| size | operation | plain object store | encrypted (DocumentStore) | time ratio |');
console.log('| --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
