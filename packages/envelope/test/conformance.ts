import { beforeAll, describe, expect, test } from 'vitest';
import {
  type CryptoProvider,
  generateKey,
  openEnvelope,
  sealEnvelope,
  signCompact,
  toPublicJwk,
  verifyCompact,
  verifySeal,
} from '../src/index.js';
import { type EnvelopeErrorCode, EnvelopeError } from '../src/internal.js';
import {
  craft,
  decodeHeader,
  makeMeta,
  makeWorld,
  paddedSegment,
  samplePayload,
  segmentText,
  signSegments,
  withHeader,
  withSegment,
  withSpareBits,
  type World,
} from './fixtures.js';

/** Expects `p` to reject with an EnvelopeError of `code`. */
export async function expectCode(p: Promise<unknown>, code: EnvelopeErrorCode): Promise<void> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected ${code}`).toBeInstanceOf(EnvelopeError);
  expect((err as EnvelopeError).code).toBe(code);
}

/**

/** What every group of cases shares: the provider under test, the world of keys, and short ways to seal and open. */
interface Suite {
  provider: CryptoProvider;
  /** The world the suite's `beforeAll` made: read inside a test, once it exists. */
  world: () => World;
  open: (raw: string | object, extra?: { now?: Date }) => ReturnType<typeof openEnvelope>;
  seal: (meta?: ReturnType<typeof makeMeta>) => ReturnType<typeof sealEnvelope>;
  /** An envelope crafted from `a` to `b` on fresh meta, with these changes. */
  crafted: (changes?: Partial<Parameters<typeof craft>[1]>) => ReturnType<typeof craft>;
}

/** The shared helpers of one provider's suite, bound to a world made later (in `beforeAll`). */
function suiteOf(provider: CryptoProvider, world: () => World): Suite {
  return {
    provider,
    world,
    open: (raw, extra = {}) =>
      openEnvelope(typeof raw === 'string' ? raw : JSON.stringify(raw), {
        recipient: world().b,
        resolver: world().resolver,
        provider,
        ...extra,
      }),
    seal: (meta = makeMeta()) =>
      sealEnvelope({
        meta,
        payload: samplePayload,
        sender: world().a,
        recipientKey: toPublicJwk(world().b.encryption[0]!),
        provider,
      }),
    crafted: (changes = {}) =>
      craft(provider, { meta: makeMeta(), signer: world().a, recipient: world().b, ...changes }),
  };
}

/** Sealing then opening, checking a seal alone, and compact JWS signing: what a correct exchange relies on. */
function describeRoundTrip({ provider, world, open, seal }: Suite): void {
  test(`conformance (${provider.name}) - seal then open returns meta and payload`, async () => {
    const w = world();
    const env = await seal();
    expect(Object.keys(env)).toEqual(['meta', 'jwe', 'seal']);
    expect(decodeHeader(env.seal)).toMatchObject({ alg: 'ES256', kid: w.a.signing.kid });
    expect(decodeHeader(env.jwe)).toMatchObject({
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      kid: w.b.encryption[0]!.kid,
    });
    const opened = await open(env);
    expect(opened.meta).toEqual(env.meta);
    expect(opened.payload).toEqual(samplePayload);
    // bytes in, too
    const bytes = new TextEncoder().encode(JSON.stringify(env));
    expect((await openEnvelope(bytes, { recipient: w.b, resolver: w.resolver, provider })).payload).toEqual(
      samplePayload,
    );
  });

  test(`conformance (${provider.name}) - verifySeal checks origin without any decryption key`, async () => {
    const w = world();
    const env = await seal();
    const r = await verifySeal(JSON.stringify(env), { resolver: w.resolver, provider });
    expect(r.kid).toBe(w.a.signing.kid);
    expect(r.jweSha256).toMatch(/^[0-9a-f]{64}$/);
    await expectCode(
      verifySeal({ ...env, jwe: (await seal()).jwe }, { resolver: w.resolver, provider }),
      'ERR_SEAL_INVALID',
    );
  });

  test(`conformance (${provider.name}) - signCompact and verifyCompact round trip under the allowlist`, async () => {
    const w = world();
    const jws = await signCompact(
      { receiptOf: 'x', n: 1 },
      w.a.signing,
      { typ: 'pex-receipt+jws' },
      provider,
    );
    const r = await verifyCompact(jws, () => Promise.resolve(toPublicJwk(w.a.signing)), provider);
    expect(r).toMatchObject({
      payload: { receiptOf: 'x', n: 1 },
      kid: w.a.signing.kid,
      header: { typ: 'pex-receipt+jws' },
    });
    await expectCode(
      verifyCompact(jws, () => Promise.resolve(toPublicJwk(w.c.signing)), provider),
      'ERR_SIGNATURE_INVALID',
    );
    await expectCode(
      verifyCompact(
        withHeader(jws, { alg: 'HS256', kid: w.a.signing.kid }),
        () => Promise.resolve(toPublicJwk(w.a.signing)),
        provider,
      ),
      'ERR_ALG_NOT_ALLOWED',
    );
  });
}

/** The algorithms, headers and typ each JOSE object may carry: anything else is refused before it is trusted. */
function describeAllowlists({ provider, world, open, seal, crafted }: Suite): void {
  test(`conformance (${provider.name}) - the seal refuses none, HMAC, other algs, crit and embedded or remote keys`, async () => {
    const w = world();
    const env = await seal();
    const h = decodeHeader(env.seal);
    const bad: object[] = [
      { ...h, alg: 'none' },
      { ...h, alg: 'HS256' },
      { ...h, alg: 'ES384' },
      { ...h, alg: 'RS256' },
      { ...h, crit: ['exp'], exp: 1 },
      { ...h, b64: false, crit: ['b64'] },
      { ...h, jwk: toPublicJwk(w.c.signing) },
      { ...h, jku: 'https://example.org/keys' },
      { ...h, x5u: 'https://example.org/cert' },
      { ...h, x5c: ['MIIB'] },
      { alg: 'ES256' },
    ];
    for (const header of bad) {
      await expectCode(open({ ...env, seal: withHeader(env.seal, header) }), 'ERR_ALG_NOT_ALLOWED');
    }
    const none = withHeader(env.seal, { alg: 'none', kid: w.a.signing.kid }).replace(/\.[^.]*$/, '.');
    await expectCode(open({ ...env, seal: none }), 'ERR_ALG_NOT_ALLOWED');
  });

  test(`conformance (${provider.name}) - a JWE outside the allowlist is refused before decryption`, async () => {
    const w = world();
    for (const change of [
      { alg: 'ECDH-ES' },
      { enc: 'A128GCM' },
      { alg: 'RSA-OAEP' },
      { zip: 'DEF' },
      { crit: ['zip'] },
      { jku: 'https://example.org/keys' },
      { jwk: toPublicJwk(w.c.encryption[0]!) },
      { epk: { ...toPublicJwk(w.c.encryption[0]!), d: 'AAAA' } },
    ]) {
      const env = await crafted({ mapJwe: (jwe) => withHeader(jwe, { ...decodeHeader(jwe), ...change }) });
      await expectCode(open(env), 'ERR_ALG_NOT_ALLOWED');
    }
  });

  test(`conformance (${provider.name}) - an ephemeral key off the P-256 curve is refused (invalid-curve attack)`, async () => {
    const env = await crafted({
      mapJwe: (jwe) => {
        const h = decodeHeader(jwe) as { epk: { y: string } };
        const y = Buffer.from(h.epk.y, 'base64url');
        y[31] = y[31]! ^ 1;
        return withHeader(jwe, { ...h, epk: { ...h.epk, y: y.toString('base64url') } });
      },
    });
    await expectCode(open(env), 'ERR_DECRYPTION_FAILED');
  });

  test(`conformance (${provider.name}) - an inner JWS outside the allowlist is refused`, async () => {
    const w = world();
    for (const change of [
      { alg: 'HS256' },
      { alg: 'none' },
      { jwk: toPublicJwk(w.a.signing) },
      { crit: ['x'] },
    ]) {
      const env = await crafted({ mapInner: (jws) => withHeader(jws, { ...decodeHeader(jws), ...change }) });
      await expectCode(open(env), 'ERR_ALG_NOT_ALLOWED');
    }
  });

  test(`conformance (${provider.name}) - a seal or inner JWS of another typ, or of none, is refused though the sender's key signed it`, async () => {
    const w = world();
    // the sender's other signed objects (receipts, the inner JWS itself) must not pass for a seal, nor
    // the reverse: each is told apart by its typ
    for (const sealTyp of [null, 'pex-msg+jws', 'pex-receipt+jws', 'JWT', 'PEX-SEAL+JWS', '']) {
      const env = await crafted({ sealTyp });
      expect(decodeHeader(env.seal)['typ']).toBe(sealTyp ?? undefined);
      await expectCode(open(env), 'ERR_SEAL_INVALID');
      await expectCode(
        verifySeal(JSON.stringify(env), { resolver: w.resolver, provider }),
        'ERR_SEAL_INVALID',
      );
    }
    for (const innerTyp of [null, 'pex-seal+jws', 'pex-receipt+jws', 'JWT', 'pex-msg+JWS', '']) {
      const env = await crafted({ innerTyp });
      // the seal is right: an auditor's check passes, the recipient's does not
      await expect(verifySeal(JSON.stringify(env), { resolver: w.resolver, provider })).resolves.toBeTruthy();
      await expectCode(open(env), 'ERR_SIGNATURE_INVALID');
    }
    // with the right typ on both, the same crafted envelope opens
    const env = await crafted();
    expect((await open(env)).payload).toEqual(samplePayload);
  });
}

/** One text per envelope: base64url respelled with unused bits set is refused wherever it appears. */
function describeCanonicalSpelling({ provider, world, open, seal }: Suite): void {
  // Non-canonical base64url: a segment whose last character has unused bits set decodes to the same bytes,
  // so without a check two texts would name one envelope (and one seal, one signature).
  test(`conformance (${provider.name}) - a seal respelled with unused base64url bits set is refused, by anyone or re-signed by the sender`, async () => {
    const w = world();
    const env = await seal();
    const respelled = { ...env, seal: withSegment(env.seal, 2, withSpareBits) };
    await expectCode(open(respelled), 'ERR_ENVELOPE_MALFORMED');
    await expectCode(
      verifySeal(JSON.stringify(respelled), { resolver: w.resolver, provider }),
      'ERR_ENVELOPE_MALFORMED',
    );
    // header and payload re-signed by the sender: canonical, they open; respelled, they are refused
    const [header, payload] = env.seal.split('.') as [string, string];
    const resealed = (h: string, p: string) => ({ ...env, seal: signSegments(h, p, w.a.signing) });
    const paddedHeader = paddedSegment(segmentText(env.seal, 0));
    const paddedPayload = paddedSegment(segmentText(env.seal, 1));
    expect((await open(resealed(paddedHeader, paddedPayload))).payload).toEqual(samplePayload);
    await expectCode(open(resealed(withSpareBits(paddedHeader), payload)), 'ERR_ENVELOPE_MALFORMED');
    await expectCode(open(resealed(header, withSpareBits(paddedPayload))), 'ERR_ENVELOPE_MALFORMED');
  });

  test(`conformance (${provider.name}) - a JWE respelled with unused base64url bits set is refused, though the sender sealed it so`, async () => {
    const w = world();
    const meta = makeMeta();
    // the encrypted key (54 characters) and the tag (22); the IV's 16 characters have no unused bit
    for (const index of [1, 4]) {
      const env = await craft(provider, {
        meta,
        signer: w.a,
        recipient: w.b,
        mapJwe: (jwe) => withSegment(jwe, index, withSpareBits),
      });
      await expectCode(open(env), 'ERR_ENVELOPE_MALFORMED');
    }
    // the ciphertext and the header, whose lengths vary: a content or a cty one byte longer gives them unused bits
    const content = JSON.stringify({ meta, payload: samplePayload });
    const respelled = new Set<number>();
    for (const [pad, cty] of [
      ['', 'a'],
      [' ', 'ab'],
      ['  ', 'abc'],
    ] as const) {
      for (const index of [0, 3]) {
        let spare = false;
        const env = await craft(provider, {
          meta,
          signer: w.a,
          recipient: w.b,
          innerContent: content + pad,
          jweHeader: { cty },
          mapJwe: (jwe) => {
            spare = jwe.split('.')[index]!.length % 4 !== 0;
            return spare ? withSegment(jwe, index, withSpareBits) : jwe;
          },
        });
        if (!spare) continue;
        await expectCode(open(env), 'ERR_ENVELOPE_MALFORMED');
        respelled.add(index);
      }
    }
    expect([...respelled].sort()).toEqual([0, 3]);
    // a coordinate of the ephemeral key respelled (a header member, checked with the allowlist)
    const env = await craft(provider, {
      meta,
      signer: w.a,
      recipient: w.b,
      mapJwe: (jwe) => {
        const h = decodeHeader(jwe) as { epk: { x: string } };
        return withHeader(jwe, { ...h, epk: { ...h.epk, x: withSpareBits(h.epk.x) } });
      },
    });
    await expectCode(open(env), 'ERR_ALG_NOT_ALLOWED');
  });

  test(`conformance (${provider.name}) - an inner JWS or a compact JWS respelled with unused base64url bits set is refused`, async () => {
    const w = world();
    const meta = makeMeta();
    const inner = (mapInner: (jws: string) => string) =>
      craft(provider, { meta, signer: w.a, recipient: w.b, mapInner });
    await expectCode(open(await inner((jws) => withSegment(jws, 2, withSpareBits))), 'ERR_SIGNATURE_INVALID');
    // header and payload re-signed by the sender: canonical, they open; respelled, they are refused
    const resigned = (spare: 'header' | 'payload' | 'none') => (jws: string) => {
      const h = paddedSegment(segmentText(jws, 0));
      const p = paddedSegment(segmentText(jws, 1));
      return signSegments(
        spare === 'header' ? withSpareBits(h) : h,
        spare === 'payload' ? withSpareBits(p) : p,
        w.a.signing,
      );
    };
    expect((await open(await inner(resigned('none')))).payload).toEqual(samplePayload);
    await expectCode(open(await inner(resigned('header'))), 'ERR_SIGNATURE_INVALID');
    await expectCode(open(await inner(resigned('payload'))), 'ERR_SIGNATURE_INVALID');
    // receipts, checkpoints and directory entries go through verifyCompact
    const jws = await signCompact({ receiptOf: 'x' }, w.a.signing, { typ: 'pex-receipt+jws' }, provider);
    const key = () => Promise.resolve(toPublicJwk(w.a.signing));
    await expect(verifyCompact(jws, key, provider)).resolves.toBeTruthy();
    await expectCode(
      verifyCompact(withSegment(jws, 2, withSpareBits), key, provider),
      'ERR_ENVELOPE_MALFORMED',
    );
  });
}

/** Each check of openEnvelope fails with its own code, so a caller can tell what went wrong. */
function describeCheckCodes({ provider, world, open, seal }: Suite): void {
  test(`conformance (${provider.name}) - each check has its code`, async () => {
    const w = world();
    const meta = makeMeta();
    // an envelope from A to B, crafted with one layer changed, is refused with `code`
    const refused = async (change: Partial<Parameters<typeof craft>[1]>, code: EnvelopeErrorCode) =>
      expectCode(open(await craft(provider, { meta, signer: w.a, recipient: w.b, ...change })), code);
    // unknown sender, unknown kid
    await refused({ meta: makeMeta({ sender: 'portal-ghost' }) }, 'ERR_UNKNOWN_SENDER');
    await refused({ sealer: w.c }, 'ERR_KEY_NOT_FOUND');
    // encrypted to another participant's key
    await refused({ recipient: w.c }, 'ERR_DECRYPTION_FAILED');
    // corrupted ciphertext, sealed as is by the sender
    const corrupted = (jwe: string): string => {
      const p = jwe.split('.');
      const ct = Buffer.from(p[3]!, 'base64url');
      ct[0] = ct[0]! ^ 1;
      p[3] = ct.toString('base64url');
      return p.join('.');
    };
    await refused({ mapJwe: corrupted }, 'ERR_DECRYPTION_FAILED');
    // inner signed by someone else than the sender; inner signature bytes broken
    await refused({ signer: w.c, sealer: w.a }, 'ERR_SIGNATURE_INVALID');
    await refused({ mapInner: (jws) => `${jws.slice(0, -4)}AAAA` }, 'ERR_SIGNATURE_INVALID');
    await refused({ mapInner: () => 'not a jws' }, 'ERR_SIGNATURE_INVALID');
    // inner meta differs
    await refused({ innerMeta: { ...meta, dossierId: 'D-2026-999999' } }, 'ERR_META_MISMATCH');
    // signed content with a duplicate key
    await refused(
      { innerContent: `{"meta":${JSON.stringify(meta)},"payload":1,"payload":2}` },
      'ERR_ENVELOPE_MALFORMED',
    );
    // addressed to C, encrypted to B
    await refused({ meta: makeMeta({ recipient: 'commune-21004' }) }, 'ERR_WRONG_RECIPIENT');
    // stale and future
    const env = await seal();
    await expectCode(open(env, { now: new Date(Date.now() + 3_600_000) }), 'ERR_NOT_FRESH');
    await expectCode(open(env, { now: new Date(Date.now() - 3_600_000) }), 'ERR_NOT_FRESH');
    expect(
      (
        await openEnvelope(JSON.stringify(env), {
          recipient: w.b,
          resolver: w.resolver,
          provider,
          now: new Date(Date.now() + 3_600_000),
          freshnessMs: Infinity,
        })
      ).payload,
    ).toEqual(samplePayload);
    // size limit before parsing
    await expectCode(
      openEnvelope(JSON.stringify(env), { recipient: w.b, resolver: w.resolver, provider, maxBytes: 100 }),
      'ERR_ENVELOPE_TOO_LARGE',
    );
  });
}

/** Keys: rotation by kid, a fresh ephemeral key per message, the wrong key refused, private keys kept out of errors. */
function describeKeys({ provider, world, open, seal }: Suite): void {
  test(`conformance (${provider.name}) - the recipient decrypts with the key the JWE kid names during a rotation`, async () => {
    const w = world();
    const next = await generateKey('enc', { kidPrefix: 'region-bruxelles' });
    const env = await seal();
    const rotated = { ...w.b, encryption: [next, ...w.b.encryption] };
    expect(
      (await openEnvelope(JSON.stringify(env), { recipient: rotated, resolver: w.resolver, provider }))
        .payload,
    ).toEqual(samplePayload);
    const toNext = await sealEnvelope({
      meta: makeMeta(),
      payload: 1,
      sender: w.a,
      recipientKey: toPublicJwk(next),
      provider,
    });
    expect(
      (await openEnvelope(JSON.stringify(toNext), { recipient: rotated, resolver: w.resolver, provider }))
        .payload,
    ).toBe(1);
    await expectCode(
      openEnvelope(JSON.stringify(toNext), { recipient: w.b, resolver: w.resolver, provider }),
      'ERR_DECRYPTION_FAILED',
    );
  });

  test(`conformance (${provider.name}) - every JWE has an ephemeral key, content key and IV of its own`, async () => {
    const w = world();
    const to = toPublicJwk(w.b.encryption[0]!);
    const jwes = await Promise.all(
      Array.from({ length: 16 }, () => provider.encrypt(new TextEncoder().encode('x'), to)),
    );
    const epks = jwes.map((jwe) => JSON.stringify(decodeHeader(jwe)['epk']));
    expect(new Set(epks).size).toBe(jwes.length);
    for (const part of [1, 2]) expect(new Set(jwes.map((j) => j.split('.')[part])).size).toBe(jwes.length);
    for (const jwe of jwes)
      expect(Buffer.from(await provider.decrypt(jwe, w.b.encryption[0]!)).toString()).toBe('x');
  });

  test(`conformance (${provider.name}) - provider primitives reject the wrong key`, async () => {
    const w = world();
    const data = new TextEncoder().encode('x');
    const jws = await provider.sign(data, w.a.signing);
    expect(Buffer.from(await provider.verify(jws, toPublicJwk(w.a.signing))).toString()).toBe('x');
    await expect(provider.verify(jws, toPublicJwk(w.c.signing))).rejects.toThrow();
    const jwe = await provider.encrypt(data, toPublicJwk(w.b.encryption[0]!));
    expect(Buffer.from(await provider.decrypt(jwe, w.b.encryption[0]!)).toString()).toBe('x');
    await expect(provider.decrypt(jwe, w.c.encryption[0]!)).rejects.toThrow();
  });

  test(`conformance (${provider.name}) - errors never carry private key material`, async () => {
    const w = world();
    const env = await craft(provider, { meta: makeMeta(), signer: w.a, recipient: w.c });
    const err = (await open(env).catch((e: unknown) => e)) as EnvelopeError;
    const text =
      JSON.stringify(err.toJSON()) + String(err.stack) + String((err.cause as Error | undefined)?.message);
    for (const k of [w.a.signing, w.b.encryption[0]!, w.c.encryption[0]!]) expect(text).not.toContain(k.d);
  });
}

/**
 * The one conformance suite every crypto provider passes: same envelopes, same checks, same codes.
 */
export function describeConformance(provider: CryptoProvider): void {
  describe(`conformance (${provider.name})`, () => {
    let w: World | undefined;
    beforeAll(async () => {
      w = await makeWorld();
    });
    const suite = suiteOf(provider, () => {
      if (!w) throw new Error('the world is made in beforeAll');
      return w;
    });
    describeRoundTrip(suite);
    describeAllowlists(suite);
    describeCanonicalSpelling(suite);
    describeCheckCodes(suite);
    describeKeys(suite);
  });
}
