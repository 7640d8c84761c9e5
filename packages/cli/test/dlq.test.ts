import { writeDeadLetter } from '@passerelle/exchange/internal';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { runCliCaptured as capture } from '../src/internal.js';
import { connectProvisioned } from './fixtures.js';

describe('passerelle dlq', () => {
  const nats = useNatsServer();
  afterEach(() => vi.restoreAllMocks());

  test('dlq - list, show and replay a dead letter; meta shown, payload never', async () => {
    const { nc, jsm, js } = await connectProvisioned(nats.url);
    const body = JSON.stringify({
      meta: {
        id: '0190f5c2-aaaa-7bbb-8ccc-000000000001',
        type: 'visa-issued',
        sender: 'post-ankara',
        recipient: 'immigration-office',
      },
      jwe: 'opaque-ciphertext',
      seal: 'x.y.z',
    });
    const subject = 'pex.msg.visa-issued.post-ankara.immigration-office';
    const seq = await writeDeadLetter(js, new TextEncoder().encode(body), {
      participant: 'immigration-office',
      code: 'ERR_UNKNOWN_DOSSIER',
      reason: 'A message refers to a dossier this body has never opened.',
      originalSubject: subject,
      originalSeq: 42,
      deliveries: 1,
      messageId: '0190f5c2-aaaa-7bbb-8ccc-000000000001',
    });

    const list = await capture(['dlq', 'list', '--server', nats.url]);
    expect(list.code).toBe(0);
    expect(list.out).toContain('ERR_UNKNOWN_DOSSIER');
    expect(list.out).toContain('visa-issued');
    expect(list.out).not.toContain('opaque-ciphertext');

    const show = await capture(['dlq', 'show', String(seq), '--server', nats.url]);
    expect(JSON.parse(show.out)).toMatchObject({
      seq,
      code: 'ERR_UNKNOWN_DOSSIER',
      originalSubject: subject,
      originalSeq: 42,
    });
    expect(show.out).not.toContain('opaque-ciphertext');

    // a count or sequence that does not parse is an error, never an empty answer
    for (const args of [
      ['list', '--limit', 'abc'],
      ['list', '--limit', '0'],
      ['show', 'abc'],
      ['replay', '1.5'],
    ]) {
      const bad = await capture(['dlq', ...args, '--server', nats.url]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('ERR_CONFIG_INVALID');
      expect(bad.out).toBe('');
    }

    // a refused message's meta may hold anything: only well-formed meta members are shown
    const forged = JSON.stringify({
      meta: {
        id: 'JANSSENS Marie P9988776',
        type: 'visa-issued',
        applicant: { familyName: 'JANSSENS', passportNumber: 'P9988776' },
      },
      jwe: 'x',
      seal: 'x.y.z',
    });
    const forgedSeq = await writeDeadLetter(js, new TextEncoder().encode(forged), {
      participant: 'immigration-office',
      code: 'ERR_ENVELOPE_MALFORMED',
      reason: 'meta.id must match the UUID pattern.',
      originalSubject: subject,
      originalSeq: 43,
      deliveries: 1,
    });
    const shown = await capture(['dlq', 'show', String(forgedSeq), '--server', nats.url]);
    expect(JSON.parse(shown.out)).toMatchObject({ meta: { type: 'visa-issued' } });
    for (const out of [shown.out, (await capture(['dlq', 'list', '--json', '--server', nats.url])).out]) {
      expect(out).not.toContain('JANSSENS');
      expect(out).not.toContain('P9988776');
    }
    await jsm.streams.deleteMessage('DEADLETTER', forgedSeq);

    const missing = await capture(['dlq', 'show', '999', '--server', nats.url]);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('ERR_DEAD_LETTER_NOT_FOUND');

    const replay = await capture(['dlq', 'replay', String(seq), '--server', nats.url]);
    expect(replay.out).toContain(`replayed dead letter ${seq} to ${subject}`);
    const info = await jsm.streams.info('EXCHANGE');
    expect(info.state.messages).toBe(1);
    expect((await capture(['dlq', 'list', '--server', nats.url])).out).toBe('no dead letters');
    await nc.close();
  });
});
