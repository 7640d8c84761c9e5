import { createPrivateKey, sign } from 'node:crypto';
import {
  type CryptoProvider,
  type PrivateJwk,
  type Envelope,
  type EnvelopeMeta,
  type KeyResolver,
  type ParticipantKeys,
  createStaticResolver,
  generateParticipantKeys,
  newMessageId,
  toPublicJwk,
  publicKeysOf,
} from '../src/index.js';
import { type ProtectedHeaderExtras, sha256Hex } from '../src/internal.js';

/** Participants of the envelope tests: A sends to B; C is another valid participant. */
export interface World {
  a: ParticipantKeys;
  b: ParticipantKeys;
  c: ParticipantKeys;
  resolver: KeyResolver;
}

export async function makeWorld(): Promise<World> {
  const [a, b, c] = await Promise.all([
    generateParticipantKeys('portal-demo'),
    generateParticipantKeys('region-bruxelles'),
    generateParticipantKeys('commune-21004'),
  ]);
  const resolver = createStaticResolver([a, b, c].map(publicKeysOf));
  return { a, b, c, resolver };
}

export function makeMeta(overrides: Partial<EnvelopeMeta> = {}): EnvelopeMeta {
  return {
    id: newMessageId(),
    type: 'dossier-submitted',
    schemaVersion: 1,
    sender: 'portal-demo',
    recipient: 'region-bruxelles',
    dossierId: 'D-2026-000123',
    issuedAt: new Date().toISOString(),
    correlationId: newMessageId(),
    causationId: null,
    ...overrides,
  };
}

export const samplePayload = { employer: { vat: 'BE0123456789' }, job: { title: 'welder', hours: 38 } };

const enc = new TextEncoder();
const b64 = (v: object | string): string =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Replaces the protected header of a compact serialization (signature/tag left as they were). */
export function withHeader(compact: string, header: object | string): string {
  const parts = compact.split('.');
  parts[0] = b64(header);
  return parts.join('.');
}

export function decodeHeader(compact: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(compact.split('.')[0] as string, 'base64url').toString()) as Record<
    string,
    unknown
  >;
}

/**
 * Builds an envelope the way a sender (honest or not) could, step by step, so tests can make each
 * layer wrong on purpose while the others stay valid.
 */
export async function craft(
  provider: CryptoProvider,
  o: {
    meta: EnvelopeMeta;
    signer: ParticipantKeys;
    sealer?: ParticipantKeys;
    recipient: ParticipantKeys;
    innerMeta?: unknown;
    innerContent?: string;
    mapInner?: (jws: string) => string;
    mapJwe?: (jwe: string) => string;
    sealPayload?: (meta: EnvelopeMeta, jwe: string) => object;
    /** `typ` of the inner JWS and of the seal (undefined: the right one; null: none). */
    innerTyp?: string | null;
    sealTyp?: string | null;
    /** Extra members of the JWE's protected header. */
    jweHeader?: ProtectedHeaderExtras;
  },
): Promise<Envelope> {
  const typ = (value: string | null | undefined, right: string): { typ?: string } =>
    value === null ? {} : { typ: value ?? right };
  const content = o.innerContent ?? JSON.stringify({ meta: o.innerMeta ?? o.meta, payload: samplePayload });
  let inner = await provider.sign(enc.encode(content), o.signer.signing, typ(o.innerTyp, 'pex-msg+jws'));
  if (o.mapInner) inner = o.mapInner(inner);
  let jwe = await provider.encrypt(enc.encode(inner), toPublicJwk(o.recipient.encryption[0]!), o.jweHeader);
  if (o.mapJwe) jwe = o.mapJwe(jwe);
  const sealBody = o.sealPayload?.(o.meta, jwe) ?? { v: 1, meta: o.meta, jweSha256: sha256Hex(jwe) };
  const seal = await provider.sign(
    enc.encode(JSON.stringify(sealBody)),
    (o.sealer ?? o.signer).signing,
    typ(o.sealTyp, 'pex-seal+jws'),
  );
  return { meta: o.meta, jwe, seal };
}

/** The code of what `fn` throws ('no error' when it returns). */
export function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return 'no error';
}

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The same bytes spelled otherwise: the lowest unused bit of the last base64url character set. A segment
 * of 4n + 2 characters has four unused bits, one of 4n + 3 two, one of 4n none (this throws).
 */
export function withSpareBits(segment: string): string {
  const rest = segment.length % 4;
  if (rest !== 2 && rest !== 3) throw new Error(`${segment.length} base64url characters have no unused bit`);
  const last = BASE64URL.indexOf(segment.slice(-1));
  const respelled = `${segment.slice(0, -1)}${BASE64URL[last | 1]}`;
  if (!Buffer.from(respelled, 'base64url').equals(Buffer.from(segment, 'base64url')))
    throw new Error('fixture: the respelled segment decodes to other bytes');
  return respelled;
}

/** Segment `index` of a compact serialization replaced by `f` of it. */
export function withSegment(compact: string, index: number, f: (segment: string) => string): string {
  const parts = compact.split('.');
  parts[index] = f(parts[index]!);
  return parts.join('.');
}

/**
 * The canonical base64url of a JSON text with trailing spaces added until its encoding has unused bits
 * (JSON allows the spaces; a decoder sees the same value).
 */
export function paddedSegment(json: string): string {
  let text = json;
  while (Buffer.byteLength(text) % 3 === 0) text += ' ';
  return Buffer.from(text).toString('base64url');
}

/** A compact JWS over these exact header and payload segments, signed by `key` with node:crypto. */
export function signSegments(header: string, payload: string, key: PrivateJwk): string {
  const input = `${header}.${payload}`;
  const privateKey = createPrivateKey({
    key: { kty: 'EC', crv: 'P-256', x: key.x, y: key.y, d: key.d },
    format: 'jwk',
  });
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/** The decoded text of segment `index`. */
export function segmentText(compact: string, index: number): string {
  return Buffer.from(compact.split('.')[index]!, 'base64url').toString('utf8');
}
