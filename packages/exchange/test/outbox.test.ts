import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { useNatsServer } from '@passerelle/testing/vitest';
import { describe, expect, test } from 'vitest';
import { Outbox, type OutboxRecord, type ReceiptClaims, outboxBucketName } from '../src/internal.js';

const record = (id: string): OutboxRecord => ({
  id,
  type: 'visa-issued',
  recipient: 'immigration-office',
  dossierId: 'dossier-outbox-0001',
  subject: 'pex.msg.visa-issued.post-ankara.immigration-office',
  envelopeSha256: 'a'.repeat(64),
  sentAt: '2026-11-26T10:00:00.000Z',
});
const claims = (id: string, envelopeSha256 = 'a'.repeat(64)): ReceiptClaims => ({
  messageId: id,
  type: 'visa-issued',
  dossierId: 'dossier-outbox-0001',
  sender: 'post-ankara',
  receiver: 'immigration-office',
  envelopeSha256,
  receivedAt: '2026-11-26T10:00:01.000Z',
  status: 'accepted',
});

describe('outbox', () => {
  const nats = useNatsServer();

  test('outbox - a receipt is attached to what was sent, whether the record was just written or changed since', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const outbox = await Outbox.open(nc, 'post-ankara');
      const kv = await new Kvm(nc).open(outboxBucketName('post-ankara'));

      // written by this process: recorded in one conditional update
      await outbox.recordSent(record('m-1'));
      expect(await outbox.recordReceipt(claims('m-1'), 'jws-1')).toEqual({ kind: 'recorded' });
      expect((await outbox.get('m-1'))?.receipt?.jws).toBe('jws-1');
      // the same receipt again (the receiver sends one per delivery): still recorded, first one kept
      expect(await outbox.recordReceipt(claims('m-1'), 'jws-1-again')).toEqual({ kind: 'recorded' });
      expect((await outbox.get('m-1'))?.receipt?.jws).toBe('jws-1');

      // the record changed after this process wrote it (another instance, a restart): read, then update
      await outbox.recordSent(record('m-2'));
      await kv.put('m-2', JSON.stringify({ ...record('m-2'), sentAt: '2026-11-26T10:00:00.500Z' }));
      expect(await outbox.recordReceipt(claims('m-2'), 'jws-2')).toEqual({ kind: 'recorded' });
      expect(await outbox.get('m-2')).toMatchObject({
        sentAt: '2026-11-26T10:00:00.500Z',
        receipt: { jws: 'jws-2' },
      });

      // a record another process wrote: this one never saw it sent
      await kv.put('m-3', JSON.stringify(record('m-3')));
      expect(await outbox.recordReceipt(claims('m-3'), 'jws-3')).toEqual({ kind: 'recorded' });

      // other bytes than were sent, whichever path reads the record; nothing is attached
      await outbox.recordSent(record('m-4'));
      const otherBytes = { kind: 'mismatch', field: 'envelopeSha256' };
      expect(await outbox.recordReceipt(claims('m-4', 'b'.repeat(64)), 'jws-4')).toEqual(otherBytes);
      expect(await outbox.recordReceipt(claims('m-4', 'b'.repeat(64)), 'jws-4')).toEqual(otherBytes);
      expect((await outbox.get('m-4'))?.receipt).toBeUndefined();
      // and a message never sent
      expect(await outbox.recordReceipt(claims('m-5'), 'jws-5')).toEqual({ kind: 'unknown' });
      expect((await outbox.unreceipted(new Date('2026-11-27T00:00:00Z'))).map((r) => r.id)).toEqual(['m-4']);
    } finally {
      await nc.close();
    }
  });

  test('outbox - a receipt signed by another participant than the recipient, or naming another type or dossier, is not attached', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const outbox = await Outbox.open(nc, 'post-ankara');
      const forged: [Partial<ReceiptClaims>, string][] = [
        [{ receiver: 'commune-21004' }, 'receiver'],
        [{ type: 'visa-refused' }, 'type'],
        [{ dossierId: 'dossier-outbox-0002' }, 'dossierId'],
      ];
      for (const [i, [change, field]] of forged.entries()) {
        const id = `f-${i}`;
        await outbox.recordSent(record(id));
        // from the record this process remembers, then as read back from the bucket
        for (let pass = 0; pass < 2; pass++) {
          expect(await outbox.recordReceipt({ ...claims(id), ...change }, 'jws-forged')).toEqual({
            kind: 'mismatch',
            field,
          });
        }
        expect((await outbox.get(id))?.receipt).toBeUndefined();
        // the recipient's own receipt is still taken
        expect(await outbox.recordReceipt(claims(id), 'jws-genuine')).toEqual({ kind: 'recorded' });
      }
    } finally {
      await nc.close();
    }
  });
});
