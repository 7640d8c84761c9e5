import type { NatsConnection } from '@nats-io/transport-node';
import { type EnvelopeMeta, newMessageId } from '@passerelle/envelope';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DossierKeys, connectNats, eraseDossier } from '../src/index.js';
import { COMMUNE, OE, POST, useFixture } from './fixtures.js';

describe('dossier keys', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  const fx = useFixture([POST, OE, COMMUNE]);
  const of = (participant: string) =>
    DossierKeys.open(nc, { keys: fx.keys.get(participant)!, directory: fx.resolver });

  beforeAll(async () => {
    nc = await connectNats({ servers: nats.url });
  });
  afterAll(() => nc.close());

  const meta = (dossierId: string, sender: string, recipient: string): EnvelopeMeta => ({
    id: newMessageId(),
    type: 'visa-issued',
    schemaVersion: 1,
    sender,
    recipient,
    dossierId,
    issuedAt: new Date().toISOString(),
    correlationId: 'c',
    causationId: null,
  });

  test('dossier keys - a payload opens for its recipient only, and a tampered or foreign one is refused', async () => {
    const [post, office, commune] = await Promise.all([of(POST), of(OE), of(COMMUNE)]);
    const m = meta('DOS-KEYS-0001', POST, OE);
    const sealed = await post.seal(m, { visaNumber: 'BEL0000001' });
    expect(JSON.stringify(sealed)).not.toContain('BEL0000001');
    expect(await office.open(m, sealed)).toEqual({ visaNumber: 'BEL0000001' });
    // the commune holds no copy of this dossier's key
    await expect(commune.open(m, sealed)).rejects.toMatchObject({ code: 'ERR_DOSSIER_KEY_UNAVAILABLE' });
    // bound to its dossier, and not malleable
    await expect(office.open({ ...m, dossierId: 'DOS-KEYS-0002' }, sealed)).rejects.toMatchObject({
      code: expect.stringMatching(/ERR_DOSSIER_KEY_UNAVAILABLE|ERR_PAYLOAD_NOT_SEALED/),
    });
    const [f, kid, iv, body] = sealed.dossierSealed.split('.');
    const flipped = Buffer.from(body!, 'base64url');
    flipped[0]! ^= 1;
    await expect(
      office.open(m, { dossierSealed: [f, kid, iv, flipped.toString('base64url')].join('.') }),
    ).rejects.toMatchObject({ code: 'ERR_PAYLOAD_NOT_SEALED' });
    // a key id is never a subject wildcard
    await expect(office.open(m, { dossierSealed: [f, '*', iv, body].join('.') })).rejects.toMatchObject({
      code: 'ERR_PAYLOAD_NOT_SEALED',
    });
    await expect(office.open(m, { visaNumber: 'BEL0000001' })).rejects.toMatchObject({
      code: 'ERR_PAYLOAD_NOT_SEALED',
    });
  });

  test('dossier keys - a party without a copy makes its own key; an erasure destroys every key of the dossier', async () => {
    const [post, office, commune] = await Promise.all([of(POST), of(OE), of(COMMUNE)]);
    const dossierId = 'DOS-KEYS-0003';
    const first = meta(dossierId, POST, OE);
    const fromPost = await post.seal(first, { n: 1 });
    // the commune writes to the office in the same dossier without ever having received from it
    const second = meta(dossierId, COMMUNE, OE);
    const fromCommune = await commune.seal(second, { n: 2 });
    expect(fromCommune.dossierSealed.split('.')[1]).not.toBe(fromPost.dossierSealed.split('.')[1]);
    expect(await office.open(first, fromPost)).toEqual({ n: 1 });
    expect(await office.open(second, fromCommune)).toEqual({ n: 2 });

    const erased = await eraseDossier(await post.kv(), dossierId);
    expect(erased.kids).toHaveLength(2);
    expect(erased.holders).toEqual([COMMUNE, OE, POST]);
    for (const [m, sealed] of [
      [first, fromPost],
      [second, fromCommune],
    ] as const) {
      await expect(office.open(m, sealed)).rejects.toMatchObject({ code: 'ERR_DOSSIER_ERASED' });
      await expect((await of(OE)).open(m, sealed)).rejects.toMatchObject({ code: 'ERR_DOSSIER_ERASED' });
    }
    // no party makes a new key for it: nothing new is sealed in the erased dossier
    await expect(commune.seal(meta(dossierId, COMMUNE, OE), { n: 3 })).rejects.toMatchObject({
      code: 'ERR_DOSSIER_ERASED',
    });
    await expect((await of(POST)).documentSecret(dossierId)).rejects.toMatchObject({
      code: 'ERR_DOSSIER_ERASED',
    });
    const left: string[] = [];
    for await (const name of await (await post.kv()).keys(`${dossierId}.>`)) left.push(name);
    expect(left).toEqual([`${dossierId}._`]);
    await expect(eraseDossier(await post.kv(), dossierId)).rejects.toMatchObject({
      code: 'ERR_DOSSIER_ERASED',
    });
    await expect(eraseDossier(await post.kv(), 'DOS-KEYS-NEVER')).rejects.toMatchObject({
      code: 'ERR_ERASURE_UNKNOWN_DOSSIER',
    });
  });
});
