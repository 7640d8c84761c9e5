import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DecisionArchive, type DocumentRef, DocumentStore } from '../src/index.js';
import { readAsRecipient } from './recipient.js';

async function* chunks(...parts: Buffer[]): AsyncIterable<Uint8Array> {
  for (const p of parts) yield p;
}

describe('document store', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let docs: DocumentStore;
  const contract = Buffer.from('%PDF-1.7 employment contract of the applicant, signed\n');

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    docs = await DocumentStore.open(nc);
  });
  afterAll(async () => {
    await nc.close();
  });

  const put = (body: Buffer, owner = 'portal-employers'): Promise<DocumentRef> =>
    docs.put({ owner, mediaType: 'application/pdf', body: chunks(body), maxBytes: 1024 * 1024 });

  test('documents - a recipient holding only the reference reads the plain bytes back', async () => {
    const half = Math.floor(contract.length / 2);
    const ref = await docs.put({
      owner: 'portal-employers',
      mediaType: 'application/pdf',
      body: chunks(contract.subarray(0, half), contract.subarray(half)),
      maxBytes: 1024 * 1024,
    });
    expect(ref).toMatchObject({ mediaType: 'application/pdf', size: contract.length });
    // another connection, opening the store without creating it, as an administration does
    const read = await readAsRecipient(
      nats.url,
      (other) => DocumentStore.open(other, { create: false }),
      ref,
    );
    expect(read.equals(contract)).toBe(true);
    // the bucket holds ciphertext only
    const stored = Buffer.from((await docs.ciphertext(ref.objectKey))!);
    expect(stored.includes(Buffer.from('employment contract'))).toBe(false);
  });

  test('documents - a reference with another hash, size or key is refused with ERR_DOCUMENT_INTEGRITY', async () => {
    const ref = await put(contract);
    await expect(docs.read({ ...ref, sha256: 'f'.repeat(64) })).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
    await expect(docs.read({ ...ref, size: ref.size + 1 })).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
    const otherKey = ref.objectKey.replace(/\/[^/]+$/, `/${Buffer.alloc(32, 9).toString('base64url')}`);
    await expect(docs.read({ ...ref, objectKey: otherKey })).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
    await expect(docs.read({ ...ref, objectKey: 'd1/not-a-key' })).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
  });

  test('documents - ciphertext altered in the store fails decryption, and the error names no content', async () => {
    const ref = await put(contract);
    const name = ref.objectKey.split('/').slice(0, 2).join('/');
    const os = await new Objm(nc).open('pex-documents');
    const info = await os.info(name);
    const stored = Buffer.from((await os.getBlob(name))!);
    stored[3] = stored[3]! ^ 1;
    await os.put({ name, metadata: info!.metadata! }, new Blob([stored]).stream());
    const err = (await docs.read(ref).then(
      () => undefined,
      (e: unknown) => e,
    )) as Error & { code: string; details?: unknown };
    expect(err).toMatchObject({ code: 'ERR_DOCUMENT_INTEGRITY' });
    expect(JSON.stringify({ message: err.message, details: err.details })).not.toMatch(
      new RegExp(`${ref.sha256}|${ref.objectKey.split('/')[2]}|employment`),
    );
  });

  test('documents - a document whose chunks left the store before its metadata (expiring while read) is refused, not waited for', async () => {
    const ref = await put(contract);
    const jsm = await jetstreamManager(nc);
    const name = ref.objectKey.split('/').slice(0, 2).join('/');
    const info = await new Objm(nc).open('pex-documents').then((os) => os.info(name));
    const chunk = await jsm.streams.getMessage('OBJ_pex-documents', {
      last_by_subj: `$O.pex-documents.C.${info!.nuid}`,
    });
    await jsm.streams.deleteMessage('OBJ_pex-documents', chunk!.seq);
    await expect(docs.read(ref)).rejects.toMatchObject({ code: 'ERR_DOCUMENT_INTEGRITY' });
  });

  test('documents - check accepts the uploader only, and names the path of a reference that is not theirs', async () => {
    const ref = await put(contract, 'portal-employers');
    await expect(
      docs.check(ref, 'portal-employers', '/documents/employmentContract'),
    ).resolves.toBeUndefined();
    await expect(docs.check(ref, 'portal-other', '/documents/employmentContract')).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_UNKNOWN',
      details: { path: '/documents/employmentContract' },
    });
  });

  test('documents - a reference with another media type does not decrypt (the media type is authenticated)', async () => {
    const ref = await put(contract);
    await expect(docs.read({ ...ref, mediaType: 'image/png' })).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
    await expect(
      docs.check({ ...ref, mediaType: 'image/png' }, 'portal-employers', '/d'),
    ).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_UNKNOWN',
    });
  });

  test('documents - check refuses a reference whose hash or size differ from the upload', async () => {
    const ref = await put(contract);
    await expect(docs.check({ ...ref, size: ref.size - 1 }, 'portal-employers', '/d')).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_UNKNOWN',
    });
    await expect(
      docs.check({ ...ref, sha256: '0'.repeat(64) }, 'portal-employers', '/d'),
    ).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_UNKNOWN',
    });
  });

  test('documents - a closed connection is not mistaken for a store the operator must create', async () => {
    const closed = await connect({ servers: nats.url });
    await closed.close();
    const err = await DocumentStore.open(closed, { create: false }).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(err).toBeDefined();
    expect(err?.code).not.toBe('ERR_NOT_PROVISIONED');
  });

  // both stores open their bucket the same way
  test.each([
    {
      store: 'documents',
      bucket: 'pex-documents-missing',
      open: (bucket: string) => DocumentStore.open(nc, { bucket, create: false }),
    },
    {
      store: 'decision archive',
      bucket: 'pex-decisions-absent',
      open: (bucket: string) => DecisionArchive.open(nc, { bucket, create: false }),
    },
  ])(
    '$store - opening a store the operator has not created is ERR_NOT_PROVISIONED, naming the bucket',
    async ({ open, bucket }) => {
      await expect(open(bucket)).rejects.toMatchObject({ code: 'ERR_NOT_PROVISIONED', details: { bucket } });
    },
  );
});
