import { createHash } from 'node:crypto';
import {
  Certificate,
  ContentInfo,
  ExtKeyUsage,
  SignedData,
  TSTInfo,
  type SignedDataVerifyResult,
} from 'pkijs';
import { LedgerError } from './ledger-error.js';

/** OID of SHA-256, the only imprint algorithm Passerelle asks for and accepts. */
export const SHA256_OID = '2.16.840.1.101.3.4.2.1';
const SIGNED_DATA_OID = '1.2.840.113549.1.7.2';
const TST_INFO_OID = '1.2.840.113549.1.9.16.1.4';
const EXT_KEY_USAGE_OID = '2.5.29.37';
const TIME_STAMPING_OID = '1.3.6.1.5.5.7.3.8';

/** What a checked RFC 3161 token attests. */
export interface AttestedTime {
  /** The TSA's `genTime`: when the TSA saw the imprint. */
  genTime: Date;
  /** The token's serial number (hex), unique per TSA. */
  serial: string;
  /** The TSA policy OID the token was issued under. */
  policy: string;
  /** Subject of the TSA's signing certificate (RFC 4514-like, for reports). */
  tsa: string;
  /** Whether the TSA's certificate chain was checked against a trust list. */
  chain: 'trusted' | 'unchecked';
}

/** TSA certificates trusted as roots of a timestamp token's chain. */
export interface TsaTrust {
  readonly certificates: readonly Certificate[];
}

function invalid(reason: string, cause?: unknown): never {
  throw new LedgerError('ERR_LEDGER_TIMESTAMP_INVALID', `Timestamp token refused: ${reason}.`, {
    ...(cause ? { cause } : {}),
  });
}

const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/**
 * Parses PEM certificates (one or more `BEGIN CERTIFICATE` blocks) into a trust list for
 * {@link verifyTimestampToken}.
 *
 * @example
 * ```ts
 * const trust = parseTsaTrust(readFileSync('tsa-roots.pem', 'utf8'));
 * ```
 */
export function parseTsaTrust(pem: string): TsaTrust {
  const blocks = [
    ...pem.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g),
  ];
  if (blocks.length === 0) {
    throw new LedgerError('ERR_LEDGER_TIMESTAMP_INVALID', 'The TSA trust list holds no PEM certificate.');
  }
  return {
    certificates: blocks.map((b) =>
      Certificate.fromBER(toArrayBuffer(Buffer.from((b[1] as string).replace(/\s+/g, ''), 'base64'))),
    ),
  };
}

function describeName(cert: Certificate): string {
  return cert.subject.typesAndValues
    .map((tv) => {
      const label =
        { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C' }[tv.type] ?? tv.type;
      return `${label}=${String(tv.value.valueBlock.value)}`;
    })
    .join(', ');
}

/** The TSTInfo and SignedData of a DER TimeStampToken (a CMS ContentInfo), or a refusal naming why not. */
export function decodeTimestampToken(der: Uint8Array): { signed: SignedData; info: TSTInfo } {
  let signed: SignedData;
  try {
    const content = ContentInfo.fromBER(toArrayBuffer(der));
    if (content.contentType !== SIGNED_DATA_OID) invalid('not a CMS SignedData');
    signed = new SignedData({ schema: content.content });
  } catch (err) {
    if (err instanceof LedgerError) throw err;
    invalid('not a DER TimeStampToken', err);
  }
  if (signed.encapContentInfo.eContentType !== TST_INFO_OID || !signed.encapContentInfo.eContent) {
    invalid('the signed content is not a TSTInfo');
  }
  let info: TSTInfo;
  try {
    info = TSTInfo.fromBER(signed.encapContentInfo.eContent.getValue());
  } catch (err) {
    invalid('the TSTInfo does not parse', err);
  }
  return { signed, info };
}

/** SHA-256 imprint of `data` as the token must carry it. */
export function imprintOf(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * Checks an RFC 3161 TimeStampToken (DER) over `data`: a TSTInfo signed as CMS SignedData, a SHA-256
 * message imprint equal to SHA-256(`data`), the TSA's signature, a signing certificate whose extended key
 * usage is time stamping only (RFC 3161 §2.3), and — given a trust list — the certificate chain to one of its
 * roots, valid at `genTime`. Optionally the token's nonce. Throws `ERR_LEDGER_TIMESTAMP_INVALID` naming the
 * failing step; resolves to the attested time.
 *
 * @example
 * ```ts
 * const { genTime } = await verifyTimestampToken(token, Buffer.from(checkpoint.seal), { trust });
 * ```
 */
export async function verifyTimestampToken(
  der: Uint8Array,
  data: Uint8Array | string,
  options: { trust?: TsaTrust; nonce?: bigint } = {},
): Promise<AttestedTime> {
  const { signed, info } = decodeTimestampToken(der);
  if (info.messageImprint.hashAlgorithm.algorithmId !== SHA256_OID) {
    invalid('the message imprint is not SHA-256');
  }
  const imprint = Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView);
  if (!imprint.equals(imprintOf(data)))
    invalid('the message imprint is not the hash of what it should cover');
  if (options.nonce !== undefined) {
    const nonce = info.nonce
      ? BigInt(`0x${Buffer.from(info.nonce.valueBlock.valueHexView).toString('hex')}`)
      : undefined;
    if (nonce !== options.nonce) invalid('the nonce is not the one asked for');
  }
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let result: SignedDataVerifyResult;
  try {
    result = await signed.verify({
      signer: 0,
      data: toArrayBuffer(bytes),
      trustedCerts: [...(options.trust?.certificates ?? [])],
      checkChain: options.trust !== undefined,
      extendedMode: true,
    });
  } catch (err) {
    const message = (err as { message?: unknown }).message;
    invalid(typeof message === 'string' ? message.replace(/\.$/, '') : 'the signature does not verify', err);
  }
  if (!result.signatureVerified || !result.signerCertificate) invalid("the TSA's signature does not verify");
  const signer = result.signerCertificate;
  const eku = signer.extensions?.find((e) => e.extnID === EXT_KEY_USAGE_OID);
  const usages = eku?.parsedValue instanceof ExtKeyUsage ? eku.parsedValue.keyPurposes : [];
  if (!eku?.critical || usages.length !== 1 || usages[0] !== TIME_STAMPING_OID) {
    invalid('the signing certificate is not a TSA certificate (critical extended key usage timeStamping)');
  }
  return {
    genTime: info.genTime,
    serial: Buffer.from(info.serialNumber.valueBlock.valueHexView).toString('hex'),
    policy: info.policy,
    tsa: describeName(signer),
    chain: options.trust ? 'trusted' : 'unchecked',
  };
}
