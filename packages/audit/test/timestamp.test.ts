import { freshLedger as resetLedger } from './fresh-ledger.js';
import { useLedgerParties, sealedEnvelope, storedLedger } from './ledger-parties.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type LedgerEntry, type TimestampLedgerEntry, sealEntry } from '../src/entry.js';
import { parseEntry } from '../src/parse-entry.js';
import { type LocalTsa, startLocalTsa } from '../src/testing/local-tsa.js';
import { parseTsaTrust } from '../src/timestamp-token.js';
import { createTimestamper, untimestampedCheckpoints } from '../src/timestamper.js';
import { createTsaClient, freshNonce } from '../src/tsa-client.js';
import * as asn1js from 'asn1js';
import { verifyLedger } from '../src/verify.js';
import { createLedgerWriter } from '../src/writer.js';

describe('timestamps', { timeout: 90_000 }, () => {
  const parties = useLedgerParties();
  let tsa: LocalTsa;
  let otherTsa: LocalTsa;

  beforeAll(async () => {
    [tsa, otherTsa] = await Promise.all([startLocalTsa(), startLocalTsa({ name: 'Unknown TSA' })]);
  }, 60_000);
  afterAll(async () => {
    await tsa.close();
    await otherTsa.close();
  });

  const freshLedger = () => resetLedger(parties.jsm);
  const envelope = () =>
    sealedEnvelope(parties.office, parties.region, {
      dossierId: 'DOS-2026-000417',
      correlationId: 'corr-417',
    });
  const stored = () => storedLedger(parties.nc);

  /** A writer whose checkpoints go to a timestamper on `url`, checkpointing every 2 entries. */
  async function timestampedWriter(url: string, intervalMs = 60_000) {
    const client = createTsaClient({ url, trust: parseTsaTrust(tsa.rootPem), timeoutMs: 2_000 });
    const errors: unknown[] = [];
    let enqueue: (cp: Parameters<ReturnType<typeof createTimestamper>['enqueue']>[0]) => void = () => {};
    const writer = await createLedgerWriter({
      nc: parties.nc,
      auditorKey: parties.auditor,
      resolver: parties.resolver,
      checkpointEvery: 2,
      checkpointIntervalMs: 0,
      onCheckpoint: (cp) => enqueue(cp),
    });
    const timestamper = createTimestamper({
      writer,
      tsa: client,
      intervalMs,
      initialBackoffMs: 50,
      maxBackoffMs: 200,
      onError: (err) => errors.push(err),
    });
    enqueue = (cp) => timestamper.enqueue(cp);
    return { writer, timestamper, errors };
  }

  test('timestamps - every request nonce is a positive DER INTEGER in its one form, which OpenSSL takes', () => {
    // a leading zero byte before a byte under 0x80 is padding DER forbids: OpenSSL then refuses the whole
    // request as badly formed, about once in 256 requests with an unconstrained first byte
    for (let i = 0; i < 4_096; i++) {
      const der = Buffer.from(new asn1js.Integer({ valueHex: new Uint8Array(freshNonce()) }).toBER());
      const content = der.subarray(2);
      expect(content[0]! >= 0x40 && content[0]! <= 0x7f).toBe(true);
      expect(content).toHaveLength(8);
    }
  });

  test('timestamps - every checkpoint gets a token from the TSA; verify checks it against the trust list and reports the attested time', async () => {
    await freshLedger();
    const { writer, timestamper, errors } = await timestampedWriter(tsa.url);
    for (let i = 0; i < 4; i++) await writer.appendEnvelope(await envelope());
    expect(timestamper.pending).toBe(2);
    const done = await timestamper.flush();
    expect(errors).toEqual([]);
    expect(done).toBe(true);
    expect(timestamper.lagSeconds()).toBe(0);
    await writer.close();
    await timestamper.close();
    const lines = await stored();
    const entries = lines.map((l) => parseEntry(l));
    const stamp = entries.find((e) => e.kind === 'timestamp') as TimestampLedgerEntry;
    // one request covered both checkpoints (a batch), recorded after them in the chain
    expect(stamp.meta.checkpoints.map((c) => c.seq)).toEqual([3, 6]);
    const report = await verifyLedger(lines, {
      resolver: parties.resolver,
      tsaTrust: parseTsaTrust(tsa.rootPem),
      threads: 1,
    });
    expect(report.failure).toBeUndefined();
    expect(report.timestamps).toMatchObject({
      tokens: 1,
      checkpointsTimestamped: 2,
      checkpointsPending: 1, // the closing checkpoint, after the token
      last: { checkpointSeq: 6, tsa: 'O=Passerelle tests, CN=Passerelle test TSA', chain: 'trusted' },
    });
    const attested = Date.parse(report.timestamps.last!.genTime);
    expect(Math.abs(attested - Date.now())).toBeLessThan(60_000);
  });

  test('timestamps - a TSA that is down or hangs never holds up recording; the lag shows, and one token covers the backlog once it answers', async () => {
    await freshLedger();
    tsa.mode = 'down';
    const { writer, timestamper, errors } = await timestampedWriter(tsa.url, 10);
    for (let i = 0; i < 4; i++) await writer.appendEnvelope(await envelope());
    expect(await timestamper.flush()).toBe(false);
    expect(errors.at(-1)).toMatchObject({ code: 'ERR_LEDGER_TSA_FAILED' });
    expect(timestamper.failures).toBeGreaterThan(0);
    tsa.mode = 'hang';
    const attempt = timestamper.flush();
    // the TSA holds the request; the ledger still records
    const started = Date.now();
    for (let i = 0; i < 4; i++) await writer.appendEnvelope(await envelope());
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(timestamper.pending).toBe(4);
    expect(timestamper.lagSeconds()).toBeGreaterThan(0);
    expect(await attempt).toBe(false); // the client's time-out
    tsa.mode = 'up';
    expect(await timestamper.flush()).toBe(true);
    await writer.close();
    await timestamper.close();
    const lines = await stored();
    const stamps = lines.map((l) => parseEntry(l)).filter((e) => e.kind === 'timestamp');
    expect(stamps).toHaveLength(1);
    expect((stamps[0] as TimestampLedgerEntry).meta.checkpoints).toHaveLength(4);
    const report = await verifyLedger(lines, {
      resolver: parties.resolver,
      tsaTrust: parseTsaTrust(tsa.rootPem),
      threads: 1,
    });
    expect(report.failure).toBeUndefined();
    expect(report.timestamps.checkpointsTimestamped).toBe(4);
  });

  test('timestamps - a restarted auditor finds the checkpoints still waiting for a token', async () => {
    await freshLedger();
    tsa.mode = 'down';
    const first = await timestampedWriter(tsa.url);
    for (let i = 0; i < 4; i++) await first.writer.appendEnvelope(await envelope());
    await first.timestamper.close();
    expect((await untimestampedCheckpoints(parties.nc)).map((c) => c.seq)).toEqual([3, 6]);
    tsa.mode = 'up';
    const second = await timestampedWriter(tsa.url);
    for (const cp of await untimestampedCheckpoints(parties.nc)) second.timestamper.enqueue(cp);
    expect(await second.timestamper.flush()).toBe(true);
    expect(await untimestampedCheckpoints(parties.nc)).toEqual([]);
    await second.timestamper.close();
  });

  test('timestamps - a tampered token, a token of an untrusted TSA and a token over other checkpoints are each named by seq', async () => {
    await freshLedger();
    const { writer, timestamper } = await timestampedWriter(tsa.url);
    for (let i = 0; i < 4; i++) await writer.appendEnvelope(await envelope());
    await timestamper.flush();
    await writer.close();
    await timestamper.close();
    const entries = (await stored()).map((l) => parseEntry(l));
    const at = entries.findIndex((e) => e.kind === 'timestamp');
    const stamp = entries[at] as TimestampLedgerEntry;
    const trust = parseTsaTrust(tsa.rootPem);

    /** Replaces the timestamp entry and re-links every later hash, as a forger would. */
    const forge = (replacement: TimestampLedgerEntry): string[] => {
      const out = entries.map((e) => ({ ...e })) as LedgerEntry[];
      const { hash: _h, ...rest } = replacement;
      out[at] = sealEntry(rest);
      for (let i = at + 1; i < out.length; i++) {
        const { hash: _x, ...r } = { ...(out[i] as LedgerEntry), prevHash: (out[i - 1] as LedgerEntry).hash };
        out[i] = sealEntry(r);
      }
      return out.map((e) => JSON.stringify(e));
    };

    const der = Buffer.from(stamp.token, 'base64');
    der[der.length - 20] = (der[der.length - 20] as number) ^ 0x01;
    const flipped = await verifyLedger(forge({ ...stamp, token: der.toString('base64') }), {
      resolver: parties.resolver,
      tsaTrust: trust,
      threads: 1,
    });
    expect(flipped.failure).toMatchObject({ seq: stamp.seq, code: 'ERR_LEDGER_TIMESTAMP_INVALID' });

    const untrusted = await verifyLedger(
      entries.map((e) => JSON.stringify(e)),
      { resolver: parties.resolver, tsaTrust: parseTsaTrust(otherTsa.rootPem), threads: 1 },
    );
    expect(untrusted.failure).toMatchObject({ seq: stamp.seq, code: 'ERR_LEDGER_TIMESTAMP_INVALID' });
    expect(untrusted.failure?.reason).toMatch(/certificate/);

    // a genuine token of the right TSA, but over other claims: its imprint gives it away
    const other = await createTsaClient({ url: tsa.url, trust }).timestamp('other checkpoints');
    const moved = await verifyLedger(forge({ ...stamp, token: Buffer.from(other.der).toString('base64') }), {
      resolver: parties.resolver,
      tsaTrust: trust,
      threads: 1,
    });
    expect(moved.failure).toMatchObject({ seq: stamp.seq, code: 'ERR_LEDGER_TIMESTAMP_INVALID' });
    expect(moved.failure?.reason).toMatch(/imprint/);

    const wrongSeal = await verifyLedger(
      forge({
        ...stamp,
        meta: {
          ...stamp.meta,
          checkpoints: stamp.meta.checkpoints.map((c, i) =>
            i === 0 ? { ...c, sealSha256: '0'.repeat(64) } : c,
          ),
        },
      }),
      { resolver: parties.resolver, tsaTrust: trust, threads: 1 },
    );
    expect(wrongSeal.failure).toMatchObject({ seq: stamp.seq, code: 'ERR_LEDGER_TIMESTAMP_INVALID' });
  });
});
