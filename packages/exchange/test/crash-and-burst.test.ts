import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, describe, expect, test, vi } from 'vitest';
import type { Exchange } from '../src/index.js';
import { OE, POST, connectParticipant, example, sendVisa, useFixture } from './fixtures.js';
import { startConsumerProcess, writeProcessFixture } from './process-fixture.js';

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('exchange under failure and load', () => {
  const nats = useNatsServer();
  const fx = useFixture([POST, OE]);
  const dir = mkdtempSync(join(tmpdir(), 'passerelle-crash-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const connect = (participant: string): Promise<Exchange> => connectParticipant(fx, nats.url, participant);

  test('exchange - a consumer killed with SIGKILL mid-handler handles the message once after restart', async () => {
    const fixtureFile = join(dir, 'fixture.json');
    const startedFile = join(dir, 'started.log');
    const effectsFile = join(dir, 'effects.log');
    writeProcessFixture(fixtureFile, fx, OE, {
      server: nats.url,
      startedFile,
      effectsFile,
      ackWaitMs: 2_000,
    });

    const post = await connect(POST);
    try {
      const first = await startConsumerProcess(fixtureFile, 'hang');
      const sent = await sendVisa(post, 'DOSSIER-KILL');
      await vi.waitUntil(() => lines(startedFile).includes(sent.id), { timeout: 15_000, interval: 50 });
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));

      const second = await startConsumerProcess(fixtureFile, 'normal');
      try {
        const receipt = await post.awaitReceipt(sent.id, 30_000);
        expect(receipt.receiver).toBe(OE);
        await new Promise((r) => setTimeout(r, 3_000)); // one more ack_wait: no second effect may follow
        expect(lines(effectsFile).filter((id) => id === sent.id)).toHaveLength(1);
      } finally {
        second.kill('SIGTERM');
      }
    } finally {
      await post.close();
    }
  }, 90_000);

  test('exchange - a burst of 10 000 messages is handled completely with bounded memory', async () => {
    const COUNT = 10_000;
    const post = await connect(POST);
    const oe = await connect(OE);
    const seen = new Set<string>();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    try {
      oe.subscribe({ 'visa-issued': async (m) => void seen.add(m.meta.id) });
      const payload = example('visa-issued');
      const ids: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < COUNT) {
            next++;
            const [sent] = await post.send('visa-issued', payload, { to: OE, dossierId: 'DOSSIER-BURST' });
            ids.push(sent!.id);
          }
        }),
      );
      await vi.waitUntil(() => seen.size >= COUNT, { timeout: 240_000, interval: 50 });
      expect(ids.every((id) => seen.has(id))).toBe(true);
      // Every message also gets its signed receipt back, verified by the sender.
      await vi.waitUntil(
        async () => ((await post.metrics.receiptsReceived.get()).values[0]?.value ?? 0) >= COUNT,
        { timeout: 120_000, interval: 50 },
      );
    } finally {
      clearInterval(sampler);
      await post.close();
      await oe.close();
    }
    const grownMiB = (peak - baseline) / 2 ** 20;
    console.log(
      `burst of ${COUNT}: peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (+${grownMiB.toFixed(0)} MiB over the start)`,
    );
    // In-flight work is bounded (max_ack_pending, concurrency): memory must not grow with the burst size.
    expect(grownMiB).toBeLessThan(512);
  }, 420_000);
});
