import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import {
  type EnvelopeMeta,
  createStaticResolver,
  deriveMessageId,
  newMessageId,
  publicKeysOf,
  sealEnvelope,
  signCompact,
  toPublicJwk,
} from '@passerelle/envelope';
import { sha256Hex } from '@passerelle/envelope/internal';
import { headers } from '@nats-io/nats-core';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterEach, describe, expect, test, vi } from 'vitest';
import {
  type DeadLetter,
  type Exchange,
  type ExchangeOptions,
  type IncomingMessage,
  isRefusedBeforePublishing,
  provisionStreams,
  listDeadLetters,
  replayDeadLetter,
} from '../src/index.js';
import { REPLAY_HEADER, REQUIRED_JS_API_LEVEL, assertJetStreamApiLevel } from '../src/internal.js';
import { COMMUNE, OE, POST, connectParticipant, example, sendVisa, useFixture } from './fixtures.js';

describe('exchange runtime', () => {
  const nats = useNatsServer();
  const fx = useFixture([POST, OE, COMMUNE, 'commune-11002']);
  const open: Exchange[] = [];

  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });

  async function connect(participant: string, extra: Partial<ExchangeOptions> = {}): Promise<Exchange> {
    const ex = await connectParticipant(fx, nats.url, participant, extra);
    open.push(ex);
    return ex;
  }

  /** Subscribes `ex` with a visa handler that always fails; returns how many times it ran. */
  function subscribeFailing(ex: Exchange): () => number {
    let calls = 0;
    ex.subscribe({
      'visa-issued': async () => {
        calls++;
        throw new Error('registry unavailable');
      },
    });
    return () => calls;
  }

  /** A message an instance of OE left unacknowledged: the next instance handles it, once, and receipts it. */
  async function expectHandledOnceByNextInstance(post: Exchange, sent: { id: string }): Promise<void> {
    const second = await connect(OE, { consumer: { ackWaitMs: 2_000 } });
    let handled = 0;
    second.subscribe({ 'visa-issued': async () => void handled++ });
    await post.awaitReceipt(sent.id, 20_000);
    expect(handled).toBe(1);
  }

  /** The dead letter OE filed for a message, once there is one. */
  async function deadLetterOf(jsm: JetStreamManager, messageId: string): Promise<DeadLetter> {
    const find = async (): Promise<DeadLetter | undefined> =>
      (await listDeadLetters(jsm, { participant: OE })).find((d) => d.messageId === messageId);
    await vi.waitUntil(async () => (await find()) !== undefined, { timeout: 15_000, interval: 50 });
    return (await find())!;
  }

  /** A receipt of a visa the post sent, naming `receiver`, signed with `signer`'s key. */
  async function receiptSignedBy(
    signer: string,
    sent: { id: string; envelopeSha256: string },
    dossierId: string,
    receiver: string,
  ): Promise<string> {
    return signCompact(
      {
        messageId: sent.id,
        type: 'visa-issued',
        dossierId,
        sender: POST,
        receiver,
        envelopeSha256: sent.envelopeSha256,
        receivedAt: new Date().toISOString(),
        status: 'accepted',
      },
      fx.keys.get(signer)!.signing,
      { typ: 'pex-receipt+jws' },
    );
  }

  /** Writes the post's outbox record of a visa to OE as an earlier attempt (or release) left it. */
  async function putOutboxRecord(
    post: Exchange,
    id: string,
    dossierId: string,
    rest: { envelopeSha256: string; sentAt: string; envelope?: string },
  ): Promise<KV> {
    const outbox = await new Kvm(post.nc).open(`pex-outbox-${POST}`);
    const subject = `pex.msg.visa-issued.${POST}.${OE}`;
    await outbox.put(
      id,
      JSON.stringify({ id, type: 'visa-issued', recipient: OE, dossierId, subject, ...rest }),
    );
    return outbox;
  }

  test('exchange - a sent message is opened, validated, handled and receipted', async () => {
    const post = await connect(POST);
    const oe = await connect(OE);
    const seen: IncomingMessage[] = [];
    oe.subscribe({ 'visa-issued': async (m) => void seen.push(m) });
    const sent = await sendVisa(post, 'DOSSIER-0001');
    expect(sent.subject).toBe(`pex.msg.visa-issued.${POST}.${OE}`);
    const receipt = await post.awaitReceipt(sent.id, 15_000);
    expect(receipt).toMatchObject({
      messageId: sent.id,
      receiver: OE,
      sender: POST,
      envelopeSha256: sent.envelopeSha256,
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.meta).toMatchObject({
      id: sent.id,
      type: 'visa-issued',
      sender: POST,
      recipient: OE,
      dossierId: 'DOSSIER-0001',
    });
    expect(seen[0]?.payload).toEqual(example('visa-issued'));
    expect(await post.unreceipted(0)).toEqual([]);
  });

  test("exchange - an envelope is stored with its type's retention from the contract, which the server enforces", async () => {
    const post = await connect(POST);
    const sent = await sendVisa(post, 'DOSSIER-TTL-1');
    const stored = await post.jsm.streams.getMessage('EXCHANGE', { seq: sent.seq });
    expect(fx.contracts.retentionDays('visa-issued')).toBe(90);
    expect(stored!.header.get('Nats-TTL')).toBe(`${90 * 24}h`);
    const info = await post.jsm.streams.info('EXCHANGE');
    expect(info.config.allow_msg_ttl).toBe(true);
  });

  test('exchange - the server answers at the JetStream API level the exchange needs', async () => {
    const post = await connect(POST);
    expect(await assertJetStreamApiLevel(post.jsm)).toBeGreaterThanOrEqual(REQUIRED_JS_API_LEVEL);
    expect(REQUIRED_JS_API_LEVEL).toBeGreaterThanOrEqual(2);
  });

  test('exchange - no more than `concurrency` handlers run at once; the other messages wait, and all are handled', async () => {
    const post = await connect(POST);
    const oe = await connect(OE, { concurrency: 3 });
    let running = 0;
    let most = 0;
    const handled: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    oe.subscribe({
      'visa-issued': async (m) => {
        running++;
        most = Math.max(most, running);
        await gate;
        running--;
        handled.push(m.meta.dossierId);
      },
    });
    const ids = Array.from({ length: 8 }, (_, i) => `DOSSIER-CONCURRENT-${i}`);
    const sent: string[] = [];
    for (const dossierId of ids) {
      sent.push((await sendVisa(post, dossierId)).id);
    }
    await vi.waitUntil(() => running === 3, { timeout: 15_000, interval: 50 });
    await new Promise((r) => setTimeout(r, 300));
    expect(running).toBe(3);
    release();
    await vi.waitUntil(() => ids.every((id) => handled.includes(id)), { timeout: 15_000, interval: 50 });
    expect(most).toBe(3);
    // and every one is receipted (none left in flight for the tests that follow on this server)
    for (const id of sent) await post.awaitReceipt(id, 15_000);
  });

  test('exchange - two instances of one participant share its inbox consumer: each message is handled once, by one of them', async () => {
    const post = await connect(POST);
    // two instances of the immigration office, each on its own connection, as two processes would be
    const first = await connect(OE, { concurrency: 1 });
    const second = await connect(OE, { concurrency: 1 });
    const handledBy = new Map<string, string[]>();
    let secondHandled!: () => void;
    const secondDone = new Promise<void>((resolve) => (secondHandled = resolve));
    const handler = (name: 'first' | 'second') => async (m: IncomingMessage) => {
      if (!m.meta.dossierId.startsWith('DOSSIER-SHARED-')) return;
      handledBy.set(m.meta.id, [...(handledBy.get(m.meta.id) ?? []), name]);
      // the first instance holds its first message until the second has handled one: both take part
      if (name === 'second') secondHandled();
      else await secondDone;
    };
    first.subscribe({ 'visa-issued': handler('first') });
    second.subscribe({ 'visa-issued': handler('second') });
    const sent: string[] = [];
    for (let i = 0; i < 12; i++) {
      sent.push((await sendVisa(post, `DOSSIER-SHARED-${i}`)).id);
    }
    for (const id of sent) await post.awaitReceipt(id, 15_000);
    expect([...handledBy.keys()].sort()).toEqual([...sent].sort());
    const by = [...handledBy.values()];
    expect(by.every((names) => names.length === 1)).toBe(true);
    expect(new Set(by.flat())).toEqual(new Set(['first', 'second']));
  });

  test('exchange - the contract is checked before anything is sealed', async () => {
    const commune = await connect(COMMUNE);
    const refusal = await commune
      .send('visa-issued', example('visa-issued'), { to: OE, dossierId: 'DOSSIER-0002' })
      .catch((err: unknown) => err);
    expect(refusal).toMatchObject({ code: 'ERR_CONTRACT_FORBIDDEN' });
    // callers may rely on it: nothing of the message was published
    expect(isRefusedBeforePublishing(refusal)).toBe(true);
    expect(isRefusedBeforePublishing(new Error('timeout'))).toBe(false);
  });

  test('exchange - an invalid payload is refused with the schema paths', async () => {
    const post = await connect(POST);
    const bad = { ...(example('visa-issued') as object), visaType: 'C' };
    await expect(post.send('visa-issued', bad, { to: OE, dossierId: 'DOSSIER-0003' })).rejects.toMatchObject({
      code: 'ERR_SCHEMA_INVALID',
    });
  });

  test('exchange - a re-published duplicate and a forced redelivery run the handler once', async () => {
    const post = await connect(POST);
    let oe = await connect(OE);
    let calls = 0;
    const handler = { 'visa-issued': async (): Promise<void> => void calls++ };
    oe.subscribe(handler);
    const sent = await sendVisa(post, 'DOSSIER-0004');
    await post.awaitReceipt(sent.id, 15_000);
    expect(calls).toBe(1);

    // The same bytes again under another Nats-Msg-Id: past the server's duplicate window, as after a day.
    const raw = (await oe.jsm.streams.getMessage('EXCHANGE', { seq: sent.seq }))!.data;
    await jetstream(oe.nc).publish(sent.subject, raw, { msgID: `again-${sent.id}` });
    await vi.waitUntil(async () => (await oe.pending()) === 0, { timeout: 15_000, interval: 50 });

    // Forced redelivery of everything: the durable consumer is recreated from the start of the stream.
    await oe.close();
    const jsm = await jetstreamManager(post.nc);
    await jsm.consumers.delete('EXCHANGE', `inbox-${OE}`);
    oe = await connect(OE);
    oe.subscribe(handler);
    await vi.waitUntil(async () => (await oe.pending()) === 0, { timeout: 15_000, interval: 50 });
    expect(calls).toBe(1);
    const duplicates = await oe.metrics.registry.getSingleMetricAsString('pex_duplicates_total');
    expect(duplicates).toMatch(/pex_duplicates_total\{[^}]*\} [1-9]/);
  });

  test('exchange - a message sent again under its stable id reaches each recipient once, under the same id', async () => {
    const post = await connect(POST);
    const oe = await connect(OE);
    const seen: IncomingMessage[] = [];
    const messageId = newMessageId();
    const options = { to: OE, dossierId: 'DOSSIER-0005', messageId };

    const [first] = await post.send('visa-issued', example('visa-issued'), options);
    expect(first?.id).toBe(deriveMessageId(messageId, OE));
    // again before any receipt (the caller could not note it sent): the very same bytes, which the
    // server drops as a repeat
    const [again] = await post.send('visa-issued', example('visa-issued'), options);
    expect(again).toMatchObject({
      id: first!.id,
      duplicate: true,
      seq: first!.seq,
      envelopeSha256: first!.envelopeSha256,
    });
    oe.subscribe({ 'visa-issued': async (m) => void seen.push(m) });
    const receipt = await post.awaitReceipt(first!.id, 15_000);
    expect(receipt.envelopeSha256).toBe(first!.envelopeSha256);
    // again once the receipt is in: nothing is published, the recipient is left out
    const before = (await oe.jsm.streams.info('EXCHANGE')).state.last_seq;
    expect(await post.send('visa-issued', example('visa-issued'), options)).toEqual([]);
    expect((await oe.jsm.streams.info('EXCHANGE')).state.last_seq).toBe(before);
    expect(seen.map((m) => m.meta.id)).toEqual([first!.id]);
    expect(seen[0]?.meta.correlationId).toBe(messageId);
    expect(await post.unreceipted(0)).toEqual([]);

    await expect(
      post.send('visa-issued', example('visa-issued'), { ...options, messageId: 'not-a-uuid' }),
    ).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID', details: { setting: 'messageId' } });
  });

  test('exchange - sent again under its stable id after an attempt that never reached the stream: published, and its receipt matches', async () => {
    const post = await connect(POST);
    const oe = await connect(OE);
    let calls = 0;
    oe.subscribe({ 'visa-issued': async () => void calls++ });
    const messageId = newMessageId();
    const id = deriveMessageId(messageId, OE);
    // what an earlier attempt left: its outbox record (of an envelope sealed then), its publish lost
    await putOutboxRecord(post, id, 'DOSSIER-0006', {
      envelopeSha256: 'e'.repeat(64),
      sentAt: new Date().toISOString(),
    });
    const sent = await sendVisa(post, 'DOSSIER-0006', { messageId });
    expect(sent).toMatchObject({ id, duplicate: false });
    expect(sent.envelopeSha256).not.toBe('e'.repeat(64));
    // the record follows the envelope now in the stream, so the receipt for it is recorded
    const receipt = await post.awaitReceipt(id, 15_000);
    expect(receipt.envelopeSha256).toBe(sent.envelopeSha256);
    await vi.waitUntil(async () => (await post.unreceipted(0)).length === 0, {
      timeout: 15_000,
      interval: 50,
    });
    expect(calls).toBe(1);
  });

  test('exchange - sent again under its stable id while a record of an older release (no kept bytes) stands: the receipt still matches', async () => {
    const post = await connect(POST);
    const oe = await connect(OE);
    const messageId = newMessageId();
    const options = { to: OE, dossierId: 'DOSSIER-0007', messageId };
    const [first] = await post.send('visa-issued', example('visa-issued'), options);
    // the record as an older release wrote it: no envelope kept
    const outbox = await new Kvm(post.nc).open(`pex-outbox-${POST}`);
    const { envelope: _kept, ...older } = (await outbox.get(first!.id))!.json<Record<string, unknown>>();
    await outbox.put(first!.id, JSON.stringify(older));
    // new bytes are sealed, the server drops them as a repeat: the record keeps the bytes the stream holds
    const [again] = await post.send('visa-issued', example('visa-issued'), options);
    expect(again).toMatchObject({ duplicate: true, envelopeSha256: first!.envelopeSha256 });
    let calls = 0;
    oe.subscribe({ 'visa-issued': async () => void calls++ });
    const receipt = await post.awaitReceipt(first!.id, 15_000);
    expect(receipt.envelopeSha256).toBe(first!.envelopeSha256);
    expect(calls).toBe(1);
    expect(await post.unreceipted(0)).toEqual([]);
    expect(await listDeadLetters(post.jsm, { participant: POST })).toEqual([]);
  });

  test('exchange - kept bytes of an attempt whose publish was lost go out as they are, and the receipt names them', async () => {
    const post = await connect(POST);
    const oe = await connect(OE);
    const messageId = newMessageId();
    const id = deriveMessageId(messageId, OE);
    // an earlier attempt sealed and recorded these bytes, then its publish was lost
    const meta = {
      id,
      type: 'visa-issued',
      schemaVersion: 1,
      sender: POST,
      recipient: OE,
      dossierId: 'DOSSIER-0008',
      issuedAt: new Date().toISOString(),
      correlationId: messageId,
      causationId: null,
    };
    const body = JSON.stringify(
      await sealEnvelope({
        meta,
        payload: example('visa-issued'),
        sender: fx.keys.get(POST)!,
        recipientKey: await fx.resolver.resolve(OE, 'enc', new Date()),
      }),
    );
    const outbox = await putOutboxRecord(post, id, 'DOSSIER-0008', {
      envelopeSha256: sha256Hex(body),
      sentAt: meta.issuedAt,
      envelope: body,
    });
    const sent = await sendVisa(post, 'DOSSIER-0008', { messageId });
    expect(sent).toMatchObject({ id, duplicate: false, envelopeSha256: sha256Hex(body) });
    expect(
      Buffer.from((await oe.jsm.streams.getMessage('EXCHANGE', { seq: sent.seq }))!.data).toString(),
    ).toBe(body);
    oe.subscribe({ 'visa-issued': async () => undefined });
    expect((await post.awaitReceipt(id, 15_000)).envelopeSha256).toBe(sha256Hex(body));
    await vi.waitUntil(async () => (await post.unreceipted(0)).length === 0, {
      timeout: 15_000,
      interval: 50,
    });
    // the kept bytes are dropped once the receipt is recorded
    expect((await outbox.get(id))!.json<Record<string, unknown>>()).not.toHaveProperty('envelope');
  });

  test('exchange - a handler that always throws sends the message to DEADLETTER after max_deliver; replay runs it once', async () => {
    const post = await connect(POST);
    const oe = await connect(OE, { consumer: { maxDeliver: 3, backoffMs: [100, 100] } });
    let fixed = false;
    let calls = 0;
    let effects = 0;
    oe.subscribe({
      'visa-issued': async () => {
        calls++;
        if (!fixed) throw new Error('registry unavailable');
        effects++;
      },
    });
    const sent = await sendVisa(post, 'DOSSIER-0005');
    const jsm = await jetstreamManager(post.nc);
    const letter = await deadLetterOf(jsm, sent.id);
    expect(calls).toBe(3);
    expect(letter).toMatchObject({
      code: 'ERR_HANDLER_FAILED',
      originalSubject: sent.subject,
      originalSeq: sent.seq,
      deliveries: 3,
    });
    expect(letter.reason).toContain('handler threw Error');
    expect(await post.unreceipted(0)).toEqual([expect.objectContaining({ id: sent.id })]);

    fixed = true;
    await replayDeadLetter(jetstream(post.nc), jsm, letter.seq);
    await post.awaitReceipt(sent.id, 15_000);
    expect(effects).toBe(1);
    expect((await listDeadLetters(jsm, { participant: OE })).some((d) => d.messageId === sent.id)).toBe(
      false,
    );
  });

  test('exchange - a dead letter replayed after the freshness window is fresh against when it was first stored; the same bytes published anew are not', async () => {
    const post = await connect(POST);
    const oe = await connect(OE, { freshnessMs: 2_000, consumer: { maxDeliver: 2, backoffMs: [100] } });
    let failuresLeft = 2;
    let effects = 0;
    oe.subscribe({
      'visa-issued': async () => {
        if (failuresLeft-- > 0) throw new Error('registry unavailable');
        effects++;
      },
    });
    const sent = await sendVisa(post, 'DOSSIER-0025');
    const jsm = await jetstreamManager(post.nc);
    const letter = await deadLetterOf(jsm, sent.id);
    const original = await jsm.streams.getMessage('EXCHANGE', { seq: sent.seq });
    // the cause is "fixed" after the window has passed (it fails once more, on the replay's first delivery)
    await new Promise((r) => setTimeout(r, 2_500));
    failuresLeft = 1;

    // the bytes published again without the replay's header are stale, as any late copy is
    await jetstream(post.nc).publish(sent.subject, original!.data, { msgID: 'late-copy-1' });
    await vi.waitUntil(
      async () => (await listDeadLetters(jsm, { participant: OE })).some((d) => d.code === 'ERR_NOT_FRESH'),
      { timeout: 15_000, interval: 50 },
    );
    expect(effects).toBe(0);

    // other bytes under the same id (another dossier, issued as early) do not pass for the replay
    const other = JSON.stringify(
      await sealEnvelope({
        meta: {
          ...(JSON.parse(Buffer.from(original!.data).toString()) as { meta: EnvelopeMeta }).meta,
          dossierId: 'DOSSIER-0026',
        },
        payload: example('visa-issued'),
        sender: fx.keys.get(POST)!,
        recipientKey: await fx.resolver.resolve(OE, 'enc', new Date()),
      }),
    );
    const replayHeader = headers();
    replayHeader.set(REPLAY_HEADER, String(letter.seq));
    await jetstream(post.nc).publish(sent.subject, other, { msgID: 'other-bytes-1', headers: replayHeader });
    await vi.waitUntil(
      async () =>
        (await listDeadLetters(jsm, { participant: OE })).filter((d) => d.code === 'ERR_NOT_FRESH').length ===
        2,
      { timeout: 15_000, interval: 50 },
    );
    expect(effects).toBe(0);

    // the replay is fresh against the original storage, noted when the message was dead-lettered, and
    // stays so through a failure on its first delivery
    await replayDeadLetter(jetstream(post.nc), jsm, letter.seq);
    await post.awaitReceipt(sent.id, 15_000);
    expect(effects).toBe(1);
  });

  test('exchange - a revoked signing key is refused for what the server stored after the revocation, however early its issuedAt', async () => {
    const postKeys = fx.keys.get(POST)!;
    const revokedAt = new Date(Date.now() - 60 * 60 * 1000);
    // the directory as the receiver knows it after the revocation: the post's key ended an hour ago
    const revokedPost = {
      ...publicKeysOf(postKeys),
      signing: [{ ...toPublicJwk(postKeys.signing), notAfter: revokedAt.toISOString() }],
    };
    const directory = createStaticResolver([
      revokedPost,
      ...[...fx.keys.values()].filter((k) => k.participantId !== POST).map(publicKeysOf),
    ]);
    const oe = await connect(OE, { directory });
    let calls = 0;
    oe.subscribe({ 'visa-issued': async () => void calls++ });
    const rejected = new Promise<{ code: string }>((resolve) => oe.onRejection(resolve));
    // the holder of the stolen key seals a message dated before the revocation, and publishes it now
    const id = newMessageId();
    const envelope = await sealEnvelope({
      meta: {
        id,
        type: 'visa-issued',
        schemaVersion: 1,
        sender: POST,
        recipient: OE,
        dossierId: 'DOSSIER-BACKDATED',
        issuedAt: new Date(revokedAt.getTime() - 60 * 60 * 1000).toISOString(),
        correlationId: id,
        causationId: null,
      },
      payload: example('visa-issued'),
      sender: postKeys,
      recipientKey: await fx.resolver.resolve(OE, 'enc', new Date()),
    });
    const post = await connect(POST);
    await jetstream(post.nc).publish(`pex.msg.visa-issued.${POST}.${OE}`, JSON.stringify(envelope), {
      msgID: id,
    });
    expect((await rejected).code).toBe('ERR_KEY_NOT_VALID_AT');
    const letters = await listDeadLetters(oe.jsm, { participant: OE });
    expect(letters.at(-1)).toMatchObject({
      code: 'ERR_KEY_NOT_VALID_AT',
      originalSubject: `pex.msg.visa-issued.${POST}.${OE}`,
    });
    expect(calls).toBe(0);
  });

  test('exchange - a dead letter that cannot be written on the last delivery is tried again, not lost or held', async () => {
    const post = await connect(POST);
    const oe = await connect(OE, { consumer: { maxDeliver: 1, backoffMs: [100] } });
    const jsm = await jetstreamManager(post.nc);
    await jsm.streams.delete('DEADLETTER');
    const calls = subscribeFailing(oe);
    const sent = await sendVisa(post, 'DOSSIER-0027');
    // the dead letter cannot be written: the message is delivered again, and its handler runs again
    await vi.waitUntil(() => calls() >= 2, { timeout: 15_000, interval: 50 });
    await provisionStreams(jsm);
    // once the stream is back, the message is there: as a handler failure, or past the deliveries allowed
    expect(await deadLetterOf(jsm, sent.id)).toMatchObject({
      code: expect.stringMatching(/^ERR_(HANDLER_FAILED|DELIVERIES_EXHAUSTED)$/),
    });
  });

  test('exchange - deliveries that ended without an outcome are counted by the runtime: past max_deliver the message reaches DEADLETTER, never the end of the server count', async () => {
    const post = await connect(POST);
    // the runtime's consumers carry no server-side limit, which would end a message silently
    const oe = await connect(OE, { consumer: { maxDeliver: 2, backoffMs: [100] } });
    const jsm = await jetstreamManager(post.nc);
    expect((await jsm.consumers.info('EXCHANGE', `inbox-${OE}`)).config.max_deliver).toBe(-1);
    expect((await jsm.consumers.info('EXCHANGE', `receipts-${OE}`)).config.max_deliver).toBe(-1);

    const sent = await sendVisa(post, 'DOSSIER-0021');
    // deliveries taken and given back without an outcome, as by processes that stopped mid-handler: twice
    // maxDeliver of them are tolerated (a store down for a while)
    const inbox = await jetstream(post.nc).consumers.get('EXCHANGE', `inbox-${OE}`);
    for (let i = 1; i <= 4; i++) {
      const m = await inbox.next({ expires: 5_000 });
      expect(m?.info.deliveryCount).toBe(i);
      m!.nak();
    }
    let calls = 0;
    oe.subscribe({ 'visa-issued': async () => void calls++ });
    const letter = await deadLetterOf(jsm, sent.id);
    expect(letter).toMatchObject({ code: 'ERR_DELIVERIES_EXHAUSTED', deliveries: 5 });
    expect(calls).toBe(0);
    // replayed, it is handled once
    await replayDeadLetter(jetstream(post.nc), jsm, letter.seq);
    await post.awaitReceipt(sent.id, 15_000);
    expect(calls).toBe(1);
  });

  test('exchange - a consumer an operator provisioned with its own max_deliver: the runtime dead-letters at that count', async () => {
    const post = await connect(POST);
    const oe = await connect(OE, { consumer: { maxDeliver: 5, backoffMs: [100] } });
    const jsm = await jetstreamManager(post.nc);
    await jsm.consumers.update('EXCHANGE', `inbox-${OE}`, { max_deliver: 2 });
    const calls = subscribeFailing(oe);
    const sent = await sendVisa(post, 'DOSSIER-0022');
    expect(await deadLetterOf(jsm, sent.id)).toMatchObject({ code: 'ERR_HANDLER_FAILED', deliveries: 2 });
    expect(calls()).toBe(2);
  });

  test('exchange - a handler that never finishes holds a stop only for the grace period; the stopped exchange may subscribe again, and the message is handled once by the next instance', async () => {
    const post = await connect(POST);
    const first = await connect(OE, { consumer: { ackWaitMs: 2_000 } });
    let signal: AbortSignal | undefined;
    const started = new Promise<void>((resolve) =>
      first.subscribe({
        'visa-issued': (m) => {
          signal = m.signal;
          resolve();
          return new Promise<void>(() => undefined); // hangs, and ignores its signal
        },
      }),
    );
    const sent = await sendVisa(post, 'DOSSIER-0031');
    await started;
    expect(signal?.aborted).toBe(false);
    const stopping = Date.now();
    await first.stop({ graceMs: 300 });
    expect(Date.now() - stopping).toBeLessThan(5_000);
    expect(signal?.aborted).toBe(true);
    // the stop has ended the subscription for its owner, though the abandoned handler still hangs
    const again = first.subscribe({ 'visa-issued': async () => undefined });
    await again.stop({ graceMs: 1_000 });
    // the message was not acknowledged nor its lease kept alive: the next instance takes it, once
    await expectHandledOnceByNextInstance(post, sent);
  });

  test('exchange - a handler that returns on its signal after the grace period: nothing is recorded, its message is handled by the next instance', async () => {
    const post = await connect(POST);
    const first = await connect(OE, { consumer: { ackWaitMs: 2_000 } });
    const started = new Promise<void>((resolve) =>
      first.subscribe({
        'visa-issued': (m) => {
          resolve();
          // a cancellable handler: gives up, without doing its work, when told to
          return new Promise<void>((done) => m.signal.addEventListener('abort', () => done()));
        },
      }),
    );
    const sent = await sendVisa(post, 'DOSSIER-0032');
    await started;
    await first.stop({ graceMs: 200 });
    // not taken as handled: no receipt from the abandoned run
    await new Promise((r) => setTimeout(r, 300));
    expect((await post.unreceipted(0)).map((m) => m.id)).toContain(sent.id);
    await expectHandledOnceByNextInstance(post, sent);
  });

  test("exchange - a grace period must be a timer's whole number of ms, or Infinity", async () => {
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
      await expect(connect(OE, { stopGraceMs: bad })).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
        details: { setting: 'stopGraceMs' },
      });
    }
    const oe = await connect(OE, { stopGraceMs: Infinity });
    const sub = oe.subscribe({ 'visa-issued': async () => undefined });
    await expect(sub.stop({ graceMs: -5 })).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    await sub.stop({ graceMs: 1_000 });
  });

  test('exchange - a second subscription to the same inbox is refused: it would split the messages of one consumer', async () => {
    const oe = await connect(OE);
    const first = oe.subscribe({ 'visa-issued': async () => undefined });
    expect(() => oe.subscribe({ 'visa-refused': async () => undefined })).toThrow(
      expect.objectContaining({ code: 'ERR_ALREADY_SUBSCRIBED' }),
    );
    // once stopped, the inbox can be subscribed again
    await first.stop();
    const second = oe.subscribe({ 'visa-issued': async () => undefined });
    await second.stop();
  });

  test('exchange - a tampered envelope goes to DEADLETTER at once, with its code', async () => {
    const post = await connect(POST);
    const oe = await connect(OE);
    let calls = 0;
    oe.subscribe(async () => void calls++);
    const sent = await sendVisa(post, 'DOSSIER-0006');
    await post.awaitReceipt(sent.id, 15_000);
    const raw = (await oe.jsm.streams.getMessage('EXCHANGE', { seq: sent.seq }))!.json<{
      meta: { dossierId: string };
    }>();
    raw.meta.dossierId = 'DOSSIER-9999';
    const rejected = new Promise<{ code: string }>((resolve) => oe.onRejection(resolve));
    // the server's own advisory of the termination names the code too
    const advisories = oe.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.EXCHANGE.inbox-${OE}`, {
      max: 1,
    });
    await oe.nc.flush();
    await jetstream(post.nc).publish(sent.subject, JSON.stringify(raw), { msgID: 'tampered-1' });
    const rejection = await rejected;
    expect(rejection.code).toBe('ERR_SEAL_INVALID');
    const letters = await listDeadLetters(oe.jsm, { participant: OE });
    expect(letters.at(-1)).toMatchObject({ code: 'ERR_SEAL_INVALID', deliveries: 1 });
    expect(calls).toBe(1);
    for await (const advisory of advisories) {
      expect(advisory.json<{ reason: string; stream_seq: number }>()).toMatchObject({
        reason: 'ERR_SEAL_INVALID',
        stream_seq: letters.at(-1)!.originalSeq,
      });
    }
  });

  test('exchange - a message nobody acknowledges is reported without receipt, and awaitReceipt times out', async () => {
    const post = await connect(POST);
    const sent = await sendVisa(post, 'DOSSIER-0007');
    await expect(post.awaitReceipt(sent.id, 300)).rejects.toMatchObject({ code: 'ERR_RECEIPT_TIMEOUT' });
    const missing = await post.unreceipted(0);
    expect(missing.map((m) => m.id)).toContain(sent.id);
    expect(await post.unreceipted(60 * 60 * 1000)).toEqual([]);
  });

  test('exchange - awaitReceipt that fails to read the outbox fails once, leaving no time-out behind; stop ends the waits', async () => {
    const post = await connect(POST);
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown): number => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      // the outbox bucket is gone (an operator's mistake): the lookup fails with the store's error
      await (await jetstreamManager(post.nc)).streams.delete(`KV_pex-outbox-${POST}`);
      await expect(post.awaitReceipt(newMessageId(), 300)).rejects.toBeInstanceOf(Error);
      await new Promise((r) => setTimeout(r, 600));
      expect(unhandled.map(String)).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    // a caller still waiting when the exchange stops hears it at once, not at its time-out
    const oe = await connect(OE);
    const waiting = oe.awaitReceipt(newMessageId(), 60_000);
    const started = Date.now();
    await oe.stop();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_EXCHANGE_CLOSED' });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('exchange - a subject no stream covers gets a clear error', async () => {
    const post = await connect(POST);
    const { publishWithRetry } = await import('../src/internal.js');
    await expect(
      publishWithRetry(post.js, 'nowhere.at.all', 'x', {}, { attempts: 2, baseDelayMs: 10 }),
    ).rejects.toMatchObject({
      code: 'ERR_NO_STREAM',
      details: { subject: 'nowhere.at.all', attempts: 2 },
    });
  });

  test('exchange - a forged receipt is rejected to DEADLETTER and never counts as received', async () => {
    const post = await connect(POST);
    const sent = await sendVisa(post, 'DOSSIER-0008');
    // The commune signs a receipt that claims to come from the Immigration Office.
    const forged = await receiptSignedBy(COMMUNE, sent, 'DOSSIER-0008', OE);
    const rejected = new Promise<{ code: string }>((resolve) => post.onRejection(resolve));
    await jetstream(post.nc).publish(`pex.rcpt.${OE}.${POST}`, forged, { msgID: 'forged-1' });
    expect((await rejected).code).toMatch(/^ERR_(RECEIPT_INVALID|KEY_NOT_FOUND|SIGNATURE_INVALID)$/);
    expect((await post.unreceipted(0)).map((m) => m.id)).toContain(sent.id);
  });

  test('exchange - a receipt its signer makes for a message sent to another participant is refused, not recorded', async () => {
    const post = await connect(POST);
    const sent = await sendVisa(post, 'DOSSIER-0024');
    // The commune, which can read the envelope's bytes, acknowledges it under its own name and key.
    const own = await receiptSignedBy(COMMUNE, sent, 'DOSSIER-0024', COMMUNE);
    const rejected = new Promise<{ code: string; reason: string }>((resolve) => post.onRejection(resolve));
    await jetstream(post.nc).publish(`pex.rcpt.${COMMUNE}.${POST}`, own, { msgID: 'own-receipt-1' });
    expect(await rejected).toMatchObject({
      code: 'ERR_RECEIPT_INVALID',
      reason: expect.stringContaining('its receiver differs'),
    });
    await expect(post.awaitReceipt(sent.id, 300)).rejects.toMatchObject({ code: 'ERR_RECEIPT_TIMEOUT' });
    expect((await post.unreceipted(0)).map((m) => m.id)).toContain(sent.id);
  });

  test('metrics - /metrics serves the counters of the process', async () => {
    const post = await connect(POST);
    const oe = await connect(OE, { concurrency: 1 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    oe.subscribe(async (m) => {
      if (m.meta.dossierId === 'DOSSIER-0010') await gate;
    });
    const sent = await sendVisa(post, 'DOSSIER-0009');
    await post.awaitReceipt(sent.id, 15_000);
    const { serveMetrics } = await import('../src/index.js');
    const served = await serveMetrics(post.metrics.registry, 0);
    try {
      const body = await (await fetch(`http://127.0.0.1:${served.port}/metrics`)).text();
      expect(body).toMatch(/pex_messages_sent_total\{[^}]*type="visa-issued"[^}]*\} 1/);
      expect(body).toMatch(/pex_receipts_received_total\{[^}]*\} [1-9]/);
      expect(body).toContain('pex_handler_duration_seconds');
      expect((await fetch(`http://127.0.0.1:${served.port}/other`)).status).toBe(404);
      // a port in use is a start-up error with its code, not an uncaught exception
      await expect(serveMetrics(post.metrics.registry, served.port)).rejects.toMatchObject({
        code: 'ERR_CONFIG_INVALID',
      });
    } finally {
      await served.close();
    }
    // the receiver's backlog is read from the server at each scrape
    const backlog = await serveMetrics(oe.metrics.registry, 0);
    try {
      const scrape = async (): Promise<string> =>
        (await fetch(`http://127.0.0.1:${backlog.port}/metrics`)).text();
      const pending = async (): Promise<number> =>
        Number(
          new RegExp(`pex_consumer_pending\\{[^}]*consumer="inbox-${OE}"[^}]*\\} (\\d+)`).exec(
            await scrape(),
          )?.[1] ?? -1,
        );
      expect(await pending()).toBe(0);
      // one message held by the handler, four more waiting behind it on a one-at-a-time receiver
      const held: string[] = [];
      for (let i = 0; i < 5; i++) {
        held.push((await sendVisa(post, 'DOSSIER-0010')).id);
      }
      await vi.waitUntil(async () => (await pending()) >= 3, { timeout: 15_000, interval: 50 });
      release();
      for (const id of held) await post.awaitReceipt(id, 15_000);
      expect(await pending()).toBe(0);
    } finally {
      await backlog.close();
    }
  });

  test('exchange - with provision off, a participant binds to what the operator provisioned', async () => {
    const { connectNats } = await import('../src/index.js');
    const { provisionParticipant } = await import('../src/internal.js');
    const FRESH = 'commune-11002';
    await expect(connect(FRESH, { provision: false })).rejects.toMatchObject({
      code: 'ERR_NOT_PROVISIONED',
      message: expect.stringContaining(`consumer EXCHANGE/inbox-${FRESH}`),
    });
    const admin = await connectNats({ servers: nats.url });
    await provisionParticipant(admin, FRESH);
    await admin.close();
    const commune = await connect(FRESH, { provision: false });
    const post = await connect(POST);
    expect(await commune.pending()).toBe(0);
    expect(post.participant).toBe(POST);
  });
});
