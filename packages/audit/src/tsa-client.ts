import { randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, MessageImprint, PKIStatus, TimeStampReq, TimeStampResp } from 'pkijs';
import { LedgerError } from './ledger-error.js';
import {
  type AttestedTime,
  SHA256_OID,
  type TsaTrust,
  imprintOf,
  verifyTimestampToken,
} from './timestamp-token.js';

/** A token as obtained: its DER bytes and what it attests. */
export interface TimestampToken {
  der: Uint8Array;
  attested: AttestedTime;
}

/** Asks a time-stamping authority for RFC 3161 tokens. */
export interface TsaClient {
  /** A token over SHA-256(`data`), checked before it is returned; throws `ERR_LEDGER_TSA_FAILED`. */
  timestamp(data: Uint8Array | string): Promise<TimestampToken>;
}

/** Options of {@link createTsaClient}. */
export interface TsaClientOptions {
  /** The TSA's RFC 3161 HTTP endpoint (`application/timestamp-query`, RFC 3161 §3.4). */
  url: string;
  /** Roots the TSA's certificate must chain to; without it a token's chain is not checked. */
  trust?: TsaTrust;
  /** Give up one request after this long (default 10 s). */
  timeoutMs?: number;
  /** The TSA policy to ask for (OID); default: the TSA's own. */
  policy?: string;
}

function failed(reason: string, cause?: unknown): never {
  throw new LedgerError('ERR_LEDGER_TSA_FAILED', `The time-stamping authority ${reason}.`, {
    ...(cause ? { cause } : {}),
  });
}

const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/**
 * A request's 62-bit nonce, as the bytes of a positive DER INTEGER in its one allowed form: a first byte of
 * 0x40–0x7f is neither a sign bit nor the leading zero byte DER forbids, which OpenSSL refuses ("the data
 * submitted has the wrong format").
 */
export function freshNonce(): Buffer {
  const bytes = randomBytes(8);
  bytes[0] = ((bytes[0] as number) & 0x3f) | 0x40;
  return bytes;
}

/**
 * A client of an RFC 3161 time-stamping authority over HTTP: each request carries the SHA-256 imprint, a
 * fresh 64-bit nonce and asks for the TSA certificate; each answer must be `granted` and its token must
 * check (imprint, nonce, signature, chain to `trust`) before it is accepted.
 *
 * @example
 * ```ts
 * const tsa = createTsaClient({ url: 'http://tsa.example/tsr', trust });
 * const { der, attested } = await tsa.timestamp(checkpoint.seal);
 * ```
 */
export function createTsaClient(options: TsaClientOptions): TsaClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async timestamp(data) {
      const nonceBytes = freshNonce();
      const nonce = BigInt(`0x${nonceBytes.toString('hex')}`);
      const request = new TimeStampReq({
        version: 1,
        messageImprint: new MessageImprint({
          hashAlgorithm: new AlgorithmIdentifier({ algorithmId: SHA256_OID }),
          hashedMessage: new asn1js.OctetString({ valueHex: toArrayBuffer(imprintOf(data)) }),
        }),
        nonce: new asn1js.Integer({ valueHex: toArrayBuffer(nonceBytes) }),
        certReq: true,
        ...(options.policy ? { reqPolicy: options.policy } : {}),
      });
      let body: ArrayBuffer;
      try {
        const res = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/timestamp-query', accept: 'application/timestamp-reply' },
          body: Buffer.from(request.toSchema().toBER()),
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (!res.ok) failed(`answered HTTP ${res.status}`);
        body = await res.arrayBuffer();
      } catch (err) {
        if (err instanceof LedgerError) throw err;
        const name = (err as { name?: unknown }).name;
        failed(name === 'TimeoutError' ? `did not answer within ${timeoutMs} ms` : 'cannot be reached', err);
      }
      let response: TimeStampResp;
      try {
        response = TimeStampResp.fromBER(body);
      } catch (err) {
        failed('answered with something that is not a TimeStampResp', err);
      }
      const status = response.status.status;
      if (
        (status !== PKIStatus.granted && status !== PKIStatus.grantedWithMods) ||
        !response.timeStampToken
      ) {
        failed(`refused the request (PKIStatus ${status})`);
      }
      const der = new Uint8Array(response.timeStampToken.toSchema().toBER());
      try {
        const attested = await verifyTimestampToken(der, data, {
          nonce,
          ...(options.trust ? { trust: options.trust } : {}),
        });
        return { der, attested };
      } catch (err) {
        failed(`answered with a token that does not check (${(err as Error).message})`, err);
      }
    },
  };
}
