import { createHash } from 'node:crypto';
import {
  checkProof,
  createLedgerWriter,
  proveMessage,
  readLedger,
  readLedgerEntries,
  verifyLedger,
} from '@passerelle/audit';
import { type Contracts, loadContracts, payloadRetentionMs } from '@passerelle/contracts';
import { DecisionArchive, DocumentStore } from '@passerelle/documents';
import { PasserelleError } from '@passerelle/errors';
import type { ParticipantKeys } from '@passerelle/envelope';
import { type Exchange, StreamNames } from '@passerelle/exchange';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { useAuditedNats, visa } from '../support/audited-keys.js';
import { OE, POST } from '../support/participants.js';

const RETENTION_SECONDS = 2;
/** Long enough for a delivery on a loaded machine, short enough to be waited for. */
const DEAD_LETTER_RETENTION_SECONDS = 12;
const repoRoot = new URL('../..', import.meta.url).pathname;

/** How long the server's own expiry timer may take to drop what is past its retention. */
const EXPIRY = { timeout: 30_000, interval: 100 } as const;

/** Waits until `read` is refused with the error `code`: what it read has expired. */
function untilRefused(read: () => Promise<unknown>, code: string): Promise<boolean> {
  return vi.waitUntil(
    () =>
      read().then(
        () => false,
        (err: { code?: string }) => err.code === code,
      ),
    EXPIRY,
  );
}

/** The agreement as it is, with every type's retention shortened to `seconds`. */
function withRetention(loaded: Contracts, seconds: number): Contracts {
  const days = seconds / 86_400;
  return {
    ...loaded,
    retentionDays: () => days,
    types: () => loaded.types().map((t) => ({ ...t, retentionDays: days })),
  };
}

describe('retention per contract', { timeout: 90_000 }, () => {
  const world = useAuditedNats(POST, OE);
  let contracts: Contracts;
  let deadLetterContracts: Contracts;
  const open: Exchange[] = [];
  /** Connects a participant under `agreement`; the exchange is closed after the tests. */
  const connect = async (keys: ParticipantKeys, agreement: Contracts) => {
    const ex = await world.connect(keys, agreement);
    open.push(ex);
    return ex;
  };

  beforeAll(async () => {
    const loaded = await loadContracts({ root: repoRoot });
    // the agreement as it is, with every type's retention shortened to seconds so that the test sees it pass
    contracts = withRetention(loaded, RETENTION_SECONDS);
    deadLetterContracts = withRetention(loaded, DEAD_LETTER_RETENTION_SECONDS);
  });
  afterAll(async () => {
    await Promise.all(open.map((e) => e.close()));
  });

  test('retention - payloads leave the stream and the stores at their contract retention; every proof still verifies', async () => {
    const { nc, jsm, post, office, auditor, resolver } = world;
    const [sender, receiver] = await Promise.all([connect(post, contracts), connect(office, contracts)]);
    let done!: () => void;
    const allReceived = new Promise<void>((resolve) => (done = resolve));
    let received = 0;
    receiver.subscribe({ 'visa-issued': async () => void (++received === 3 && done()) });
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const [sent] = await sender.send('visa-issued', visa(`BEL000000${i}`), {
        to: OE,
        dossierId: `DOS-RETAIN-000${i}`,
      });
      ids.push(sent!.id);
    }
    await allReceived;

    // the stores, opened as the portal and the services open them, with the contract's retention
    const maxAgeMs = payloadRetentionMs(contracts);
    expect(maxAgeMs).toBe(RETENTION_SECONDS * 1000);
    const docs = await DocumentStore.open(nc, { maxAgeMs });
    const bytes = new TextEncoder().encode('passport copy');
    const ref = await docs.put({
      owner: 'portal-demo',
      mediaType: 'application/pdf',
      body: (async function* () {
        yield bytes;
      })(),
      maxBytes: 1024,
    });
    // pex-decisions exists already, made without a limit (an earlier release): opening it applies one
    await DecisionArchive.open(nc);
    expect((await jsm.streams.info('OBJ_pex-decisions')).config.max_age).toBe(0);
    const decisions = await DecisionArchive.open(nc, { maxAgeMs });
    const annex = Buffer.from('annex 46: granted');
    const plain = {
      sha256: createHash('sha256').update(annex).digest('hex'),
      size: annex.length,
      mediaType: 'application/pdf' as const,
      objectKey: 'decisions/immigration-office/annex-46.pdf',
    };
    const sealed = await decisions.putSealed(plain, annex, Buffer.alloc(32, 7));
    expect(await docs.read(ref)).toEqual(bytes);
    for (const bucket of ['OBJ_pex-documents', 'OBJ_pex-decisions']) {
      expect((await jsm.streams.info(bucket)).config.max_age).toBe(maxAgeMs * 1_000_000);
    }

    // the auditor records every envelope and receipt while they are there
    const writer = await createLedgerWriter({ nc, auditorKey: auditor, resolver, checkpointIntervalMs: 0 });
    const info = await jsm.streams.info(StreamNames.exchange);
    const envelopeSeqs: number[] = [];
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(StreamNames.exchange, { seq });
      if (!m) throw new Error(`EXCHANGE lost message ${seq} before its retention`);
      if (m.subject.startsWith('pex.msg.')) {
        envelopeSeqs.push(seq);
        await writer.appendEnvelope(m.data);
      } else await writer.appendReceipt(m.data);
    }
    expect(envelopeSeqs).toHaveLength(3);
    await writer.checkpoint();

    // the server drops the payload bytes at their retention: envelopes, documents, decision documents
    // the envelopes have left EXCHANGE
    await vi.waitUntil(async () => {
      for (const seq of envelopeSeqs) {
        if (await jsm.streams.getMessage(StreamNames.exchange, { seq }).catch(() => null)) return false;
      }
      return true;
    }, EXPIRY);
    // the document has left pex-documents
    await untilRefused(() => docs.read(ref), 'ERR_DOCUMENT_INTEGRITY');
    // the decision document has left pex-decisions
    await untilRefused(() => decisions.read(sealed), 'ERR_DECISION_DOCUMENT_MISSING');
    expect((await jsm.streams.info('OBJ_pex-documents')).state.messages).toBe(0);

    // the ledger keeps what proofs need: it verifies whole, and each message's proof checks offline
    const lines: string[] = [];
    for await (const m of readLedger(nc)) lines.push(Buffer.from(m.data).toString());
    const report = await verifyLedger(lines, { resolver, threads: 1 });
    expect(report).toMatchObject({ ok: true, entries: lines.length });
    for (const id of ids) {
      const proof = await proveMessage(readLedgerEntries(nc), id, resolver);
      await expect(checkProof(proof, { resolver })).resolves.toMatchObject({ messageId: id });
    }
  });

  test('retention - a dead letter, a copy of a payload, leaves DEADLETTER at its type retention, not at the stream limit', async () => {
    // the exchanges of the test before stop: these take the same participants' consumers
    await Promise.all(open.splice(0).map((e) => e.close()));
    const { jsm, post, office } = world;
    const [sender, receiver] = await Promise.all([
      connect(post, deadLetterContracts),
      connect(office, deadLetterContracts),
    ]);
    const rejected = new Promise<void>((resolve) => receiver.onRejection(() => resolve()));
    receiver.subscribe({
      'visa-issued': async () => {
        throw new PasserelleError('ERR_OUT_OF_SEQUENCE', 'no visa expected now');
      },
    });
    const before = (await jsm.streams.info(StreamNames.deadLetter)).state.last_seq;
    await sender.send('visa-issued', visa('BEL0000009'), { to: OE, dossierId: 'DOS-RETAIN-0009' });
    await rejected;
    const dead = await jsm.streams.info(StreamNames.deadLetter);
    expect(dead.state.last_seq).toBe(before + 1);
    // the stream's own limit is EXCHANGE's (days): only the dead letter's own TTL can drop it this soon
    expect(dead.config.max_age).toBe((await jsm.streams.info(StreamNames.exchange)).config.max_age);
    expect(dead.config.max_age).toBeGreaterThan(DEAD_LETTER_RETENTION_SECONDS * 1_000 * 1_000_000);
    // the dead letter has left DEADLETTER
    await vi.waitUntil(async () => (await jsm.streams.info(StreamNames.deadLetter)).state.messages === 0, {
      ...EXPIRY,
      timeout: 60_000,
    });
  });
});
