import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { MIN_NATS_SERVER_VERSION } from '@passerelle/testing';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { MIN_SERVER_VERSION, StreamNames, connectNats, provisionStreams } from '../src/index.js';
import { streamConfigs, versionAtLeast } from '../src/internal.js';

describe('streams', () => {
  const nats = useNatsServer();

  /** Runs `fn` over a connection of its own to the test server, closed afterwards whatever happens. */
  async function withManager(
    fn: (jsm: JetStreamManager, nc: NatsConnection) => Promise<void>,
  ): Promise<void> {
    const nc = await connectNats({ servers: nats.url });
    try {
      await fn(await jetstreamManager(nc, { timeout: 30_000 }), nc);
    } finally {
      await nc.close();
    }
  }

  test('streams - provisioning creates EXCHANGE, DEADLETTER and LEDGER, and is idempotent', () =>
    withManager(async (jsm) => {
      const first = await provisionStreams(jsm);
      expect(first.map((s) => s.config.name)).toEqual([
        StreamNames.exchange,
        StreamNames.deadLetter,
        StreamNames.ledger,
      ]);
      const again = await provisionStreams(jsm);
      expect(again.map((s) => s.config.name)).toEqual(first.map((s) => s.config.name));
      const ledger = await jsm.streams.info(StreamNames.ledger);
      expect(ledger.config.deny_delete).toBe(true);
      expect(ledger.config.deny_purge).toBe(true);
    }));

  test('streams - a message published to EXCHANGE is consumed back, deduplicated by Nats-Msg-Id', () =>
    withManager(async (jsm, nc) => {
      await provisionStreams(jsm);
      const js = jetstream(nc);
      const subject = 'pex.msg.test.portal-demo.region-bruxelles';
      const a = await js.publish(subject, '{"hello":1}', { msgID: 'm-1' });
      const b = await js.publish(subject, '{"hello":1}', { msgID: 'm-1' });
      expect(b.duplicate).toBe(true);
      expect(b.seq).toBe(a.seq);
      await jsm.consumers.add(StreamNames.exchange, {
        durable_name: 'reader',
        filter_subject: subject,
        ack_policy: 'explicit',
      });
      const consumer = await js.consumers.get(StreamNames.exchange, 'reader');
      const msg = await consumer.next({ expires: 2_000 });
      expect(msg?.json()).toEqual({ hello: 1 });
      msg?.ack();
    }));

  test('streams - a ledger entry cannot be deleted', () =>
    withManager(async (jsm, nc) => {
      await provisionStreams(jsm);
      const ack = await jetstream(nc).publish('pex.ledger.entry', '{}');
      await expect(jsm.streams.deleteMessage(StreamNames.ledger, ack.seq)).rejects.toThrow();
      await expect(jsm.streams.purge(StreamNames.ledger)).rejects.toThrow();
    }));

  test('streams - a stream with conflicting subjects is reported, not rewritten', () =>
    withManager(async (jsm) => {
      await jsm.streams.delete(StreamNames.deadLetter).catch(() => undefined);
      await jsm.streams.add({ name: StreamNames.deadLetter, subjects: ['other.>'] });
      await expect(provisionStreams(jsm)).rejects.toMatchObject({ code: 'ERR_STREAM_CONFLICT' });
      await jsm.streams.delete(StreamNames.deadLetter);
    }));

  test('streams - a stream made without per-message TTL (an earlier release) gets it at provisioning', () =>
    withManager(async (jsm) => {
      await jsm.streams.delete(StreamNames.exchange).catch(() => undefined);
      const [wanted] = streamConfigs();
      await jsm.streams.add({ ...wanted!, allow_msg_ttl: false });
      expect((await jsm.streams.info(StreamNames.exchange)).config.allow_msg_ttl).toBeFalsy();
      await provisionStreams(jsm);
      expect((await jsm.streams.info(StreamNames.exchange)).config.allow_msg_ttl).toBe(true);
    }));

  test('streams - DEADLETTER keeps copies no longer than EXCHANGE keeps payloads; one made for 365 days is lowered', () =>
    withManager(async (jsm, nc) => {
      await jsm.streams.delete(StreamNames.deadLetter).catch(() => undefined);
      const wanted = streamConfigs().find((c) => c.name === StreamNames.deadLetter)!;
      const year = 365 * 24 * 3_600 * 1_000_000_000;
      await jsm.streams.add({ ...wanted, max_age: year, allow_msg_ttl: false });
      await jetstream(nc).publish('pex.dlq.immigration-office', '{}');
      await provisionStreams(jsm);
      const exchange = await jsm.streams.info(StreamNames.exchange);
      const dead = await jsm.streams.info(StreamNames.deadLetter);
      expect(dead.config.max_age).toBe(exchange.config.max_age);
      expect(dead.config.max_age).toBeLessThan(year);
      expect(dead.config.allow_msg_ttl).toBe(true);
      // what it held stays (it is younger than the new limit)
      expect(dead.state.messages).toBe(1);
    }));

  test("connection - versions older than the minimum are refused; the minimum is the harness pin's", () => {
    expect(MIN_SERVER_VERSION).toBe(MIN_NATS_SERVER_VERSION);
    expect(versionAtLeast('2.15.3', MIN_SERVER_VERSION)).toBe(true);
    expect(versionAtLeast('2.12.6', MIN_SERVER_VERSION)).toBe(true);
    expect(versionAtLeast('2.12.5', MIN_SERVER_VERSION)).toBe(false);
    expect(versionAtLeast('2.9.10', MIN_SERVER_VERSION)).toBe(false);
  });
});
