import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * P-256 ECDH on the OpenSSL inside Node.js without Node's per-call key-pair check
 * (`native/p256-agreement.c`, built by `pnpm install`). Points are 65-byte uncompressed SEC 1 encodings;
 * every point given is checked to be on the curve.
 */
export interface NativeAgreement {
  /** A fresh ephemeral key pair and its agreement with `recipient`: epk (65 bytes) ‖ Z (32 bytes). */
  ephemeral(recipient: Buffer): Buffer;
  /** A handle on the private key `d`, checked once against its public point. */
  privateKey(d: Buffer, publicPoint: Buffer): NativePrivateKey;
  /** Z of the agreement of the private key with `peer`. */
  agree(key: NativePrivateKey, peer: Buffer): Buffer;
  /** Throws unless `point` is a point of P-256. */
  checkPoint(point: Buffer): void;
}

/** An opaque handle held by the addon (the key is freed with it). */
export type NativePrivateKey = { readonly __nativeP256Key: unique symbol };

/** Whether the addon is in use here, and if not, why. */
export type NativeAgreementStatus =
  { available: true; agreement: NativeAgreement } | { available: false; reason: string };

const ADDON = fileURLToPath(new URL('../native/build/p256-agreement.node', import.meta.url));
const BUILT_FOR = fileURLToPath(new URL('../native/build/built-for.json', import.meta.url));

let status: NativeAgreementStatus | undefined;

/**
 * Loads the addon once. Unavailable when it was not built (no compiler or headers at install), when it was
 * built for another OpenSSL than this Node.js carries, or when `PASSERELLE_NATIVE_CRYPTO=0`.
 */
export function nativeAgreement(): NativeAgreementStatus {
  status ??= load();
  return status;
}

function load(): NativeAgreementStatus {
  if (process.env['PASSERELLE_NATIVE_CRYPTO'] === '0') {
    return { available: false, reason: 'turned off by PASSERELLE_NATIVE_CRYPTO=0' };
  }
  let builtFor: { openssl?: unknown };
  try {
    builtFor = JSON.parse(readFileSync(BUILT_FOR, 'utf8')) as { openssl?: unknown };
  } catch {
    return { available: false, reason: 'not built (pnpm install builds it where a C compiler is present)' };
  }
  if (builtFor.openssl !== process.versions.openssl) {
    return {
      available: false,
      reason: `built for OpenSSL ${String(builtFor.openssl)}, this Node.js has ${process.versions.openssl}: run pnpm install again`,
    };
  }
  try {
    const agreement = createRequire(import.meta.url)(ADDON) as NativeAgreement;
    return { available: true, agreement };
  } catch (err) {
    return { available: false, reason: `could not be loaded: ${(err as Error).message.split('\n')[0]}` };
  }
}
