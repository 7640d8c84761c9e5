import { connect as connectNats } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { deriveMessageId, newMessageId } from '@passerelle/envelope';
import { startTestServer } from '@passerelle/testing';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { type Exchange } from '../src/index.js';
import { publishWithRetry } from '../src/internal.js';
import { OE, POST, connectParticipant, example, sendVisa, useFixture } from './fixtures.js';

/** Settles to the error a promise rejects with, or to undefined. */
const failureOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  );

// Its own server: the tests remove the EXCHANGE stream, which the other suites rely on.
describe('publish retries and closing', () => {
  const nats = useNatsServer();
  const fx = useFixture([POST, OE]);

  const connect = (participant: string): Promise<Exchange> => connectParticipant(fx, nats.url, participant);

  test('close - a send waiting to retry while no stream answers ends as not sent; sent again under its id by the next run, it is handled once', async () => {
    const post = await connect(POST);
    // no stream takes the message: nats-server answers "no responders", which is retried (as for a
    // stream without a leader for a moment) for half a minute
    await post.jsm.streams.delete('EXCHANGE');
    const messageId = newMessageId();
    const id = deriveMessageId(messageId, OE);
    const options = { to: OE, dossierId: 'DOSSIER-CLOSE-1', messageId };
    const outcome = failureOf(post.send('visa-issued', example('visa-issued'), options));
    // the send has recorded the message in its outbox and publishes it, in vain
    while (!(await post.unreceipted(0)).some((r) => r.id === id)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    await post.close();
    // nothing was stored: not sent, with the closing as its cause, and its record gone from the outbox
    const failure = await outcome;
    expect(failure).toMatchObject({
      code: 'ERR_NOT_SENT',
      details: { messageId, type: 'visa-issued', cause: 'ERR_EXCHANGE_CLOSED' },
    });
    // a closed exchange refuses at once, and says so
    await expect(
      post.send('visa-issued', example('visa-issued'), { to: OE, dossierId: 'DOSSIER-CLOSE-1' }),
    ).rejects.toMatchObject({ code: 'ERR_NOT_SENT', details: { cause: 'ERR_EXCHANGE_CLOSED' } });

    // the next run (which provisions the stream again) sends it under its id: handled once
    const restarted = await connect(POST);
    const oe = await connect(OE);
    try {
      expect((await restarted.unreceipted(0)).map((r) => r.id)).toEqual([]);
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

  test('close - a publish under way gets its answer before the connection drains: the send reports what the stream said', async () => {
    const post = await connect(POST);
    await post.jsm.streams.delete('EXCHANGE');
    // a slow stream: it answers each publish once the exchange has begun to close
    const stream = await connectNats({ servers: nats.url });
    let closing: Promise<void> | undefined;
    let reached: () => void = () => undefined;
    const publishReached = new Promise<void>((resolve) => (reached = resolve));
    stream.subscribe('pex.msg.>', {
      callback: (_err, m) => {
        reached();
        void (async () => {
          while (!closing) await new Promise((r) => setTimeout(r, 10));
          await new Promise((r) => setTimeout(r, 200));
          m.respond(JSON.stringify({ stream: 'EXCHANGE', seq: 42 }));
        })();
      },
    });
    await stream.flush();
    try {
      const sending = post.send('visa-issued', example('visa-issued'), {
        to: OE,
        dossierId: 'DOSSIER-CLOSE-2',
      });
      await publishReached;
      closing = post.close();
      const [sent] = await sending;
      expect(sent).toMatchObject({ recipient: OE, seq: 42 });
      await closing;
    } finally {
      await stream.close();
    }
  });

  test('send - a plain send whose outbox cannot record it is not sent: ERR_NOT_SENT with its id, and nothing is delivered', async () => {
    const quick = { sendRetry: { attempts: 3, baseDelayMs: 50 } };
    const post = await connectParticipant(fx, nats.url, POST, quick);
    const oe = await connect(OE);
    const handled: string[] = [];
    oe.subscribe({ 'visa-issued': async (m) => void handled.push(m.meta.id) });
    try {
      const before = (await post.jsm.streams.info('EXCHANGE')).state.last_seq;
      // the sender's outbox is gone (an operator's mistake, a bucket without a leader for long)
      await post.jsm.streams.delete('KV_pex-outbox-post-ankara');
      const failure = await failureOf(
        post.send('visa-issued', example('visa-issued'), { to: OE, dossierId: 'DOSSIER-NOT-SENT' }),
      );
      expect(failure).toMatchObject({
        code: 'ERR_NOT_SENT',
        details: { type: 'visa-issued', cause: 'ERR_OUTBOX_UNAVAILABLE' },
      });
      const { messageId } = (failure as { details: { messageId: string } }).details;
      expect(messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      // nothing reached the stream
      expect((await post.jsm.streams.info('EXCHANGE')).state.last_seq).toBe(before);
      // the next message (its outbox back) is the first one the recipient handles: the refused one never comes
      await post.close();
      const again = await connect(POST);
      const sent = await sendVisa(again, 'DOSSIER-NOT-SENT');
      await again.awaitReceipt(sent.id, 15_000);
      expect(handled).toEqual([sent.id]);
      expect(handled).not.toContain(deriveMessageId(messageId, OE));
      await again.close();
    } finally {
      await Promise.all([post.close(), oe.close()]);
    }
  });

  test('send - a publish whose answers are lost leaves the outcome unknown; sent again under its id, it is handled once', async () => {
    const post = await connectParticipant(fx, nats.url, POST, {
      sendRetry: { attempts: 2, baseDelayMs: 50 },
      requestTimeoutMs: 300,
    });
    await post.jsm.streams.delete('EXCHANGE');
    // something takes the publishes and never answers: whether they were stored cannot be known
    const silent = await connectNats({ servers: nats.url });
    silent.subscribe('pex.msg.>');
    await silent.flush();
    const failure = await failureOf(
      post.send('visa-issued', example('visa-issued'), { to: OE, dossierId: 'DOSSIER-UNKNOWN' }),
    );
    await Promise.all([silent.close(), post.close()]);
    expect(failure).toMatchObject({
      code: 'ERR_SEND_OUTCOME_UNKNOWN',
      details: { type: 'visa-issued', cause: 'ERR_PUBLISH_FAILED' },
    });
    const { messageId } = (failure as { details: { messageId: string } }).details;
    const id = deriveMessageId(messageId, OE);
    // as the error says: sent again with its id (the streams provisioned again), it arrives once
    const restarted = await connect(POST);
    const oe = await connect(OE);
    try {
      const handled: string[] = [];
      oe.subscribe({ 'visa-issued': async (m) => void handled.push(m.meta.id) });
      expect(await sendVisa(restarted, 'DOSSIER-UNKNOWN', { messageId })).toMatchObject({ id });
      await restarted.awaitReceipt(id, 15_000);
      expect(handled).toEqual([id]);
    } finally {
      await Promise.all([restarted.close(), oe.close()]);
    }
  });

  test('close - publishWithRetry stops retrying when its signal is aborted', async () => {
    const post = await connect(POST);
    try {
      const aborting = new AbortController();
      // a subscriber that never answers: each attempt times out, and the next waits its turn
      post.nc.subscribe('nowhere.at.all');
      const outcome = failureOf(
        publishWithRetry(
          post.js,
          'nowhere.at.all',
          'x',
          { timeout: 100 },
          { signal: aborting.signal, baseDelayMs: 1_000 },
        ),
      );
      // the first attempt has timed out; the wait before the second ends with the abort
      await new Promise((r) => setTimeout(r, 500));
      aborting.abort();
      expect(await outcome).toMatchObject({
        code: 'ERR_EXCHANGE_CLOSED',
        details: { subject: 'nowhere.at.all', attempts: 1 },
      });
      // aborted before the first attempt: none is made
      await expect(
        publishWithRetry(post.js, 'nowhere.at.all', 'x', {}, { signal: aborting.signal }),
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
      expect(await publishing).toMatchObject({ stream: 'RETRY_LATER', seq: 1, duplicate: false });
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

  test('publish - a permissions violation fails at once, even on a subject whose ids read like a status (commune 15031)', async () => {
    const server = await startTestServer({
      extraConfig: `authorization { users = [ { user: "p", password: "p", permissions: { publish: { deny: ["pex.msg.>"] } } } ] }`,
    });
    const nc = await connectNats({ servers: server.url, user: 'p', pass: 'p' });
    try {
      const subject = 'pex.msg.visa-issued.commune-15031.immigration-office';
      await expect(
        publishWithRetry(jetstream(nc, { timeout: 2_000 }), subject, 'x', {}, { baseDelayMs: 10 }),
      ).rejects.toMatchObject({ code: 'ERR_PUBLISH_FAILED', details: { subject, attempts: 1 } });
    } finally {
      await nc.close();
      await server.stop();
    }
  });
});
