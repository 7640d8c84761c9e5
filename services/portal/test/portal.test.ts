import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { loadContracts } from '@passerelle/contracts';
import { DoorKeys, requestFingerprint } from '@passerelle/door';
import { IdempotencyStore } from '@passerelle/door/internal';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type Exchange, type IncomingMessage, StreamNames, listDeadLetters } from '@passerelle/exchange';
import { type KeyResolver, deriveMessageId } from '@passerelle/envelope';
import { StateCipher } from '@passerelle/service-host';
import { connect } from '@nats-io/transport-node';
import {
  DocumentStore,
  DossierStore,
  createPortalLogger,
  dossierContextOf,
  portalDoor,
} from '../src/index.js';
import { portalOperationsProbes } from '../src/service.js';
import {
  type TestIntegrator,
  captureStream,
  integrator,
  newKey,
  startPortal,
  usePortal,
  SETTLE,
  example,
  PORTAL,
  REGION,
  OE,
  FAMILY_NAME,
} from './fixtures.js';

const OTHER_PORTAL = 'portal-other';
const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
const PASSPORT = 'A09876543';

describe('portal service', () => {
  const logs = captureStream();
  const running = usePortal([PORTAL, OTHER_PORTAL, REGION, OE], {
    listen: false,
    maxDocumentBytes: 1024 * 1024,
    logger: createPortalLogger({ level: 'debug', destination: logs.stream }),
  });
  let acme: TestIntegrator;
  let beta: TestIntegrator;
  let region: Exchange;
  let oe: Exchange;
  const received: IncomingMessage[] = [];
  const pdf = Buffer.from('%PDF-1.7 passport copy of the applicant ' + 'x'.repeat(300_000));

  beforeAll(async () => {
    acme = await integrator(running.portal, 'acme-hr');
    beta = await integrator(running.portal, 'beta-payroll');
    region = await running.world.exchange(REGION);
    oe = await running.world.exchange(OE);
    const record = async (m: IncomingMessage) => void received.push(m);
    region.subscribe({
      'application-submitted': record,
      'documents-added': record,
      'fee-proof-submitted': record,
    });
    oe.subscribe({
      'application-submitted': record,
      'documents-added': record,
      'fee-proof-submitted': record,
    });
  });
  afterAll(async () => {
    await region?.close();
    await oe?.close();
  });

  async function upload(who = acme, body: Buffer = pdf, mediaType = 'application/pdf', key = newKey()) {
    return running.app.inject({
      method: 'POST',
      url: '/v1/documents',
      headers: { ...who.auth, 'content-type': mediaType, 'idempotency-key': key },
      payload: body,
    });
  }

  async function application(who = acme): Promise<Record<string, unknown>> {
    const app0 = example('application-submitted', 'valid-ict-first-application');
    const documents = app0['documents'] as Record<string, unknown>;
    for (const slot of ['passportCopy', 'employmentContract', 'medicalCertificate', 'criminalRecord']) {
      documents[slot] = (await upload(who)).json().document;
    }
    documents['healthInsurance'] = {
      form: 'employer-undertaking',
      document: (await upload(who)).json().document,
    };
    return app0;
  }

  async function submit(body: unknown, who = acme, headers: Record<string, string> = {}) {
    return running.app.inject({
      method: 'POST',
      url: '/v1/dossiers',
      headers: { ...who.auth, 'idempotency-key': newKey(), ...headers },
      payload: body as object,
    });
  }

  const post = (url: string, payload: object, who = acme, key = newKey()) =>
    running.app.inject({ method: 'POST', url, headers: { ...who.auth, 'idempotency-key': key }, payload });
  const get = (url: string, who = acme) => running.app.inject({ method: 'GET', url, headers: who.auth });

  async function rawValues(bucket: string): Promise<string[]> {
    const kv = await new Kvm(running.world.nc).open(bucket);
    const values: string[] = [];
    for await (const key of await kv.keys()) {
      const entry = await kv.get(key);
      if (entry) values.push(entry.string());
    }
    return values;
  }

  async function messagesOn(subjectFilter: string): Promise<number> {
    const jsm = await jetstreamManager(running.world.nc);
    const info = await jsm.streams.info(StreamNames.exchange, { subjects_filter: subjectFilter });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  }

  test('portal - integrators are door clients: a token for their credentials; no token, a wrong one or a missing scope is a problem', async () => {
    // the OAuth 2.0 client-credentials grant, over HTTP
    const granted = await running.app.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: {
        authorization: `Basic ${Buffer.from(`${acme.id}:${acme.secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: 'grant_type=client_credentials&scope=read',
    });
    expect(granted.statusCode).toBe(200);
    const { access_token: token, token_type: type } = granted.json();
    expect(type).toBe('Bearer');
    const listed = await running.app.inject({
      method: 'GET',
      url: '/v1/dossiers',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.statusCode).toBe(200);
    // a read token posts nothing
    const refused = await running.app.inject({
      method: 'POST',
      url: '/v1/dossiers',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': newKey() },
      payload: {},
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-type']).toBe(PROBLEM_JSON);
    expect(refused.json()).toMatchObject({
      type: 'urn:problem-type:belgif:missingScope',
      code: 'ERR_SCOPE_MISSING',
      requiredScopes: ['decide'],
    });

    for (const [headers, type, code] of [
      [{}, 'noAccessToken', 'ERR_ACCESS_TOKEN_MISSING'],
      [
        { authorization: 'Bearer pat_wrong-token-0123456789' },
        'invalidAccessToken',
        'ERR_ACCESS_TOKEN_INVALID',
      ],
      [{ authorization: acme.token }, 'noAccessToken', 'ERR_ACCESS_TOKEN_MISSING'],
      [{ authorization: `Bearer ${acme.secret}` }, 'invalidAccessToken', 'ERR_ACCESS_TOKEN_INVALID'],
    ] as const) {
      const res = await running.app.inject({
        method: 'GET',
        url: '/v1/dossiers/0190d1a8-7c1e-4b7e',
        headers,
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['content-type']).toBe(PROBLEM_JSON);
      expect(res.json()).toMatchObject({ type: `urn:problem-type:belgif:${type}`, status: 401, code });
      expect(res.headers['www-authenticate']).toMatch(new RegExp(`^Bearer realm="${PORTAL}"`));
    }
    const openapi = await running.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(openapi.statusCode).toBe(200);
    expect(openapi.json().openapi).toBe('3.1.0');
    // the probes need no token either
    expect((await running.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await running.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    // the status only: the reasons, naming internal consumers, are on the loopback operations port
    expect(ready.json()).toEqual({ status: 'ready', participant: expect.stringMatching(/^portal-/) });
    expect(await portalOperationsProbes(running.app).readiness()).toEqual([
      { participant: expect.stringMatching(/^portal-/), ready: true },
    ]);
    expect(portalOperationsProbes(running.app).failure()).toBeUndefined();
  });

  test('portal - an upload is stored encrypted and its reference reads back to the same bytes', async () => {
    const res = await upload();
    expect(res.statusCode).toBe(201);
    const ref = res.json().document;
    expect(ref).toMatchObject({ mediaType: 'application/pdf', size: pdf.length });
    expect(ref.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ref.objectKey).toMatch(/^d1\/[A-Za-z0-9_-]{22}\/[A-Za-z0-9_-]{43}$/);
    const docs = await DocumentStore.open(running.world.nc);
    const stored = Buffer.from((await docs.ciphertext(ref.objectKey))!);
    expect(stored.length).toBe(pdf.length + 16);
    expect(stored.includes(Buffer.from('passport copy'))).toBe(false);
    expect(Buffer.from(await docs.read(ref)).equals(pdf)).toBe(true);
    // A reference with another hash, or checked for another integrator, is refused.
    await expect(docs.check({ ...ref, sha256: '0'.repeat(64) }, acme.id, '/x')).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_UNKNOWN',
    });
    await expect(docs.check(ref, beta.id, '/x')).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_UNKNOWN',
    });
    await expect(docs.check(ref, acme.id, '/x')).resolves.toBeUndefined();
    // Another key (same object id) fails to decrypt.
    const otherKey = ref.objectKey.replace(/\/[^/]+$/, `/${Buffer.alloc(32, 7).toString('base64url')}`);
    await expect(docs.read({ ...ref, objectKey: otherKey })).rejects.toMatchObject({
      code: 'ERR_DOCUMENT_INTEGRITY',
    });
  });

  test('portal - uploads over the size limit are 413, other media types 415, empty ones 413', async () => {
    const bucket = await new Objm(running.world.nc).open('pex-documents');
    const before = (await bucket.status()).size;
    const big = await upload(acme, Buffer.alloc(1024 * 1024 + 1, 1));
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({
      type: 'urn:problem-type:belgif:payloadTooLarge',
      code: 'ERR_DOCUMENT_TOO_LARGE',
      limit: 1024 * 1024,
    });
    // Streamed without a length: refused while streaming, and the chunks already stored are purged.
    const chunked = await running.app.inject({
      method: 'POST',
      url: '/v1/documents',
      headers: {
        ...acme.auth,
        'content-type': 'application/pdf',
        'transfer-encoding': 'chunked',
        'idempotency-key': newKey(),
      },
      payload: Readable.from([Buffer.alloc(600_000, 1), Buffer.alloc(600_000, 2)]),
    });
    expect(chunked.statusCode).toBe(413);
    expect((await bucket.status()).size).toBe(before);
    const html = await upload(acme, Buffer.from('<html></html>'), 'text/html');
    expect(html.statusCode).toBe(415);
    expect(html.json()).toMatchObject({
      type: 'urn:problem-type:passerelle:mediaTypeNotAllowed',
      code: 'ERR_MEDIA_TYPE_NOT_ALLOWED',
    });
    const empty = await upload(acme, Buffer.alloc(0));
    expect(empty.statusCode).toBe(413);
    // a refused upload is not kept (its bytes may not have been read): the same key with a document of
    // the right size stores it; with another media type it is another request
    const key = newKey();
    expect((await upload(acme, Buffer.alloc(1024 * 1024 + 1, 1), 'application/pdf', key)).statusCode).toBe(
      413,
    );
    expect((await upload(acme, pdf, 'application/pdf', key)).statusCode).toBe(201);
    expect((await upload(acme, pdf, 'image/png', key)).statusCode).toBe(422);
    // every POST needs its Idempotency-Key
    const keyless = await running.app.inject({
      method: 'POST',
      url: '/v1/documents',
      headers: { ...acme.auth, 'content-type': 'application/pdf' },
      payload: pdf,
    });
    expect(keyless.statusCode).toBe(400);
    expect(keyless.json()).toMatchObject({
      type: 'urn:problem-type:belgif:badRequest',
      code: 'ERR_IDEMPOTENCY_KEY_MISSING',
      issues: [expect.objectContaining({ in: 'header', name: 'Idempotency-Key' })],
    });
  });

  test('portal - a submission fans out to region and Immigration Office; rulings update the status', async () => {
    const body = await application();
    const res = await submit(body);
    expect(res.statusCode).toBe(201);
    const { dossierId, messages } = res.json();
    expect(dossierId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['location']).toBe(`/v1/dossiers/${dossierId}`);
    expect(JSON.stringify(res.json())).not.toContain(FAMILY_NAME);
    expect(messages.map((m: { recipient: string }) => m.recipient).sort()).toEqual([OE, REGION]);
    await vi.waitUntil(() => received.filter((m) => m.meta.dossierId === dossierId).length === 2, SETTLE);
    const atRegion = received.find((m) => m.meta.dossierId === dossierId && m.meta.recipient === REGION)!;
    expect((atRegion.payload as { applicant: { familyName: string } }).applicant.familyName).toBe(
      FAMILY_NAME,
    );

    await atRegion.reply(
      'completeness-ruled',
      {
        outcome: 'missing-items',
        ruledOn: '2026-11-21',
        missingItems: ['passportCopy'],
        respondBy: '2026-12-05',
      },
      { context: { procedure: 'first', scheme: 'ict', regionId: REGION, portalId: PORTAL } },
    );
    await vi.waitUntil(async () => {
      const s = await get(`/v1/dossiers/${dossierId}`);
      return s.json().state === 'missing-items';
    }, SETTLE);
    const status = (await get(`/v1/dossiers/${dossierId}`)).json();
    expect(status).toMatchObject({
      dossierId,
      state: 'missing-items',
      missingItems: ['passportCopy'],
      closed: false,
    });
    expect(JSON.stringify(status)).not.toContain(FAMILY_NAME);

    const passport = (await upload()).json().document;
    const added = await post(`/v1/dossiers/${dossierId}/documents`, {
      reason: 'completion',
      documents: { passportCopy: passport },
      addedAt: '2026-11-22T08:00:00Z',
    });
    expect(added.statusCode).toBe(202);
    await vi.waitUntil(
      () => received.some((m) => m.meta.dossierId === dossierId && m.meta.type === 'documents-added'),
      SETTLE,
    );

    // Another integrator does not see the dossier, and cannot add to it.
    const foreign = await get(`/v1/dossiers/${dossierId}`, beta);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toMatchObject({
      type: 'urn:problem-type:belgif:resourceNotFound',
      code: 'ERR_DOSSIER_NOT_FOUND',
      issues: [expect.objectContaining({ in: 'path', name: 'dossierId' })],
    });
    const feeBody = { ...example('fee-proof-submitted', 'valid-full-fee'), proof: passport };
    const foreignFee = await post(`/v1/dossiers/${dossierId}/fee-proof`, feeBody, beta);
    expect(foreignFee.statusCode).toBe(404);
    const fee = await post(`/v1/dossiers/${dossierId}/fee-proof`, feeBody);
    expect(fee.statusCode).toBe(202);
  });

  test('portal - a dossier ruled inadmissible is closed: more documents are 409 ERR_DOSSIER_CLOSED', async () => {
    const res = await submit(await application());
    const { dossierId } = res.json();
    await vi.waitUntil(
      () => received.some((m) => m.meta.dossierId === dossierId && m.meta.recipient === REGION),
      SETTLE,
    );
    const atRegion = received.find((m) => m.meta.dossierId === dossierId && m.meta.recipient === REGION)!;
    await atRegion.reply(
      'completeness-ruled',
      { outcome: 'inadmissible', ruledOn: '2026-12-10', reason: 'fee-proof-missing' },
      { context: { procedure: 'first', scheme: 'ict', regionId: REGION, portalId: PORTAL } },
    );
    await vi.waitUntil(async () => {
      const s = await get(`/v1/dossiers/${dossierId}`);
      return s.json().closed === true;
    }, SETTLE);
    const late = await post(`/v1/dossiers/${dossierId}/documents`, {
      reason: 'completion',
      documents: { passportCopy: (await upload()).json().document },
      addedAt: '2026-12-11T08:00:00Z',
    });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({
      type: 'urn:problem-type:passerelle:dossierClosed',
      status: 409,
      code: 'ERR_DOSSIER_CLOSED',
    });
    expect(received.some((m) => m.meta.dossierId === dossierId && m.meta.type === 'documents-added')).toBe(
      false,
    );
  });

  test('portal - agreement: the competent region is derived from the workplace; another region is an invalidInput on /regionId', async () => {
    const body = await application();
    delete body['regionId'];
    const res = await submit(body);
    expect(res.statusCode).toBe(201);
    const { dossierId, messages } = res.json();
    // the region of the place of employment (commune-21004, Bruxelles) receives it
    expect(messages.map((m: { recipient: string }) => m.recipient).sort()).toEqual([OE, REGION]);
    await vi.waitUntil(
      () => received.some((m) => m.meta.dossierId === dossierId && m.meta.recipient === REGION),
      SETTLE,
    );
    const atRegion = received.find((m) => m.meta.dossierId === dossierId && m.meta.recipient === REGION)!;
    expect((atRegion.payload as { regionId: string }).regionId).toBe(REGION);

    const wrong = await submit({ ...(await application()), regionId: 'region-vlaanderen' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().issues).toEqual([
      expect.objectContaining({ in: 'body', name: '/regionId', detail: expect.stringContaining(REGION) }),
    ]);
  });

  test('portal - a schema error is a badRequest naming each bad input by JSON pointer, an unknown dossier resourceNotFound, an unknown document a badRequest', async () => {
    const body = await application();
    const bad = {
      ...body,
      regionId: 'region-nowhere',
      applicant: { ...(body['applicant'] as object), birthDate: 'soon' },
      surname: 'Moreau',
    };
    const res = await submit(bad);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe(PROBLEM_JSON);
    const answer = res.json();
    expect(answer).toMatchObject({
      type: 'urn:problem-type:belgif:badRequest',
      status: 400,
      code: 'ERR_SCHEMA_INVALID',
      detail: 'The input message is incorrect.',
    });
    const issues = answer.issues as { type: string; in: string; name: string; detail: string }[];
    const named = issues.map((i) => `${i.in}:${i.name}:${i.type.split(':').pop()}`);
    expect(named).toContain('body:/regionId:schemaViolation');
    expect(named).toContain('body:/applicant/birthDate:schemaViolation');
    expect(named).toContain('body:/surname:unknownInput');
    // values are never echoed, nor the validator's own wording
    expect(res.body).not.toContain('region-nowhere');
    expect(res.body).not.toContain('soon');
    expect(res.body).not.toMatch(/must match format|must NOT have/);

    const missing = await get('/v1/dossiers/0190d1a8-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({
      type: 'urn:problem-type:belgif:resourceNotFound',
      code: 'ERR_DOSSIER_NOT_FOUND',
    });

    const forged = structuredClone(body) as { documents: { passportCopy: { objectKey: string } } };
    forged.documents.passportCopy.objectKey = 'dossiers/7f3a9c21-b0d4/doc-1.pdf';
    const unknown = await submit(forged);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({
      code: 'ERR_DOCUMENT_UNKNOWN',
      issues: [
        {
          type: 'urn:problem-type:belgif:input-validation:referencedResourceNotFound',
          in: 'body',
          name: '/documents/passportCopy',
        },
      ],
    });
    // Another integrator's upload cannot be referenced either.
    const theirs = await application(beta);
    const stolen = await submit(theirs, acme);
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json().code).toBe('ERR_DOCUMENT_UNKNOWN');
  });

  test('portal - a retried POST with the same Idempotency-Key answers the same and publishes once; another body is 422', async () => {
    const body = await application();
    const key = { 'idempotency-key': 'submit-acme-0001' };
    const first = await submit(body, acme, key);
    expect(first.statusCode).toBe(201);
    const { dossierId } = first.json();
    const again = await submit(body, acme, key);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['location']).toBe(first.headers['location']);
    expect(await messagesOn(`pex.msg.application-submitted.${PORTAL}.*`)).toBeGreaterThan(0);
    await vi.waitUntil(() => received.filter((m) => m.meta.dossierId === dossierId).length === 2, SETTLE);
    const seen = received.filter((m) => m.meta.type === 'application-submitted').length;
    const other = await submit({ ...body, submittedAt: '2026-11-20T10:00:00Z' }, acme, key);
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({
      type: 'urn:problem-type:passerelle:idempotencyKeyReused',
      code: 'ERR_IDEMPOTENCY_KEY_REUSED',
    });
    // The same key used by another integrator is another key.
    const theirs = await submit(await application(beta), beta, key);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.json().dossierId).not.toBe(dossierId);
    await vi.waitUntil(
      () => received.filter((m) => m.meta.type === 'application-submitted').length === seen + 2,
      SETTLE,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((m) => m.meta.type === 'application-submitted').length).toBe(seen + 2);

    // Uploads: the replay answers the first reference; other bytes under the same key are 422.
    const u1 = await upload(acme, pdf, 'application/pdf', 'upload-0001');
    const u2 = await upload(acme, pdf, 'application/pdf', 'upload-0001');
    expect(u2.json()).toEqual(u1.json());
    expect(u2.headers['idempotent-replayed']).toBe('true');
    // The recorded answers are encrypted at rest: the bucket never shows the document's capability.
    const raw = await rawValues(`door-${PORTAL}-idempotency`);
    expect(raw.length).toBeGreaterThan(0);
    for (const value of raw) {
      expect(value).not.toContain(u1.json().document.objectKey);
      expect(value).not.toContain(u1.json().document.sha256);
      expect(value).not.toContain(dossierId);
    }
    const u3 = await upload(acme, Buffer.from('%PDF other'), 'application/pdf', 'upload-0001');
    expect(u3.statusCode).toBe(422);
    expect(u3.json().code).toBe('ERR_IDEMPOTENCY_KEY_REUSED');
    const u4 = await upload(acme, pdf, 'image/png', 'upload-0001');
    expect(u4.statusCode).toBe(422);
  });

  test('portal - a retry of an application whose earlier run died after opening the dossier goes on with that dossier, under the same ids', async () => {
    const body = await application();
    const key = 'died-acme-0001';
    const nc = await connect({ servers: running.url });
    try {
      const ring = running.world.storage.get(PORTAL)!;
      // The earlier run: its Idempotency-Key record (its run id) and the dossier it opened, then it died
      // before publishing; its record was marked failed so that the retry runs at once.
      const idem = await IdempotencyStore.open(nc, PORTAL, DoorKeys.fromSecret(running.portal.secret), {
        create: false,
      });
      const run = await idem.begin(acme.id, key, requestFingerprint('POST', '/v1/dossiers', {}, body));
      if (run.kind !== 'run') throw new Error('the key was used already');
      const messageId = run.runId;
      const dossiers = await DossierStore.open(nc, PORTAL, StateCipher.fromKeyring(ring, 'portal dossiers'), {
        create: false,
      });
      const at = new Date().toISOString();
      await dossiers.create({
        dossierId: deriveMessageId(messageId, 'dossier'),
        integrator: acme.id,
        category: String(body['category']),
        context: dossierContextOf(body, PORTAL),
        state: 'submitted',
        createdAt: at,
        updatedAt: at,
        decisions: {},
        events: [],
      });
      await idem.fail(run);

      const retry = await submit(body, acme, { 'idempotency-key': key });
      expect(retry.statusCode).toBe(201);
      const { dossierId, messages } = retry.json();
      expect(dossierId).toBe(deriveMessageId(messageId, 'dossier'));
      expect(messages.map((m: { id: string; recipient: string }) => m.id).sort()).toEqual(
        messages.map((m: { recipient: string }) => deriveMessageId(messageId, m.recipient)).sort(),
      );
      await vi.waitUntil(() => received.filter((m) => m.meta.dossierId === dossierId).length === 2, SETTLE);
    } finally {
      await nc.close();
    }
  });

  test('portal - two concurrent requests with one Idempotency-Key publish once; dossier records are encrypted at rest', async () => {
    const body = await application();
    const key = { 'idempotency-key': 'concurrent-acme-0001' };
    const [a, b] = await Promise.all([submit(body, acme, key), submit(body, acme, key)]);
    const statuses = [a.statusCode, b.statusCode].sort();
    // Either the second waited for nothing and got 409 (in progress), or it came after and got the replay.
    expect([
      [201, 201],
      [201, 409],
    ]).toContainEqual(statuses);
    const created = [a, b].find((r) => r.statusCode === 201)!.json().dossierId as string;
    for (const r of [a, b]) if (r.statusCode === 201) expect(r.json().dossierId).toBe(created);
    if (statuses[1] === 409)
      expect([a, b].find((r) => r.statusCode === 409)!.json().code).toBe('ERR_IDEMPOTENCY_IN_PROGRESS');
    await vi.waitUntil(() => received.filter((m) => m.meta.dossierId === created).length === 2, SETTLE);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      received.filter((m) => m.meta.type === 'application-submitted' && m.meta.dossierId === created),
    ).toHaveLength(2);

    const records = await rawValues(`pex-portal-dossiers-${PORTAL}`);
    expect(records.length).toBeGreaterThan(0);
    for (const value of records) {
      // sealed under the portal's current storage key, named in the record
      expect(value).toMatch(new RegExp(`^s2\\.${running.world.storage.get(PORTAL)!.current}\\.`));
      expect(value).not.toContain('region-bruxelles');
      expect(value).not.toContain('acme-hr');
    }
  });

  test('portal - logs never show the applicant, the passport number, tokens or document keys', async () => {
    const body = await application();
    const res = await submit(body);
    expect(res.statusCode).toBe(201);
    await vi.waitUntil(() => logs.text().includes(res.json().dossierId), SETTLE);
    const text = logs.text();
    expect(text).toContain('"msg":"published"');
    for (const secret of [
      FAMILY_NAME,
      PASSPORT,
      'Adaeze',
      acme.token,
      acme.secret,
      (body['documents'] as { passportCopy: { objectKey: string } }).passportCopy.objectKey,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  test('portal - a message the exchange agreement forbids is 403 ERR_CONTRACT_FORBIDDEN, nothing published', async () => {
    // A real agreement in which portals may no longer file applications.
    const root = mkdtempSync(join(tmpdir(), 'portal-contracts-'));
    try {
      const repo = fileURLToPath(new URL('../../..', import.meta.url));
      cpSync(join(repo, 'contracts'), join(root, 'contracts'), { recursive: true });
      cpSync(join(repo, 'schemas'), join(root, 'schemas'), { recursive: true });
      const yaml = readFileSync(join(root, 'contracts/exchange.yaml'), 'utf8');
      const edited = yaml.replace(
        /(application-submitted:\n(?:.*\n){2}\s+senders: )\[portal\]/,
        '$1[regional-authority]',
      );
      expect(edited).not.toBe(yaml);
      writeFileSync(join(root, 'contracts/exchange.yaml'), edited);
      const other = (
        await startPortal(running.world, running.url, OTHER_PORTAL, {
          listen: false,
          contracts: await loadContracts({ root }),
        })
      ).app;
      try {
        const them = await integrator({ door: portalDoor(other) }, acme.id);
        const body = await application();
        const before = await messagesOn(`pex.msg.application-submitted.${OTHER_PORTAL}.*`);
        const res = await other.inject({
          method: 'POST',
          url: '/v1/dossiers',
          headers: { ...them.auth, 'idempotency-key': newKey() },
          payload: body,
        });
        expect(res.statusCode).toBe(403);
        expect(res.json()).toMatchObject({
          type: 'urn:problem-type:passerelle:contractForbidden',
          code: 'ERR_CONTRACT_FORBIDDEN',
        });
        expect(await messagesOn(`pex.msg.application-submitted.${OTHER_PORTAL}.*`)).toBe(before);
      } finally {
        await other.close();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('portal - an application that cannot go out is not sent: 503 ERR_NOT_SENT, no dossier left; a retry with the same key opens it and sends it once', async () => {
    // the recipients' keys cannot be read while `unreachable`: the send fails after the dossier was opened
    let unreachable = true;
    const directory: KeyResolver = {
      resolve: (id, use, at, kid) =>
        unreachable && use === 'enc'
          ? Promise.reject(new Error('directory unreachable'))
          : running.world.directory.resolve(id, use, at, kid),
    };
    const other = (await startPortal(running.world, running.url, OTHER_PORTAL, { listen: false, directory }))
      .app;
    try {
      const them = await integrator({ door: portalDoor(other) }, acme.id);
      const body = await application();
      const headers = { ...them.auth, 'idempotency-key': 'unreachable-acme-0001' };
      const post = () => other.inject({ method: 'POST', url: '/v1/dossiers', headers, payload: body });
      const failed = await post();
      expect(failed.statusCode).toBe(503);
      const { code, dossierId } = failed.json();
      expect(failed.json()).toMatchObject({ type: 'urn:problem-type:passerelle:notSent', retryable: true });
      expect(code).toBe('ERR_NOT_SENT');
      // nothing left: no dossier was kept for an application that went nowhere
      expect(dossierId).toBeUndefined();

      unreachable = false;
      const retry = await post();
      expect(retry.statusCode).toBe(201);
      const opened = retry.json().dossierId as string;
      expect(opened).toMatch(/^[0-9a-f-]{36}$/);
      await vi.waitUntil(() => received.filter((m) => m.meta.dossierId === opened).length === 2, SETTLE);
    } finally {
      await other.close();
    }
  });

  test('portal - a message for a dossier the portal does not know is dead-lettered with ERR_UNKNOWN_DOSSIER', async () => {
    const [sent] = await region.send(
      'completeness-ruled',
      { outcome: 'complete', ruledOn: '2026-11-21', admissibilityDocument: (await upload()).json().document },
      { to: PORTAL, dossierId: 'unknown-dossier-0001' },
    );
    await vi.waitUntil(
      async () =>
        (await listDeadLetters(await jetstreamManager(running.world.nc), { participant: PORTAL })).some(
          (d) => d.messageId === sent!.id,
        ),
      SETTLE,
    );
    const letters = await listDeadLetters(await jetstreamManager(running.world.nc), { participant: PORTAL });
    expect(letters.find((d) => d.messageId === sent!.id)?.code).toBe('ERR_UNKNOWN_DOSSIER');
  });
});
