import { connect as connectNats } from '@nats-io/transport-node';
import { deriveMessageId, newMessageId } from '@passerelle/envelope';
import { useNatsServer } from '@passerelle/testing/vitest';
import { beforeAll, describe, expect, test } from 'vitest';
import { type Exchange, connectExchange, createLogger, publishWithRetry } from '../src/index.js';
import { type Fixture, example, makeFixture } from './fixtures.js';

const POST = 'post-ankara';
const OE = 'immigration-office';

// Its own server: the test removes the EXCHANGE stream, which the other suites rely on.
describe('exchange close', () => {
  const nats = useNatsServer();
  let fx: Fixture;

  beforeAll(async () => {
    fx = await makeFixture([POST, OE]);
  });

  const connect = (participant: string): Promise<Exchange> =>
    connectExchange({
      participant,
      keys: fx.keys.get(participant)!,
      directory: fx.resolver,
      contracts: fx.contracts,
      servers: nats.url,
      logger: createLogger(participant, { level: 'silent' }),
    });

  test('close - a send still retrying ends with ERR_EXCHANGE_CLOSED, kept in the outbox; a later run sends it once', async () => {
    const post = await connect(POST);
    // no stream answers the message (as while a stream has no leader): each publish times out, a transient
    // failure that publishWithRetry retries for about two minutes
    await post.jsm.streams.delete('EXCHANGE');
    const silent = await connectNats({ servers: nats.url });
    silent.subscribe('pex.msg.>');
    await silent.flush();
    const messageId = newMessageId();
    const options = { to: OE, dossierId: 'DOSSIER-CLOSE-1', messageId };
    const sending = post.send('visa-issued', example('visa-issued'), options);
    const outcome = sending.then(
      () => undefined,
      (err: unknown) => err,
    );
    // the first attempt is under way, unanswered
    await new Promise((r) => setTimeout(r, 500));
    await post.close();
    // the attempt ends with the connection, and no other starts
    expect(await outcome).toMatchObject({ code: 'ERR_EXCHANGE_CLOSED', details: { attempts: 1 } });
    await silent.close();
    // a closed exchange refuses at once
    await expect(
      post.send('visa-issued', example('visa-issued'), { to: OE, dossierId: 'DOSSIER-CLOSE-1' }),
    ).rejects.toMatchObject({ code: 'ERR_EXCHANGE_CLOSED' });

    // the next run (which provisions the stream again) finds it without receipt, and sends it under its id
    const restarted = await connect(POST);
    const oe = await connect(OE);
    try {
      const id = deriveMessageId(messageId, OE);
      expect((await restarted.unreceipted(0)).map((r) => r.id)).toEqual([id]);
      const handled: string[] = [];
      oe.subscribe({ 'visa-issued': async (m) => void handled.push(m.meta.id) });
      const [sent] = await restarted.send('visa-issued', example('visa-issued'), options);
      expect(sent).toMatchObject({ id, duplicate: false });
      const receipt = await restarted.awaitReceipt(id, 15_000);
      expect(receipt.envelopeSha256).toBe(sent!.envelopeSha256);
      expect(handled).toEqual([id]);
    } finally {
      await Promise.all([restarted.close(), oe.close()]);
    }
  });

  test('close - publishWithRetry stops retrying when its signal is aborted', async () => {
    const post = await connect(POST);
    try {
      const closing = new AbortController();
      // a subscriber that never answers: each attempt times out, and the next waits its turn
      post.nc.subscribe('nowhere.at.all');
      const publishing = publishWithRetry(
        post.js,
        'nowhere.at.all',
        'x',
        { timeout: 100 },
        { signal: closing.signal, baseDelayMs: 1_000 },
      );
      const outcome = publishing.then(
        () => undefined,
        (err: unknown) => err,
      );
      // the first attempt has timed out; the wait before the second ends with the abort
      await new Promise((r) => setTimeout(r, 500));
      closing.abort();
      expect(await outcome).toMatchObject({
        code: 'ERR_EXCHANGE_CLOSED',
        details: { subject: 'nowhere.at.all', attempts: 1 },
      });
      // aborted before the first attempt: none is made
      await expect(
        publishWithRetry(post.js, 'nowhere.at.all', 'x', {}, { signal: closing.signal }),
      ).rejects.toMatchObject({ code: 'ERR_EXCHANGE_CLOSED', details: { attempts: 0 } });
    } finally {
      await post.close();
    }
  });

  test('publish - "no responders" (no stream, or one without a leader for a moment) is retried until a stream takes the message', async () => {
    const post = await connect(POST);
    try {
      const publishing = publishWithRetry(
        post.js,
        'retry.later',
        'x',
        { msgID: 'retry-1' },
        { baseDelayMs: 100 },
      );
      // the stream appears while the publish retries
      await new Promise((r) => setTimeout(r, 400));
      await post.jsm.streams.add({ name: 'RETRY_LATER', subjects: ['retry.later'] });
      const ack = await publishing;
      expect(ack).toMatchObject({ stream: 'RETRY_LATER', seq: 1, duplicate: false });
    } finally {
      await post.close();
    }
  });

  test('publish - a closed connection ends the publish at once with ERR_EXCHANGE_CLOSED', async () => {
    const post = await connect(POST);
    await post.nc.close();
    await expect(publishWithRetry(post.js, 'pex.msg.anything', 'x')).rejects.toMatchObject({
      code: 'ERR_EXCHANGE_CLOSED',
      details: { attempts: 1 },
    });
    await post.close();
  });
});
