import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  type CryptoProvider,
  type Envelope,
  type EnvelopeMeta,
  type ParticipantKeys,
  createJoseProvider,
  createNodeCryptoProvider,
  createNodeJoseProvider,
  openEnvelope,
  sealEnvelope,
  toPublicJwk,
} from '../src/index.js';
import { type EnvelopeErrorCode, EnvelopeError } from '../src/internal.js';
import { META_KEYS, assertEnvelopeMeta, isBase64Url, sha256Hex } from '../src/internal.js';
import { craft, makeMeta, makeWorld, samplePayload, withHeader, type World } from './fixtures.js';

const MAX_BYTES = 64 * 1024;
const JWS_MEMBERS = ['alg', 'kid', 'typ', 'cty'];

interface Variant {
  raw: string | Uint8Array;
  expected: EnvelopeErrorCode;
  label: string;
}

function flipSegment(compact: string, segment: number, byteIndex: number, bit: number): string {
  const parts = compact.split('.');
  const bytes = Buffer.from(parts[segment]!, 'base64url');
  const i = byteIndex % bytes.length;
  bytes[i] = bytes[i]! ^ (1 << bit);
  parts[segment] = bytes.toString('base64url');
  return parts.join('.');
}

/** What the receiver must answer for a seal whose protected header was flipped (the documented order). */
function expectedForSealHeader(seal: string, originalKid: string): EnvelopeErrorCode {
  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      Buffer.from(seal.split('.')[0]!, 'base64url'),
    );
    header = JSON.parse(text);
  } catch {
    return 'ERR_ENVELOPE_MALFORMED';
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return 'ERR_ENVELOPE_MALFORMED';
  const h = header as Record<string, unknown>;
  if (!Object.keys(h).every((k) => JWS_MEMBERS.includes(k))) return 'ERR_ALG_NOT_ALLOWED';
  if (h['alg'] !== 'ES256' || typeof h['kid'] !== 'string' || h['kid'] === '') return 'ERR_ALG_NOT_ALLOWED';
  if (['typ', 'cty'].some((k) => k in h && typeof h[k] !== 'string')) return 'ERR_ALG_NOT_ALLOWED';
  if (h['kid'] !== originalKid) return 'ERR_KEY_NOT_FOUND';
  return 'ERR_SEAL_INVALID';
}

function expectedForTruncatedCompact(value: string, parts: number): EnvelopeErrorCode {
  const segs = value.split('.');
  if (segs.length !== parts || !segs.every(isBase64Url) || segs[0] === '') return 'ERR_ENVELOPE_MALFORMED';
  return 'ERR_SEAL_INVALID';
}

function metaStillValid(meta: unknown): boolean {
  try {
    assertEnvelopeMeta(meta);
    return true;
  } catch {
    return false;
  }
}

function describeTamper(provider: CryptoProvider, numRuns: number): void {
  describe(`tamper corpus (${provider.name})`, () => {
    let w: World;
    let base: Envelope;
    let other: Envelope;
    let fixed: Variant[];

    beforeAll(async () => {
      w = await makeWorld();
      const seal = (meta = makeMeta()) =>
        sealEnvelope({
          meta,
          payload: samplePayload,
          sender: w.a,
          recipientKey: toPublicJwk(w.b.encryption[0]!),
          provider,
        });
      base = await seal();
      other = await seal();
      const resealedByC = async (meta: Envelope['meta'], kid: string) =>
        ({
          ...base,
          meta,
          seal: await provider.sign(
            new TextEncoder().encode(JSON.stringify({ v: 1, meta, jweSha256: sha256Hex(base.jwe) })),
            { ...w.c.signing, kid },
            { typ: 'pex-seal+jws' },
          ),
        }) satisfies Envelope;
      const stale = await seal(makeMeta({ issuedAt: new Date(Date.now() - 86_400_000).toISOString() }));
      /** An envelope crafted with `over` in its meta, signed by `signer` for `recipient`. */
      const craftedRaw = async (
        over: Partial<EnvelopeMeta>,
        signer: ParticipantKeys,
        recipient: ParticipantKeys,
        more: { innerMeta?: unknown } = {},
      ) => JSON.stringify(await craft(provider, { meta: makeMeta(over), signer, recipient, ...more }));
      fixed = [
        {
          raw: JSON.stringify({ ...base, jwe: other.jwe }),
          expected: 'ERR_SEAL_INVALID',
          label: 'swapped jwe',
        },
        {
          raw: JSON.stringify({ ...base, seal: other.seal }),
          expected: 'ERR_SEAL_INVALID',
          label: 'swapped seal',
        },
        {
          raw: JSON.stringify({ ...base, meta: other.meta }),
          expected: 'ERR_SEAL_INVALID',
          label: 'swapped meta',
        },
        {
          raw: JSON.stringify(await resealedByC({ ...base.meta, sender: 'commune-21004' }, w.c.signing.kid)),
          expected: 'ERR_SIGNATURE_INVALID',
          label: 're-sealed by C as sender C',
        },
        {
          raw: JSON.stringify(await resealedByC(base.meta, w.c.signing.kid)),
          expected: 'ERR_KEY_NOT_FOUND',
          label: 're-sealed by C, own kid',
        },
        {
          raw: JSON.stringify(await resealedByC(base.meta, w.a.signing.kid)),
          expected: 'ERR_SEAL_INVALID',
          label: 're-sealed by C, kid of A',
        },
        {
          raw: await craftedRaw({ sender: 'commune-21004' }, w.c, w.b, { innerMeta: base.meta }),
          expected: 'ERR_META_MISMATCH',
          label: 'C re-signs the content of A',
        },
        {
          raw: await craftedRaw({ recipient: 'commune-21004' }, w.a, w.b),
          expected: 'ERR_WRONG_RECIPIENT',
          label: 'addressed to C',
        },
        {
          raw: await craftedRaw({ recipient: 'commune-21004' }, w.a, w.c),
          expected: 'ERR_DECRYPTION_FAILED',
          label: 'delivered to the wrong participant',
        },
        { raw: JSON.stringify(stale), expected: 'ERR_NOT_FRESH', label: 'stale' },
        {
          raw: JSON.stringify({
            ...base,
            seal: withHeader(base.seal, { alg: 'none', kid: w.a.signing.kid }),
          }),
          expected: 'ERR_ALG_NOT_ALLOWED',
          label: 'alg none',
        },
        {
          raw: JSON.stringify({
            ...base,
            seal: withHeader(base.seal, { alg: 'HS256', kid: w.a.signing.kid }),
          }),
          expected: 'ERR_ALG_NOT_ALLOWED',
          label: 'HMAC',
        },
        {
          raw: JSON.stringify({
            ...base,
            seal: withHeader(base.seal, {
              alg: 'ES256',
              kid: w.a.signing.kid,
              jwk: toPublicJwk(w.c.signing),
            }),
          }),
          expected: 'ERR_ALG_NOT_ALLOWED',
          label: 'embedded jwk',
        },
      ];
    });

    test(`tamper corpus (${provider.name}) - at least 200 distinct tampered envelopes, each refused with the expected code`, async () => {
      const jweFlip = (s: number, i: number, b: number) => (): Variant => ({
        raw: JSON.stringify({ ...base, jwe: flipSegment(base.jwe, s, i, b) }),
        expected: 'ERR_SEAL_INVALID',
        label: `jwe segment ${s} flip`,
      });
      const sealFlip =
        (s: number, i: number, b: number) =>
        (wd: World): Variant => {
          const seal = flipSegment(base.seal, s, i, b);
          return {
            raw: JSON.stringify({ ...base, seal }),
            expected: s === 0 ? expectedForSealHeader(seal, wd.a.signing.kid) : 'ERR_SEAL_INVALID',
            label: `seal segment ${s} flip`,
          };
        };
      const metaFlip = (f: string, i: number, b: number) => (): Variant => {
        const meta: Record<string, unknown> = { ...base.meta };
        const v = meta[f];
        if (typeof v === 'number') meta[f] = v ^ (1 << b);
        else if (typeof v === 'string') {
          const j = i % v.length;
          meta[f] = v.slice(0, j) + String.fromCharCode(v.charCodeAt(j) ^ (1 << b)) + v.slice(j + 1);
        } else meta[f] = 'x'.repeat(1 + (i % 8));
        let expected: EnvelopeErrorCode = 'ERR_SEAL_INVALID';
        if (!metaStillValid(meta)) expected = 'ERR_ENVELOPE_MALFORMED';
        else if (f === 'sender') expected = 'ERR_UNKNOWN_SENDER';
        return { raw: JSON.stringify({ ...base, meta }), expected, label: `meta.${f} flip` };
      };
      const compactTruncated = (member: 'seal' | 'jwe', parts: number, n: number) => (): Variant => {
        const value = base[member].slice(0, n % base[member].length);
        return {
          raw: JSON.stringify({ ...base, [member]: value }),
          expected: expectedForTruncatedCompact(value, parts),
          label: `${member} truncated`,
        };
      };
      const metaFields: readonly string[] = META_KEYS;
      const arb: fc.Arbitrary<(w: World) => Variant> = fc.oneof(
        // bit flips in every segment of the JWE: all covered by the seal
        fc
          .record({ s: fc.integer({ min: 0, max: 4 }), i: fc.nat(), b: fc.integer({ min: 0, max: 7 }) })
          .map(({ s, i, b }) => jweFlip(s, i, b)),
        // bit flips in the seal: header (outcome by the documented order), payload and signature
        fc
          .record({ s: fc.integer({ min: 0, max: 2 }), i: fc.nat(), b: fc.integer({ min: 0, max: 7 }) })
          .map(({ s, i, b }) => sealFlip(s, i, b)),
        // bit flips in each meta field
        fc
          .record({ f: fc.constantFrom(...metaFields), i: fc.nat(), b: fc.integer({ min: 0, max: 6 }) })
          .map(({ f, i, b }) => metaFlip(f, i, b)),
        // edited meta with well-formed values
        fc
          .record({
            dossierId: fc.stringMatching(/^[A-Za-z0-9-]{8,64}$/),
            correlationId: fc.stringMatching(/^[a-z0-9]{1,40}$/),
          })
          .map((e) => () => ({
            raw: JSON.stringify({ ...base, meta: { ...base.meta, ...e } }),
            expected: 'ERR_SEAL_INVALID' as const,
            label: 'meta edited',
          })),
        fc.constantFrom('commune-21004', 'region-bruxelles').map((sender) => () => ({
          raw: JSON.stringify({ ...base, meta: { ...base.meta, sender } }),
          expected: 'ERR_KEY_NOT_FOUND' as const,
          label: 'meta.sender swapped for another participant',
        })),
        fc.stringMatching(/^[a-z0-9]{1,20}$/).map((name) => () => ({
          raw: JSON.stringify({ ...base, meta: { ...base.meta, sender: `portal-x${name}` } }),
          expected: 'ERR_UNKNOWN_SENDER' as const,
          label: 'meta.sender unknown',
        })),
        fc
          .record({ k: fc.string({ minLength: 1, maxLength: 10 }), v: fc.jsonValue() })
          .map(({ k, v }) => () => ({
            raw: JSON.stringify({ ...base, meta: { ...base.meta, [`x${k}`]: v } }),
            expected: 'ERR_ENVELOPE_MALFORMED' as const,
            label: 'extra meta member',
          })),
        // truncation of the body, of the seal, of the JWE
        fc.nat().map((n) => () => {
          const raw = JSON.stringify(base);
          return {
            raw: raw.slice(0, n % raw.length),
            expected: 'ERR_ENVELOPE_MALFORMED' as const,
            label: 'body truncated',
          };
        }),
        fc.nat().map((n) => compactTruncated('seal', 3, n)),
        fc.nat().map((n) => compactTruncated('jwe', 5, n)),
        // duplicate JSON keys, where JSON.parse would silently keep the last one
        fc
          .record({
            key: fc.constantFrom('meta', 'jwe', 'seal'),
            nested: fc.constantFrom('id', 'sender', 'recipient', 'dossierId'),
            top: fc.boolean(),
          })
          .map(({ key, nested, top }) => () => {
            const raw = JSON.stringify(base);
            const dup = top
              ? raw.replace(
                  /}$/,
                  `,"${key}":${JSON.stringify(key === 'meta' ? other.meta : key === 'jwe' ? other.jwe : other.seal)}}`,
                )
              : raw.replace(
                  '"meta":{',
                  `"meta":{"${nested}":${JSON.stringify((other.meta as unknown as Record<string, unknown>)[nested])},`,
                );
            return {
              raw: dup,
              expected: 'ERR_ENVELOPE_MALFORMED' as const,
              label: `duplicate ${top ? key : `meta.${nested}`}`,
            };
          }),
        // huge strings: over the limit is refused before parsing, under it by the meta rules
        fc
          .record({
            f: fc.constantFrom('correlationId', 'dossierId', 'type', 'jwe'),
            n: fc.integer({ min: 200, max: 2 * MAX_BYTES }),
          })
          .map(({ f, n }) => () => {
            const raw = JSON.stringify(
              f === 'jwe'
                ? { ...base, jwe: base.jwe + 'A'.repeat(n) }
                : { ...base, meta: { ...base.meta, [f]: 'A'.repeat(n) } },
            );
            const expected: EnvelopeErrorCode =
              Buffer.byteLength(raw) > MAX_BYTES
                ? 'ERR_ENVELOPE_TOO_LARGE'
                : f === 'jwe'
                  ? expectedForTruncatedCompact(base.jwe + 'A'.repeat(n), 5)
                  : 'ERR_ENVELOPE_MALFORMED';
            return { raw, expected, label: `huge ${f}` };
          }),
        // not JSON, not an object, not UTF-8
        fc
          .string({ maxLength: 200 })
          .map((s) => () => ({ raw: s, expected: 'ERR_ENVELOPE_MALFORMED' as const, label: 'random text' })),
        fc.jsonValue().map((v) => () => ({
          raw: JSON.stringify(v) ?? 'null',
          expected: 'ERR_ENVELOPE_MALFORMED' as const,
          label: 'other JSON',
        })),
        fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => () => ({
          raw: Uint8Array.from([0xff, ...bytes]),
          expected: 'ERR_ENVELOPE_MALFORMED' as const,
          label: 'random bytes',
        })),
        // fixed hand-made attacks (swaps, re-signing, wrong recipient, algs)
        fc.nat().map((i) => () => fixed[i % fixed.length]!),
      );

      const seen = new Set<string>();
      const byLabel = new Map<string, number>();
      const check = async (v: Variant): Promise<void> => {
        const err = await openEnvelope(v.raw, {
          recipient: w.b,
          resolver: w.resolver,
          provider,
          maxBytes: MAX_BYTES,
        }).then(
          () => undefined,
          (e: unknown) => e,
        );
        if (!(err instanceof EnvelopeError) || err.code !== v.expected) {
          throw new Error(
            `${v.label}: expected ${v.expected}, got ${err instanceof EnvelopeError ? err.code : String(err)}`,
          );
        }
        seen.add(typeof v.raw === 'string' ? v.raw : Buffer.from(v.raw).toString('hex'));
        const family = v.label.split(' ')[0] as string;
        byLabel.set(family, (byLabel.get(family) ?? 0) + 1);
      };
      // every segment and every meta field at least once, whatever the random draw
      for (let s = 0; s < 5; s++) await check(jweFlip(s, 3 + s, s)());
      for (let s = 0; s < 3; s++) await check(sealFlip(s, 40, 1)(w));
      for (const f of metaFields) await check(metaFlip(f, 2, 0)());
      for (const v of fixed) await check(v);
      await fc.assert(
        fc.asyncProperty(arb, (make) => check(make(w))),
        { numRuns },
      );
      expect(seen.size).toBeGreaterThanOrEqual(200);
      // every family of tampering was drawn
      for (const family of ['jwe', 'seal', 'meta.id', 'body', 'random', 'duplicate', 'huge']) {
        expect(
          [...byLabel.keys()].some((k) => k.startsWith(family)),
          family,
        ).toBe(true);
      }
    });

    test(`tamper corpus (${provider.name}) - the untampered envelope opens`, async () => {
      const r = await openEnvelope(JSON.stringify(base), {
        recipient: w.b,
        resolver: w.resolver,
        provider,
        maxBytes: MAX_BYTES,
      });
      expect(r.payload).toEqual(samplePayload);
    });
  });
}

describeTamper(createJoseProvider(), 600);
describeTamper(createNodeJoseProvider(), 300);
describeTamper(createNodeCryptoProvider({ signatures: 'thread-pool' }), 400);
describeTamper(createNodeCryptoProvider({ signatures: 'inline' }), 400);
