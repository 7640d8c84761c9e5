import { Kvm } from '@nats-io/kv';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { createStaticResolver, generateParticipantKeys, publicKeysOf } from '@passerelle/envelope';
import { DossierKeys, eraseDossier } from '@passerelle/exchange';
import { DossierStore, type PendingMessage, ProcedureError } from '@passerelle/procedure';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateStorageKeyring } from '@passerelle/directory';
import { DossierRecordCipher, StateCipher } from '../src/index.js';
import { pseudonymKeys } from '../src/internal.js';

interface Counter {
  n: number;
}

describe('dossier store on a JetStream KV bucket', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let store: DossierStore<Counter>;

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    store = new DossierStore<Counter>(await new Kvm(nc).create('svc-store-test', { history: 1 }));
  });
  afterAll(async () => {
    await nc?.close();
  });

  /**
   * What a commune's store under dossier keys needs: its storage keyring and the cipher of `purpose` over it,
   * its dossier keys, and a new bucket.
   */
  async function dossierKeyed(purpose: string, bucket: string) {
    const ring = generateStorageKeyring('commune-21004');
    const participant = await generateParticipantKeys('commune-21004');
    const directory = createStaticResolver([publicKeysOf(participant)]);
    return {
      ring,
      storage: StateCipher.fromKeyring(ring, purpose),
      dossierKeys: await DossierKeys.open(nc, { keys: participant, directory }),
      kv: await new Kvm(nc).create(bucket, { history: 1 }),
    };
  }

  const step = (cur: Counter | undefined) => ({
    state: { n: (cur?.n ?? 0) + 1 },
    send: [{ type: 'visa-issued', payload: { n: (cur?.n ?? 0) + 1 } }],
  });

  test('store - a step id applied once: a redelivered message changes nothing and sends nothing again', async () => {
    const sent: PendingMessage[] = [];
    const send = (_p: string, _d: string, m: PendingMessage) => Promise.resolve(void sent.push(m));
    await store.apply('post-lagos', 'D-STORE-0001', 'msg-1', step, send);
    await store.apply('post-lagos', 'D-STORE-0001', 'msg-1', step, send);
    await store.apply('post-lagos', 'D-STORE-0001', 'msg-2', step, send);
    expect(await store.get('post-lagos', 'D-STORE-0001')).toEqual({ n: 2 });
    expect(sent.map((m) => m.payload)).toEqual([{ n: 1 }, { n: 2 }]);
  });

  test('store - a send that fails leaves the message in the outbox; the redelivery sends it once', async () => {
    const sent: PendingMessage[] = [];
    const failing = () => Promise.reject(new Error('publish timed out'));
    await expect(store.apply('post-lagos', 'D-STORE-0002', 'msg-1', step, failing)).rejects.toThrow(
      'publish timed out',
    );
    // The state moved on with its message kept: the decision is not lost.
    expect((await store.read('post-lagos', 'D-STORE-0002'))?.outbox).toHaveLength(1);
    await store.apply('post-lagos', 'D-STORE-0002', 'msg-1', step, (_p, _d, m) =>
      Promise.resolve(void sent.push(m)),
    );
    expect(sent).toHaveLength(1);
    expect(await store.read('post-lagos', 'D-STORE-0002')).toMatchObject({ state: { n: 1 }, outbox: [] });
  });

  test('store - each decided message gets a stable id; with onUnsent a failed send returns the state and the dossier is listed unsent', async () => {
    let n = 0;
    const unsentSeen: string[] = [];
    const relayed = new DossierStore<Counter>(await new Kvm(nc).create('svc-store-relay', { history: 1 }), {
      newMessageId: () => `id-${++n}`,
      onUnsent: (p, d) => void unsentSeen.push(`${p}.${d}`),
    });
    const failing = () => Promise.reject(new Error('publish timed out'));
    // the step is written; the caller gets its state, not the send's error
    expect(await relayed.apply('post-lagos', 'D-STORE-0009', 'msg-1', step, failing)).toEqual({ n: 1 });
    expect(unsentSeen).toEqual(['post-lagos.D-STORE-0009']);
    const kept = (await relayed.read('post-lagos', 'D-STORE-0009'))!.outbox;
    expect(kept).toEqual([expect.objectContaining({ id: 'id-1', type: 'visa-issued' })]);
    const unsent = [];
    for await (const u of relayed.unsent()) unsent.push(u);
    expect(unsent).toEqual([{ participant: 'post-lagos', dossierId: 'D-STORE-0009' }]);
    // sent later under the same id; then nothing is left
    const sent: PendingMessage[] = [];
    await relayed.flush('post-lagos', 'D-STORE-0009', (_p, _d, m) => Promise.resolve(void sent.push(m)));
    expect(sent.map((m) => m.id)).toEqual(['id-1']);
    for await (const u of relayed.unsent()) throw new Error(`still unsent: ${u.dossierId}`);
    // an error that retrying alone cannot cure is also the caller's to see; the message is kept and reported
    const refused = () => Promise.reject(new ProcedureError('ERR_OUT_OF_SEQUENCE', 'not allowed'));
    await expect(relayed.apply('post-lagos', 'D-STORE-0011', 'msg-1', step, refused)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_SEQUENCE',
    });
    expect(unsentSeen).toEqual(['post-lagos.D-STORE-0009', 'post-lagos.D-STORE-0011']);
    expect((await relayed.read('post-lagos', 'D-STORE-0011'))!.outbox).toHaveLength(1);
    // a step that refuses is still thrown to the caller
    await expect(
      relayed.apply(
        'post-lagos',
        'D-STORE-0009',
        'msg-2',
        () => Promise.reject(new Error('refused')),
        failing,
      ),
    ).rejects.toThrow('refused');
  });

  test('store - flushes that meet on one dossier, and a step appended during a send, send each message once', async () => {
    let n = 0;
    const s = new DossierStore<Counter>(await new Kvm(nc).create('svc-store-flush', { history: 1 }), {
      newMessageId: () => `id-${++n}`,
      onUnsent: () => undefined,
    });
    const msg = (k: number): PendingMessage => ({ type: 'visa-issued', payload: { k } });
    const failing = () => Promise.reject(new Error('exchange unreachable'));
    await s.apply(
      'post-lagos',
      'D-STORE-0010',
      'msg-1',
      () => ({ state: { n: 1 }, send: [msg(1), msg(2), msg(3)] }),
      failing,
    );

    const sent: string[] = [];
    let appended: Promise<unknown> | undefined;
    const slow = async (_p: string, _d: string, m: PendingMessage): Promise<void> => {
      if (m.id === 'id-1') {
        // another step of the dossier is written while the first message goes out
        appended = s.apply(
          'post-lagos',
          'D-STORE-0010',
          'msg-2',
          () => ({ state: { n: 2 }, send: [msg(4)] }),
          slow,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
      sent.push(m.id!);
    };
    await Promise.all([
      s.flush('post-lagos', 'D-STORE-0010', slow),
      s.flush('post-lagos', 'D-STORE-0010', slow),
      s.flush('post-lagos', 'D-STORE-0010', slow),
    ]);
    await appended;
    expect(sent).toEqual(['id-1', 'id-2', 'id-3', 'id-4']);
    expect(await s.read('post-lagos', 'D-STORE-0010')).toMatchObject({ state: { n: 2 }, outbox: [] });
  });

  test('store - concurrent steps on one dossier all apply (compare-and-set retries)', async () => {
    const noSend = () => Promise.resolve();
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        store.apply(
          'commune-21004',
          'D-STORE-0003',
          `msg-${i}`,
          (cur) => ({ state: { n: (cur?.n ?? 0) + 1 } }),
          noSend,
        ),
      ),
    );
    expect(await store.get('commune-21004', 'D-STORE-0003')).toEqual({ n: 5 });
  });

  test('store - a refused step writes nothing', async () => {
    await expect(
      store.apply(
        'commune-21004',
        'D-STORE-0004',
        'msg-1',
        () => {
          throw new Error('out of sequence');
        },
        () => Promise.resolve(),
      ),
    ).rejects.toThrow('out of sequence');
    expect(await store.get('commune-21004', 'D-STORE-0004')).toBeUndefined();
    const listed: string[] = [];
    for await (const d of store.list('commune-21004')) listed.push(d.dossierId);
    expect(listed).toEqual(['D-STORE-0003']);
  });
  test('store - records sealed with the participant storage key: readable by it only, bound to their key', async () => {
    const keys = generateStorageKeyring('commune-21004');
    const other = generateStorageKeyring('commune-21004');
    const kv = await new Kvm(nc).create('svc-sealed-test', { history: 1 });
    const sealed = new DossierStore<{ passport: string }>(kv, {
      cipher: () => StateCipher.fromKeyring(keys, 'dossiers'),
    });
    await sealed.apply(
      'commune-21004',
      'D-SEAL-0001',
      'msg-1',
      () => ({ state: { passport: 'P1234567' } }),
      () => Promise.resolve(),
    );
    expect(await sealed.get('commune-21004', 'D-SEAL-0001')).toEqual({ passport: 'P1234567' });
    const raw = new TextDecoder().decode((await kv.get('commune-21004.D-SEAL-0001'))!.value);
    expect(raw).not.toContain('P1234567');
    // Copied under another key, or read with another key: refused with a stable code.
    await kv.put('commune-21004.D-SEAL-0002', raw);
    await expect(sealed.get('commune-21004', 'D-SEAL-0002')).rejects.toMatchObject({
      code: 'ERR_STATE_UNREADABLE',
    });
    const stranger = new DossierStore(kv, {
      cipher: () => StateCipher.fromKeyring(other, 'dossiers'),
    });
    await expect(stranger.get('commune-21004', 'D-SEAL-0001')).rejects.toMatchObject({
      code: 'ERR_STATE_UNREADABLE',
    });
    const [pseudonym] = pseudonymKeys(keys, 'register', 'P1234567');
    expect(pseudonym).toMatch(/^[0-9a-f]{32}$/);
    expect(pseudonymKeys(other, 'register', 'P1234567')).not.toContain(pseudonym);
    // a storage-key rotation leaves the pseudonyms as they are (the register holds no passport to key again)
    const next = generateStorageKeyring('commune-21004');
    const rotated = { ...keys, current: next.current, keys: [...keys.keys, ...next.keys] };
    expect(pseudonymKeys(rotated, 'register', 'P1234567')).toEqual([pseudonym]);
    // the legacy pseudonym (derived from the signing key by an earlier release) comes last, when asked for
    const signing = (await generateParticipantKeys('commune-21004')).signing;
    expect(pseudonymKeys(keys, 'register', 'P1234567', signing)).toHaveLength(2);
  });

  test('store - under dossier keys: a record of before still reads and is sealed at its next write; an erased dossier is reported, not read nor listed', async () => {
    const { dossierKeys, storage, kv } = await dossierKeyed('dossiers', 'svc-dossier-keyed-test');
    const noSend = () => Promise.resolve();
    const put = (s: DossierStore<{ passport: string }>, dossierId: string, stepId: string) =>
      s.apply('commune-21004', dossierId, stepId, () => ({ state: { passport: 'P7654321' } }), noSend);
    // written before dossier keys were on: under the storage key only
    await put(new DossierStore(kv, { cipher: () => storage }), 'D-KEYED-0001', 'msg-1');
    const keyed = new DossierStore<{ passport: string }>(kv, {
      cipher: () => new DossierRecordCipher(storage, dossierKeys),
    });
    expect(await keyed.get('commune-21004', 'D-KEYED-0001')).toEqual({ passport: 'P7654321' });
    // a step whose message could not be sent: it waits in the dossier's outbox
    await keyed
      .apply(
        'commune-21004',
        'D-KEYED-0001',
        'msg-2',
        () => ({ state: { passport: 'P7654321' }, send: [{ type: 'visa-issued', payload: {} }] }),
        () => Promise.reject(new Error('publish timed out')),
      )
      .catch(() => undefined);
    expect((await keyed.read('commune-21004', 'D-KEYED-0001'))?.outbox).toHaveLength(1);
    await put(keyed, 'D-KEYED-0002', 'msg-1');
    for (const id of ['D-KEYED-0001', 'D-KEYED-0002']) {
      const raw = new TextDecoder().decode((await kv.get(`commune-21004.${id}`))!.value);
      expect(Object.keys(storage.open<object>(raw, `commune-21004.${id}`)!)).toEqual(['dossierSealed']);
    }
    // moved to another dossier's key, it does not open
    const moved = (await kv.get('commune-21004.D-KEYED-0002'))!.value;
    await kv.put('commune-21004.D-KEYED-0003', moved);
    await expect(keyed.get('commune-21004', 'D-KEYED-0003')).rejects.toMatchObject({
      code: 'ERR_STATE_UNREADABLE',
    });
    await kv.purge('commune-21004.D-KEYED-0003');

    await eraseDossier(await dossierKeys.kv(), 'D-KEYED-0001');
    await expect(keyed.get('commune-21004', 'D-KEYED-0001')).rejects.toMatchObject({
      code: 'ERR_DOSSIER_ERASED',
    });
    const scanned: string[] = [];
    for await (const r of keyed.scan('commune-21004')) scanned.push(`${r.dossierId}:${r.outcome}`);
    expect(scanned).toEqual(['D-KEYED-0001:erased', 'D-KEYED-0002:stored']);
    const erased: string[] = [];
    const listed: string[] = [];
    for await (const d of keyed.list('commune-21004', (id) => erased.push(id))) listed.push(d.dossierId);
    expect({ listed, erased }).toEqual({ listed: ['D-KEYED-0002'], erased: ['D-KEYED-0001'] });
    // its outbox is owed no more: the relay's scan does not list it, and is told it was erased
    const unsent: string[] = [];
    const erasedOutbox: string[] = [];
    for await (const u of keyed.unsent('commune-21004', undefined, (id) => erasedOutbox.push(id)))
      unsent.push(u.dossierId);
    expect({ unsent, erasedOutbox }).toEqual({ unsent: [], erasedOutbox: ['D-KEYED-0001'] });
    // nothing new is written on it either
    await expect(put(keyed, 'D-KEYED-0001', 'msg-3')).rejects.toMatchObject({ code: 'ERR_DOSSIER_ERASED' });
  });

  test('store - a register filed by holder: each entry under the key of the dossier it came from, erased with it; an entry from outside the exchange under the storage key only', async () => {
    const { ring, dossierKeys, storage, kv } = await dossierKeyed('register', 'svc-register-keyed-test');
    interface Entry {
      permitNumber: string;
      dossierId?: string;
    }
    const register = new DossierStore<Entry>(kv, {
      cipher: () =>
        new DossierRecordCipher(storage, dossierKeys, {
          dossierOf: (record) => (record as { state?: Entry }).state?.dossierId,
        }),
    });
    const file = (holder: string, entry: Entry) =>
      register.apply(
        'commune-21004',
        holder,
        `permit:${entry.permitNumber}`,
        () => ({ state: entry }),
        () => Promise.resolve(),
      );
    const [issued, imported] = pseudonymKeys(ring, 'register', 'P1111111').concat(
      pseudonymKeys(ring, 'register', 'P2222222'),
    ) as [string, string];
    await file(issued, { permitNumber: 'SP-0001', dossierId: 'D-REGISTER-0001' });
    await file(imported, { permitNumber: 'A60-0002' });
    expect(await register.get('commune-21004', issued)).toEqual({
      permitNumber: 'SP-0001',
      dossierId: 'D-REGISTER-0001',
    });
    // the storage layer of the issued entry holds only its dossier's sealed form and the dossier id
    const layer = storage.open<{ dossierSealed?: string; kept?: object }>(
      new TextDecoder().decode((await kv.get(`commune-21004.${issued}`))!.value),
      `commune-21004.${issued}`,
    )!;
    expect(Object.keys(layer).sort()).toEqual(['dossierSealed', 'kept']);
    expect(layer.kept).toEqual({ dossierId: 'D-REGISTER-0001' });
    expect(JSON.stringify(layer)).not.toContain('SP-0001');

    await eraseDossier(await dossierKeys.kv(), 'D-REGISTER-0001');
    await expect(register.get('commune-21004', issued)).rejects.toMatchObject({ code: 'ERR_DOSSIER_ERASED' });
    // the entry of a permit from outside the exchange has no dossier to be erased with
    expect(await register.get('commune-21004', imported)).toEqual({ permitNumber: 'A60-0002' });
  });
});
