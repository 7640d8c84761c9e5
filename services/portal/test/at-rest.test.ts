import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { type ParticipantKeys, type PrivateJwk, generateKey } from '@passerelle/envelope';
import { StreamNames } from '@passerelle/exchange';
import { useNatsServer } from '@passerelle/testing/vitest';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPortalLogger, createPortalService, portalDoor } from '../src/index.js';
import { type World, integrator, makeWorld, PORTAL, REGION, OE } from './fixtures.js';

/** What a thief holding only the portal's signing key tries on a record: every derivation ever used. */
function opensWithSigningKey(signing: PrivateJwk, purpose: string, sealed: string, aad: string): boolean {
  const parts = sealed.split('.');
  const [iv, body] = parts.length === 4 ? [parts[2]!, parts[3]!] : [parts[1]!, parts[2]!];
  for (const info of [`passerelle service ${purpose}`, `passerelle storage v1 ${purpose}`]) {
    try {
      const key = hkdfSync('sha256', Buffer.from(signing.d, 'base64url'), Buffer.alloc(0), info, 32);
      const data = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key), Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - 16));
      decipher.update(data.subarray(0, data.length - 16));
      decipher.final();
      return true;
    } catch {
      // not this one
    }
  }
  return false;
}

describe('portal records at rest', () => {
  const nats = useNatsServer();
  let world: World;
  // the door's secret stays the same across the restart, like the storage keyring
  const secret = randomBytes(32);
  let auth: { authorization: string } = { authorization: '' };

  beforeAll(async () => {
    world = await makeWorld(nats.url, [PORTAL, REGION, OE]);
  });
  afterAll(async () => {
    await world?.close();
  });

  const start = (keys: ParticipantKeys): Promise<FastifyInstance> =>
    createPortalService({
      participant: PORTAL,
      keys,
      storageKeys: world.storage.get(PORTAL)!,
      directory: world.directory,
      contracts: world.contracts,
      servers: nats.url,
      door: { secret, publicUrl: 'https://portal.example.be' },
      logger: createPortalLogger({ level: 'silent' }),
    });

  async function application(app: FastifyInstance): Promise<Record<string, unknown>> {
    const body = JSON.parse(
      readFileSync(
        new URL(
          '../../../schemas/examples/application-submitted.v2/valid-ict-first-application.json',
          import.meta.url,
        ),
        'utf8',
      ),
    ) as Record<string, unknown>;
    const upload = async () =>
      (
        await app.inject({
          method: 'POST',
          url: '/v1/documents',
          headers: {
            ...auth,
            'content-type': 'application/pdf',
            'idempotency-key': randomBytes(8).toString('hex'),
          },
          payload: Buffer.from('%PDF-1.7 a document of the applicant'),
        })
      ).json().document as unknown;
    const documents = body['documents'] as Record<string, unknown>;
    for (const slot of ['passportCopy', 'employmentContract', 'medicalCertificate', 'criminalRecord'])
      documents[slot] = await upload();
    documents['healthInsurance'] = {
      form: 'employer-undertaking',
      document: await upload(),
      coversUntil: '2040-12-31',
    };
    return body;
  }

  const published = async (): Promise<number> => {
    const jsm = await jetstreamManager(world.nc);
    const info = await jsm.streams.info(StreamNames.exchange, {
      subjects_filter: `pex.msg.application-submitted.${PORTAL}.*`,
    });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  };

  async function records(bucket: string): Promise<{ key: string; value: string }[]> {
    const kv = await new Kvm(world.nc).open(bucket);
    const out: { key: string; value: string }[] = [];
    for await (const key of await kv.keys()) {
      const e = await kv.get(key);
      if (e?.operation === 'PUT') out.push({ key, value: e.string() });
    }
    return out;
  }

  test('portal at rest - a signing-key rotation keeps the dossier and Idempotency-Key records readable; the signing key alone opens none', async () => {
    const keys = world.keys.get(PORTAL)!;
    const before = await start(keys);
    auth = (await integrator({ door: portalDoor(before) }, 'acme-hr')).auth;
    const body = await application(before);
    const headers = { ...auth, 'idempotency-key': 'rotation-acme-0001' };
    const first = await before.inject({ method: 'POST', url: '/v1/dossiers', headers, payload: body });
    expect(first.statusCode).toBe(201);
    const { dossierId } = first.json<{ dossierId: string }>();
    await before.close();
    const sent = await published();

    // the portal's signing key rotated; its storage keyring kept
    const after = await start({ ...keys, signing: await generateKey('sig', { kidPrefix: PORTAL }) });
    try {
      // the integrator's retry gets the first answer: nothing is published again
      const retry = await after.inject({ method: 'POST', url: '/v1/dossiers', headers, payload: body });
      expect(retry.statusCode).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.json()).toMatchObject({ dossierId });
      expect(await published()).toBe(sent);
      const status = await after.inject({ method: 'GET', url: `/v1/dossiers/${dossierId}`, headers: auth });
      expect(status.statusCode).toBe(200);
      expect(status.json()).toMatchObject({ dossierId, state: 'submitted' });
    } finally {
      await after.close();
    }

    // a thief with the signing key and a copy of the buckets opens nothing: the dossier records are sealed
    // under the storage key, the Idempotency-Key records under the door's secret
    const dossiers = await records(`pex-portal-dossiers-${PORTAL}`);
    const idempotency = await records(`door-${PORTAL}-idempotency`);
    expect(dossiers.length).toBeGreaterThan(0);
    expect(idempotency.length).toBeGreaterThan(0);
    for (const r of dossiers)
      expect(opensWithSigningKey(keys.signing, 'portal dossiers', r.value, r.key)).toBe(false);
    for (const r of idempotency) {
      expect(r.value).not.toContain(dossierId);
      expect(opensWithSigningKey(keys.signing, 'portal idempotency', r.value, r.key)).toBe(false);
    }
  });
});
