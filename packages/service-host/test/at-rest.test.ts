import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type KV, Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { type NatsConnection, connect } from '@nats-io/transport-node';
import { type Contracts, loadContracts } from '@passerelle/contracts';
import {
  type StorageKeyring,
  generateStorageKeyring,
  loadStorageKeys,
  retireStorageKey,
  rotateStorageKey,
} from '@passerelle/directory';
import { writeStorageKeys } from '@passerelle/directory/internal';
import { DecisionArchive, type DocumentRef } from '@passerelle/documents';
import {
  type ParticipantKeys,
  type PrivateJwk,
  createStaticResolver,
  generateKey,
  generateParticipantKeys,
  openEnvelope,
  publicKeysOf,
  toPublicJwk,
} from '@passerelle/envelope';
import { createLogger } from '@passerelle/exchange';
import { type BodyTable, type DossierRecord, decisionDocument } from '@passerelle/procedure';
import { useNatsServer } from '@passerelle/testing/vitest';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RECORD_PURPOSES, ServiceHost, StateCipher, resealRecords } from '../src/index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const OE = 'immigration-office';
const POST = 'post-ankara';
const PASSPORT = 'P1234567';

interface Held extends DossierRecord {
  phase: string;
  passport: string;
}

/**
 * What a thief holding only a participant's private signing key (and a copy of the buckets) tries on a
 * stored record: every key this code base has ever derived from a signing key, on every record format.
 */
function openWithSigningKey(signing: PrivateJwk, purpose: string, sealed: string, aad: string): unknown {
  const d = Buffer.from(signing.d, 'base64url');
  const derivations = [`passerelle service ${purpose}`, `passerelle storage v1 ${purpose}`];
  const parts = sealed.split('.');
  const [iv, body] = parts.length === 4 ? [parts[2]!, parts[3]!] : [parts[1]!, parts[2]!];
  for (const info of derivations) {
    try {
      const key = Buffer.from(hkdfSync('sha256', d, Buffer.alloc(0), info, 32));
      const data = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - 16));
      return JSON.parse(
        Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString(),
      );
    } catch {
      // not this one
    }
  }
  return undefined;
}

describe('records at rest', () => {
  const nats = useNatsServer();
  let nc: NatsConnection;
  let contracts: Contracts;
  let office: ParticipantKeys;
  let rotated: ParticipantKeys;
  let post: ParticipantKeys;
  let n = 0;

  beforeAll(async () => {
    nc = await connect({ servers: nats.url });
    contracts = await loadContracts({ root });
    [office, post] = await Promise.all([generateParticipantKeys(OE), generateParticipantKeys(POST)]);
    // the Office's signing key rotated: a new key, the same participant
    rotated = { ...office, signing: await generateKey('sig', { kidPrefix: OE }) };
  });
  afterAll(async () => {
    await nc?.close();
  });

  /** Both of the Office's signing keys, so that what either signed verifies. */
  const resolver = () =>
    createStaticResolver([
      {
        participantId: OE,
        signing: [toPublicJwk(office.signing), toPublicJwk(rotated.signing)],
        encryption: office.encryption.map(toPublicJwk),
      },
      publicKeysOf(post),
    ]);

  /** A host with an empty table: these tests write records and send through it directly. */
  const table: BodyTable<Held, never> = {
    body: 'immigration-office',
    evolve: (state) => state!,
    messages: {},
    actions: {},
    deadlines: {},
  };
  const open = (keys: ParticipantKeys, ring: StorageKeyring, bucket: string, legacyState?: boolean) =>
    ServiceHost.open<Held, never>({
      service: 'immigration-office',
      kind: 'immigration-office',
      table,
      participants: [keys],
      storageKeys: [ring],
      directory: resolver(),
      contracts,
      nc,
      bucket,
      ...(legacyState === undefined ? {} : { legacyState }),
      logger: createLogger('at-rest', { level: 'silent' }),
    });

  const hold = (phase: string) => () => ({ state: { phase, passport: PASSPORT } });

  /** An annex 46 with its document: the Office sends it to the post, the document stored first. */
  function annex46(dossierId: string) {
    const doc = decisionDocument({
      document: '46',
      issuer: OE,
      dossierId,
      issuedOn: '2027-03-01',
      article: 'Art. 105/46',
      period: { from: '2027-04-01', to: '2028-03-31' },
      outcome: 'granted',
    });
    const payload = {
      annex: '46',
      decidedOn: '2027-03-01',
      period: { from: '2027-04-01', to: '2028-03-31' },
      permitToIssue: 'annex-60',
      visaRequired: true,
      consularPostId: POST,
      decisionDocument: doc.ref,
    };
    return { doc, payload };
  }

  /** Sends the annex 46 from `host` and returns the document reference the post received. */
  async function sendAnnex46(host: ServiceHost<Held, never>, dossierId: string): Promise<DocumentRef> {
    const { doc, payload } = annex46(dossierId);
    const sub = nc.subscribe(`pex.msg.residence-decided.${OE}.${POST}`, { max: 1 });
    const received = (async () => {
      for await (const m of sub) return m.data;
      throw new Error('no message');
    })();
    await host.send(OE, dossierId, {
      type: 'residence-decided',
      payload,
      to: [POST],
      documents: [
        {
          objectKey: doc.ref.objectKey,
          sha256: doc.ref.sha256,
          base64: Buffer.from(doc.bytes).toString('base64'),
        },
      ],
    });
    const opened = await openEnvelope(await received, { recipient: post, resolver: resolver() });
    return (opened.payload as { decisionDocument: DocumentRef }).decisionDocument;
  }

  async function objectNames(): Promise<string[]> {
    const os = await new Objm(nc).open('pex-decisions');
    const names: string[] = [];
    for (const info of await os.list()) if (!info.deleted) names.push(info.name);
    return names.sort();
  }

  const raw = async (kv: KV, key: string): Promise<string> => (await kv.get(key))!.string();

  test('at rest - a signing-key rotation keeps every dossier record readable and every decision document reference the same', async () => {
    const bucket = `svc-at-rest-${++n}`;
    const ring = generateStorageKeyring(OE);
    const before = await open(office, ring, bucket);
    await before.store.apply(OE, 'D-ROT-0001', 'step-1', hold('decided'), before.send);
    const first = await sendAnnex46(before, 'D-ROT-0001');
    const stored = await objectNames();
    // a register entry as the commune files it: under a pseudonym of the passport, sealed for `register`
    const [pseudonym] = before.pseudonyms(OE, RECORD_PURPOSES.register, PASSPORT);
    const filedAt = `${OE}.${pseudonym}`;
    const entry = before.stateCipher(OE, RECORD_PURPOSES.register)!.seal({ permitNumber: 'A60-X' }, filedAt);
    await before.close();

    // the same participant, its signing key replaced, its storage keyring kept
    const after = await open(rotated, ring, bucket);
    try {
      expect(await after.store.get(OE, 'D-ROT-0001')).toEqual({ phase: 'decided', passport: PASSPORT });
      await after.store.apply(OE, 'D-ROT-0001', 'step-2', hold('closed'), after.send);
      expect(await after.store.get(OE, 'D-ROT-0001')).toEqual({ phase: 'closed', passport: PASSPORT });
      expect(after.pseudonyms(OE, RECORD_PURPOSES.register, PASSPORT)[0]).toBe(pseudonym);
      expect(after.stateCipher(OE, RECORD_PURPOSES.register)!.open(entry, filedAt)).toEqual({
        permitNumber: 'A60-X',
      });
      // the same document stored again (a step replayed) gives the same reference and no new object
      const again = await sendAnnex46(after, 'D-ROT-0001');
      expect(again).toEqual(first);
      expect(await objectNames()).toEqual(stored);
      const bytes = await (await DecisionArchive.open(nc)).read(again);
      expect(Buffer.from(bytes).equals(Buffer.from(annex46('D-ROT-0001').doc.bytes))).toBe(true);
    } finally {
      await after.close();
    }
  });

  test('at rest - a storage-key rotation keeps old records readable and seals new ones under the new key; reseal moves the rest', async () => {
    const bucket = `svc-at-rest-${++n}`;
    const dir = await mkdtemp(join(tmpdir(), 'pex-storage-'));
    await writeStorageKeys(dir, generateStorageKeyring(OE));
    const ring1 = await loadStorageKeys(dir, OE);
    const host1 = await open(office, ring1, bucket);
    await host1.store.apply(OE, 'D-STK-0001', 'step-1', hold('decided'), host1.send);
    await host1.close();
    const kv = await new Kvm(nc).open(bucket);
    expect(await raw(kv, `${OE}.D-STK-0001`)).toMatch(new RegExp(`^s2\\.${ring1.current}\\.`));

    const { current } = await rotateStorageKey(dir);
    const ring2 = await loadStorageKeys(dir, OE);
    expect(ring2.current).toBe(current);
    expect(ring2.keys.map((k) => k.kid)).toEqual([ring1.current, current]);
    const host2 = await open(office, ring2, bucket);
    expect(await host2.store.get(OE, 'D-STK-0001')).toEqual({ phase: 'decided', passport: PASSPORT });
    await host2.store.apply(OE, 'D-STK-0002', 'step-1', hold('new'), host2.send);
    await host2.close();
    expect(await raw(kv, `${OE}.D-STK-0002`)).toMatch(new RegExp(`^s2\\.${current}\\.`));
    expect(await raw(kv, `${OE}.D-STK-0001`)).toMatch(new RegExp(`^s2\\.${ring1.current}\\.`));

    // re-sealed under the new key, the old key can go
    const cipher = StateCipher.fromKeyring(ring2, RECORD_PURPOSES.dossiers);
    expect(await resealRecords(kv, cipher, { prefix: OE })).toEqual({
      resealed: 1,
      current: 1,
      unreadable: 0,
    });
    expect(await raw(kv, `${OE}.D-STK-0001`)).toMatch(new RegExp(`^s2\\.${current}\\.`));
    await retireStorageKey(dir, ring1.current);
    const host3 = await open(office, await loadStorageKeys(dir, OE), bucket);
    try {
      expect(await host3.store.get(OE, 'D-STK-0001')).toEqual({ phase: 'decided', passport: PASSPORT });
      expect(await host3.store.get(OE, 'D-STK-0002')).toEqual({ phase: 'new', passport: PASSPORT });
    } finally {
      await host3.close();
    }
  });

  test('at rest - a stolen signing key alone decrypts no stored record and finds no decision document', async () => {
    const bucket = `svc-at-rest-${++n}`;
    const host = await open(office, generateStorageKeyring(OE), bucket);
    let ref: DocumentRef;
    try {
      await host.store.apply(OE, 'D-THEFT-001', 'step-1', hold('decided'), host.send);
      ref = await sendAnnex46(host, 'D-THEFT-001');
    } finally {
      await host.close();
    }
    const kv = await new Kvm(nc).open(bucket);
    const sealed = await raw(kv, `${OE}.D-THEFT-001`);
    expect(sealed).not.toContain(PASSPORT);
    expect(openWithSigningKey(office.signing, 'dossiers', sealed, `${OE}.D-THEFT-001`)).toBeUndefined();

    // the thief renders the same document (its facts are guessable), derives its key from the signing key
    // as an issuer used to, and looks for it: nothing under that name, and the stored object does not open
    const { doc } = annex46('D-THEFT-001');
    const d = Buffer.from(office.signing.d, 'base64url');
    const secret = Buffer.from(
      hkdfSync('sha256', d, Buffer.alloc(0), 'passerelle service decision documents', 32),
    );
    const perDocument = createHmac('sha256', secret)
      .update(`passerelle decision document v1\n${doc.ref.sha256}\n${doc.ref.mediaType}`)
      .digest();
    const guessedName = `d1/${createHmac('sha256', perDocument).update('object id').digest().subarray(0, 16).toString('base64url')}`;
    expect(await objectNames()).not.toContain(guessedName);
    const archive = await DecisionArchive.open(nc);
    const name = ref.objectKey.split('/').slice(0, 2).join('/');
    await expect(
      archive.read({ ...doc.ref, objectKey: `${name}/${perDocument.toString('base64url')}` }),
    ).rejects.toMatchObject({ code: 'ERR_DOCUMENT_INTEGRITY' });
  });

  test('at rest - LEGACY: a record an earlier release sealed under the signing key is read (and logged), then sealed under the storage key; with legacyState false it is not read', async () => {
    const bucket = `svc-at-rest-${++n}`;
    const kv = await new Kvm(nc).create(bucket, { history: 1 });
    // what an earlier release wrote: AES-256-GCM under HKDF(signing key, "passerelle service dossiers")
    const key = Buffer.from(
      hkdfSync(
        'sha256',
        Buffer.from(office.signing.d, 'base64url'),
        Buffer.alloc(0),
        'passerelle service dossiers',
        32,
      ),
    );
    const record = { state: { phase: 'decided', passport: PASSPORT }, applied: ['step-1'], outbox: [] };
    const earlier = (aad: string): string => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      c.setAAD(Buffer.from(aad));
      const body = Buffer.concat([c.update(JSON.stringify(record)), c.final(), c.getAuthTag()]);
      return `s1.${iv.toString('base64url')}.${body.toString('base64url')}`;
    };
    await kv.put(`${OE}.D-OLD-0001`, earlier(`${OE}.D-OLD-0001`));
    await kv.put(`${OE}.D-OLD-0002`, earlier(`${OE}.D-OLD-0002`));

    const ring = generateStorageKeyring(OE);
    const strict = await open(office, ring, bucket, false);
    try {
      await expect(strict.store.get(OE, 'D-OLD-0001')).rejects.toMatchObject({
        code: 'ERR_STATE_UNREADABLE',
      });
    } finally {
      await strict.close();
    }
    const lines: string[] = [];
    const migrating = await ServiceHost.open<Held, never>({
      service: 'immigration-office',
      kind: 'immigration-office',
      table,
      participants: [office],
      storageKeys: [ring],
      directory: resolver(),
      contracts,
      nc,
      bucket,
      logger: createLogger('at-rest', {
        level: 'warn',
        destination: new Writable({
          write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()),
        }),
      }),
    });
    try {
      expect(await migrating.store.get(OE, 'D-OLD-0001')).toEqual({ phase: 'decided', passport: PASSPORT });
      expect(lines.join('')).toContain('LEGACY');
      await migrating.store.apply(OE, 'D-OLD-0001', 'step-2', hold('closed'), migrating.send);
      expect(await raw(kv, `${OE}.D-OLD-0001`)).toMatch(new RegExp(`^s2\\.${ring.current}\\.`));
    } finally {
      await migrating.close();
    }
    // what no step wrote again, `passerelle storage reseal` seals under the storage key
    const legacy = StateCipher.fromKeyring(ring, RECORD_PURPOSES.dossiers, {
      legacySigningKey: office.signing,
    });
    expect(await resealRecords(kv, legacy, { prefix: OE })).toEqual({
      resealed: 1,
      current: 1,
      unreadable: 0,
    });
    expect(await raw(kv, `${OE}.D-OLD-0002`)).toMatch(new RegExp(`^s2\\.${ring.current}\\.`));
    expect(
      openWithSigningKey(office.signing, 'dossiers', await raw(kv, `${OE}.D-OLD-0002`), `${OE}.D-OLD-0002`),
    ).toBeUndefined();
  });
});
