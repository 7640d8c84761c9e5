import { createHash } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DecisionArchive } from '../src/index.js';
import { DECISIONS_BUCKET } from '../src/internal.js';
import { readAsRecipient } from './recipient.js';

const annex = (dossierId: string): Buffer =>
  Buffer.from(JSON.stringify({ document: '46', dossierId, issuer: 'immigration-office' }));

const refOf = (bytes: Buffer, objectKey = `decisions/immigration-office/${sha(bytes)}.json`) => ({
  sha256: sha(bytes),
  size: bytes.length,
  objectKey,
});

function sha(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const asRecipient = (nc: NatsConnection) => DecisionArchive.open(nc, { create: false });

describe('decision archive', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let archive: DecisionArchive;

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    archive = await DecisionArchive.open(nc);
  });
  afterAll(async () => {
    await nc.close();
  });

  test('decision archive - what the issuer stores, a recipient reads back on its own connection', async () => {
    const bytes = annex('D-2027-ARCH-1');
    const ref = refOf(bytes);
    await archive.put(ref.objectKey, bytes);
    const read = await readAsRecipient(nats.url, asRecipient, ref, (recipient) =>
      expect(recipient.bucket).toBe(DECISIONS_BUCKET),
    );
    expect(read.equals(bytes)).toBe(true);
  });

  test('decision archive - storing the same document again writes nothing; other bytes under its name are replaced', async () => {
    const bytes = annex('D-2027-ARCH-2');
    const ref = refOf(bytes);
    const os = await new Objm(nc).open(DECISIONS_BUCKET);
    await archive.put(ref.objectKey, bytes);
    const first = await os.info(ref.objectKey);
    await archive.put(ref.objectKey, bytes); // a step replayed after a crash
    expect((await os.info(ref.objectKey))?.revision).toBe(first?.revision);

    // something else was written under the name: the issuer's put restores the referenced bytes
    await os.putBlob({ name: ref.objectKey }, Buffer.from('not the annex'));
    await expect(archive.read(ref)).rejects.toMatchObject({ code: 'ERR_DOCUMENT_INTEGRITY' });
    await archive.put(ref.objectKey, bytes);
    expect(Buffer.from(await archive.read(ref)).equals(bytes)).toBe(true);
  });

  test('decision archive - nothing stored under the reference: ERR_DECISION_DOCUMENT_MISSING, retryable', async () => {
    const ref = refOf(annex('D-2027-ARCH-3'));
    const err = await archive.read(ref).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_DECISION_DOCUMENT_MISSING',
      retryable: true,
      details: { bucket: DECISIONS_BUCKET },
    });
  });

  test('decision archive - a reference with another hash or size: ERR_DOCUMENT_INTEGRITY, not retryable', async () => {
    const bytes = annex('D-2027-ARCH-4');
    const ref = refOf(bytes);
    await archive.put(ref.objectKey, bytes);
    for (const wrong of [
      { ...ref, sha256: 'f'.repeat(64) },
      { ...ref, size: ref.size - 1 },
    ]) {
      await expect(archive.read(wrong)).rejects.toMatchObject({
        code: 'ERR_DOCUMENT_INTEGRITY',
        retryable: false,
      });
    }
  });

  test('decision archive - an encrypted document: the bucket holds a random name and ciphertext, the reference reads it, the same document gives the same reference', async () => {
    const bytes = annex('D-2027-SEAL-1');
    const plain = { ...refOf(bytes), mediaType: 'application/json' as const };
    const secret = Buffer.alloc(32, 7);
    const sealed = await archive.putSealed(plain, bytes, secret);
    expect(sealed).toMatchObject({ sha256: plain.sha256, size: plain.size, mediaType: 'application/json' });
    expect(sealed.objectKey).toMatch(/^d1\/[A-Za-z0-9_-]{22}\/[A-Za-z0-9_-]{43}$/);
    const name = sealed.objectKey.split('/').slice(0, 2).join('/');
    const os = await new Objm(nc).open(DECISIONS_BUCKET);
    const stored = Buffer.from((await os.getBlob(name))!);
    expect(stored.length).toBe(1024 + 16); // padded to 1 KiB, and the GCM tag
    expect(stored.includes('D-2027-SEAL-1')).toBe(false);
    // a longer document (a refusal and its reason, a grant and its period) is stored at the same size
    const longer = Buffer.from(
      JSON.stringify({ document: '48', dossierId: 'D-2027-SEAL-1', outcome: 'refused:public-order-x' }),
    );
    const refusal = await archive.putSealed(
      { sha256: sha(longer), size: longer.length, mediaType: 'application/json', objectKey: 'x' },
      longer,
      secret,
    );
    expect((await os.info(refusal.objectKey.split('/').slice(0, 2).join('/')))?.size).toBe(1024 + 16);
    expect(await os.info(plain.objectKey)).toBeNull(); // nothing under the readable name
    // a recipient with the reference reads the plain document back
    expect((await readAsRecipient(nats.url, asRecipient, sealed)).equals(bytes)).toBe(true);
    // stored again (a step replayed after a crash): the same reference, nothing written
    const revision = (await os.info(name))?.revision;
    expect(await archive.putSealed(plain, bytes, secret)).toEqual(sealed);
    expect((await os.info(name))?.revision).toBe(revision);
    // another issuer's secret: another name and key
    const elsewhere = await archive.putSealed(plain, bytes, Buffer.alloc(32, 8));
    expect(elsewhere.objectKey.split('/')[1]).not.toBe(sealed.objectKey.split('/')[1]);
  });

  test('decision archive - an encrypted reference with another key, another hash or nothing stored is refused with its code', async () => {
    const bytes = annex('D-2027-SEAL-2');
    const plain = { ...refOf(bytes), mediaType: 'application/json' as const };
    const sealed = await archive.putSealed(plain, bytes, Buffer.alloc(32, 9));
    const [format, id] = sealed.objectKey.split('/');
    const otherKey = { ...sealed, objectKey: `${format}/${id}/${Buffer.alloc(32, 1).toString('base64url')}` };
    await expect(archive.read(otherKey)).rejects.toMatchObject({ code: 'ERR_DOCUMENT_INTEGRITY' });
    await expect(archive.read({ ...sealed, sha256: 'e'.repeat(64) })).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
    await expect(archive.read({ ...sealed, mediaType: 'application/pdf' })).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
    const unstored = `${format}/${Buffer.alloc(16, 3).toString('base64url')}/${Buffer.alloc(32, 1).toString('base64url')}`;
    await expect(archive.read({ ...sealed, objectKey: unstored })).rejects.toMatchObject({
      code: 'ERR_DECISION_DOCUMENT_MISSING',
    });
    // the issuer's own bytes must be those of the reference
    await expect(archive.putSealed(plain, annex('D-2027-OTHER'), Buffer.alloc(32, 9))).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
  });
});
