/**
 * The floor the benchmarks compare Passerelle with: Node's `crypto` doing the cryptographic work of one
 * message with no JOSE library, no checks and no formats beyond what the work needs. Seal: ES256 sign of
 * `{ meta, payload }`, ephemeral P-256 key + ECDH on raw points + Concat KDF + AES-KW + AES-256-GCM,
 * SHA-256 of the ciphertext, ES256 sign of the seal. Open: the reverse (two ES256 verifications, ECDH,
 * unwrap, decrypt). Receipt: one ES256 signature by the receiver and its verification by the sender.
 * Signatures run on libuv's thread pool (the default provider's do on machines of more than two cores).
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto';
import { promisify } from 'node:util';
import { type EnvelopeMeta, type PrivateJwk, toPublicJwk } from '@passerelle/envelope';

/** What the floor's seal produces: the same pieces as a JWE and a seal, unencoded. */
export interface FloorSealed {
  meta: EnvelopeMeta;
  wrapped: Buffer;
  iv: Buffer;
  ct: Buffer;
  tag: Buffer;
  /** The ephemeral public point as it travels. */
  epk: Buffer;
  seal: Buffer;
}

export interface CryptoFloor {
  seal(meta: EnvelopeMeta): Promise<FloorSealed>;
  open(sealed: FloorSealed): Promise<void>;
  /** The receiver signs a receipt of `sealed`, the sender verifies it. */
  receipt(sealed: FloorSealed): Promise<void>;
}

const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');
const P1363 = 'ieee-p1363' as const;
const signAsync = promisify(sign) as (
  a: string,
  d: Buffer,
  k: { key: KeyObject; dsaEncoding: typeof P1363 },
) => Promise<Buffer>;
const verifyAsync = promisify(verify) as (
  a: string,
  d: Buffer,
  k: { key: KeyObject; dsaEncoding: typeof P1363 },
  s: Buffer,
) => Promise<boolean>;
const b64 = (b: Buffer): string => b.toString('base64url');
const point = (jwk: { x: string; y: string }): Buffer =>
  Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
// Concat KDF (RFC 7518 §4.6), one round for a 256-bit key
const kdf = (z: Buffer): Buffer =>
  createHash('sha256')
    .update(Buffer.from([0, 0, 0, 1]))
    .update(z)
    .update(Buffer.from('ECDH-ES+A256KW'))
    .digest();

export function createCryptoFloor(keys: {
  payload: unknown;
  senderSigning: PrivateJwk;
  recipientSigning: PrivateJwk;
  recipientEncryption: PrivateJwk;
}): CryptoFloor {
  const privateKey = (jwk: PrivateJwk): KeyObject => createPrivateKey({ key: { ...jwk }, format: 'jwk' });
  const publicKey = (jwk: PrivateJwk): KeyObject =>
    createPublicKey({ key: { ...toPublicJwk(jwk) }, format: 'jwk' });
  const senderSig = privateKey(keys.senderSigning);
  const senderSigPub = publicKey(keys.senderSigning);
  const recipientSig = privateKey(keys.recipientSigning);
  const recipientSigPub = publicKey(keys.recipientSigning);
  const recipientPoint = point(keys.recipientEncryption);
  const recipientEcdh = createECDH('prime256v1');
  recipientEcdh.setPrivateKey(Buffer.from(keys.recipientEncryption.d, 'base64url'));
  const ephemeral = createECDH('prime256v1');
  return {
    async seal(meta) {
      const innerData = Buffer.from(JSON.stringify({ meta, payload: keys.payload }));
      const innerSig = await signAsync('sha256', innerData, { key: senderSig, dsaEncoding: P1363 });
      const inner = Buffer.from(`${b64(innerData)}.${b64(innerSig)}`);
      const epk = ephemeral.generateKeys();
      const kek = kdf(ephemeral.computeSecret(recipientPoint));
      const cek = randomBytes(32);
      const wrap = createCipheriv('id-aes256-wrap', kek, AES_KW_IV);
      const wrapped = Buffer.concat([wrap.update(cek), wrap.final()]);
      const iv = randomBytes(12);
      const gcm = createCipheriv('aes-256-gcm', cek, iv);
      const ct = Buffer.concat([gcm.update(inner), gcm.final()]);
      const tag = gcm.getAuthTag();
      const jweHash = createHash('sha256').update(wrapped).update(iv).update(ct).update(tag).digest('hex');
      const seal = await signAsync(
        'sha256',
        Buffer.from(JSON.stringify({ v: 1, meta, jweSha256: jweHash })),
        {
          key: senderSig,
          dsaEncoding: P1363,
        },
      );
      return { meta, wrapped, iv, ct, tag, epk, seal };
    },
    async open(e) {
      const jweHash = createHash('sha256')
        .update(e.wrapped)
        .update(e.iv)
        .update(e.ct)
        .update(e.tag)
        .digest('hex');
      const sealOk = await verifyAsync(
        'sha256',
        Buffer.from(JSON.stringify({ v: 1, meta: e.meta, jweSha256: jweHash })),
        { key: senderSigPub, dsaEncoding: P1363 },
        e.seal,
      );
      if (!sealOk) throw new Error('floor: seal');
      const kek = kdf(recipientEcdh.computeSecret(e.epk));
      const unwrap = createDecipheriv('id-aes256-wrap', kek, AES_KW_IV);
      const cek = Buffer.concat([unwrap.update(e.wrapped), unwrap.final()]);
      const gcm = createDecipheriv('aes-256-gcm', cek, e.iv);
      gcm.setAuthTag(e.tag);
      const inner = Buffer.concat([gcm.update(e.ct), gcm.final()]).toString();
      const [data, sig] = inner.split('.') as [string, string];
      const ok = await verifyAsync(
        'sha256',
        Buffer.from(data, 'base64url'),
        { key: senderSigPub, dsaEncoding: P1363 },
        Buffer.from(sig, 'base64url'),
      );
      if (!ok) throw new Error('floor: inner');
      JSON.parse(Buffer.from(data, 'base64url').toString());
    },
    async receipt(e) {
      const claims = Buffer.from(
        JSON.stringify({ messageId: e.meta.id, receivedAt: new Date().toISOString() }),
      );
      const signature = await signAsync('sha256', claims, { key: recipientSig, dsaEncoding: P1363 });
      if (!(await verifyAsync('sha256', claims, { key: recipientSigPub, dsaEncoding: P1363 }, signature)))
        throw new Error('floor: receipt');
    },
  };
}
