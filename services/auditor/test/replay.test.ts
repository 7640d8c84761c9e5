import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { parseEntry, readLedger } from '@passerelle/audit';
import { newMessageId } from '@passerelle/envelope';
import {
  type Exchange,
  StreamNames,
  connectExchange,
  connectNats,
  createLogger,
  listDeadLetters,
} from '@passerelle/exchange';
import { idempotencyBucketName } from '@passerelle/exchange/internal';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type AuditorService, createAuditorService } from '../src/index.js';
import {
  OFFICE,
  PORTAL,
  POST,
  type World,
  example,
  makeWorld,
  memoryLogger,
  sealVisa,
  SETTLE,
} from './fixtures.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const PERSON = { familyName: 'Vermeulen', givenNames: 'Saskia', passportNumber: 'EP3141592' };

/**
 * Replay protection rests on state whoever runs the NATS servers controls: the recipient's idempotency
 * bucket. These tests play that operator: they delete the records and store a captured envelope again.
 */
describe('replay after the loss of the replay state', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let world: World;
  let portal: Exchange;
  let post: Exchange;
  let office: Exchange;
  /** Message ids the Immigration Office's handler ran for, once per run. */
  const handled: string[] = [];

  const exchangeOf = (id: string): Promise<Exchange> =>
    connectExchange({
      participant: id,
      keys: world.keys.get(id)!,
      directory: world.resolver,
      contracts: world.contracts,
      nc,
      logger: createLogger(id, { level: 'silent' }),
    });

  beforeAll(async () => {
    nc = await connectNats({ servers: nats.url });
    world = await makeWorld();
    portal = await exchangeOf(PORTAL);
    post = await exchangeOf(POST);
    office = await exchangeOf(OFFICE);
    office.subscribe((m) => {
      handled.push(m.meta.id);
      return Promise.resolve();
    });
  });
  afterAll(async () => {
    await Promise.all([portal, post, office].map((p) => p.close()));
    await nc.close();
  });

  const startAuditor = (logger = memoryLogger('silent').logger): Promise<AuditorService> =>
    createAuditorService({
      nc,
      auditorKey: world.auditorKey,
      resolver: world.resolver,
      checkpointEvery: 1000,
      checkpointIntervalMs: 0,
      // one machine, one clock: any copy stored after the receipt's recording is a new one
      replayClockSkewMs: 0,
      metricsPort: 0,
      logger,
    });

  const replaysMetric = async (auditor: AuditorService): Promise<string> =>
    (await auditor.metrics.getSingleMetricAsString('pex_auditor_replays_total')).trim();

  test('replay - an envelope re-published after its recipient lost its idempotency record is handled again, and the auditor flags it', async () => {
    const application = example('application-submitted', 'valid-ict-first-application.json');
    application['applicant'] = { ...(application['applicant'] as object), ...PERSON };
    const [sent] = await portal.send('application-submitted', application, {
      to: OFFICE,
      dossierId: 'DOS-REPLAY-0001',
    });
    await portal.awaitReceipt(sent!.id, 20_000);
    const { logger, text } = memoryLogger('info');
    let auditor = await startAuditor(logger);
    await auditor.caughtUp();
    expect(auditor.stats).toMatchObject({ envelopes: 1, receipts: 1, replays: 0 });

    // every message of EXCHANGE delivered again (the consumer recreated): the first copies are no replay
    await auditor.close();
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.delete(StreamNames.exchange, 'auditor-ledger');
    auditor = await startAuditor(logger);
    await auditor.caughtUp();
    expect(auditor.stats).toMatchObject({ envelopes: 0, duplicates: 2, replays: 0 });
    expect(await replaysMetric(auditor)).not.toContain('recipient=');

    // the attack: the recipient's replay state deleted, the captured bytes stored again under a new
    // Nats-Msg-Id, well within the freshness window
    await jsm.streams.purge(`KV_${idempotencyBucketName(OFFICE)}`);
    const captured = await jsm.streams.getMessage(StreamNames.exchange, { seq: sent!.seq });
    const again = await jetstream(nc).publish(captured!.subject, captured!.data, { msgID: newMessageId() });
    expect(again.duplicate).toBe(false);

    // what remains: the recipient, which has nothing left to tell the copy from a new message, handles it again
    await vi.waitUntil(() => handled.filter((id) => id === sent!.id).length === 2, SETTLE);
    // what shows it: the auditor records nothing again, counts it for that recipient and logs an error
    await auditor.caughtUp();
    expect(auditor.stats).toMatchObject({ envelopes: 0, replays: 1 });
    expect(await replaysMetric(auditor)).toContain(
      'pex_auditor_replays_total{recipient="immigration-office",participant="auditor"} 1',
    );
    const flagged = text()
      .split('\n')
      .filter((l) => l.includes('ERR_LEDGER_ENVELOPE_STORED_AGAIN'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(flagged).toHaveLength(1);
    expect(flagged[0]).toMatchObject({
      level: 50,
      messageId: sent!.id,
      sender: PORTAL,
      recipient: OFFICE,
      streamSeq: again.seq,
    });
    // ids and times only: nothing of the person travels into the log
    for (const value of Object.values(PERSON)) expect(text()).not.toContain(value);
    await auditor.close();
    const envelopes: string[] = [];
    for await (const m of readLedger(nc)) {
      const e = parseEntry(m.data, m.seq);
      if (e.kind === 'envelope') envelopes.push(e.meta.id);
    }
    expect(envelopes).toEqual([sent!.id]);
  });

  test('replay - with the default freshness window, an envelope stored more than 24 hours after it was sealed is refused, one stored within it is handled', async () => {
    const seal = (issuedAt: Date): Promise<object> =>
      sealVisa(world, 'DOS-REPLAY-0002', example('visa-issued', 'valid-type-d.json'), { issuedAt });
    const subject = `pex.msg.visa-issued.${POST}.${OFFICE}`;
    const stale = (await seal(new Date(Date.now() - DAY_MS - 5 * 60_000))) as { meta: { id: string } };
    const late = (await seal(new Date(Date.now() - DAY_MS + 60 * 60_000))) as { meta: { id: string } };
    const js = jetstream(nc);
    const refused = await js.publish(subject, JSON.stringify(stale), { msgID: stale.meta.id });
    await js.publish(subject, JSON.stringify(late), { msgID: late.meta.id });
    const jsm = await jetstreamManager(nc);
    // refused before it is opened: the dead letter names the stream sequence, not the (unchecked) id
    const letterOf = async (): Promise<{ code: string } | undefined> =>
      (await listDeadLetters(jsm, { participant: OFFICE })).find((d) => d.originalSeq === refused.seq);
    await vi.waitUntil(async () => (await letterOf()) !== undefined, SETTLE);
    expect(await letterOf()).toMatchObject({ code: 'ERR_NOT_FRESH' });
    await vi.waitUntil(() => handled.includes(late.meta.id), SETTLE);
    expect(handled).not.toContain(stale.meta.id);
  });

  test('replay - idempotency records are kept 30 days, beyond the freshness window', async () => {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(`KV_${idempotencyBucketName(OFFICE)}`);
    expect(info.config.max_age / 1e6).toBe(30 * DAY_MS);
  });
});
