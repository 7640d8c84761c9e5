import { createHash, getFips } from 'node:crypto';
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
const SOURCE = fileURLToPath(new URL('../native/p256-agreement.c', import.meta.url));

let status: NativeAgreementStatus | undefined;

/**
 * Loads the addon once. Unavailable when it was not built (no compiler or headers at install), when it was
 * built for another OpenSSL than this Node.js carries or from another version of its source (run
 * `pnpm install` again), when Node.js runs in FIPS mode (the addon's calls would leave the FIPS provider),
 * or when `PASSERELLE_NATIVE_CRYPTO` is `0`, `false` or `off`.
 */
export function nativeAgreement(): NativeAgreementStatus {
  status ??= load();
  return status;
}

function unavailable(reason: string): NativeAgreementStatus {
  return { available: false, reason };
}

function load(): NativeAgreementStatus {
  const setting = process.env['PASSERELLE_NATIVE_CRYPTO']?.toLowerCase();
  if (setting === '0' || setting === 'false' || setting === 'off') {
    return unavailable(`turned off by PASSERELLE_NATIVE_CRYPTO=${setting}`);
  }
  if (getFips() === 1)
    return unavailable('not used in FIPS mode (it calls OpenSSL outside the FIPS provider)');
  let builtFor: { openssl?: unknown; sourceSha256?: unknown } | undefined;
  try {
    const parsed = JSON.parse(readFileSync(BUILT_FOR, 'utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null) builtFor = parsed;
  } catch {
    builtFor = undefined;
  }
  if (!builtFor) {
    return unavailable('not built (pnpm install builds it where a C compiler is present)');
  }
  if (builtFor.openssl !== process.versions.openssl) {
    return unavailable(
      `built for OpenSSL ${String(builtFor.openssl)}, but this Node.js has ${process.versions.openssl}: run pnpm install again`,
    );
  }
  let sourceSha256: string;
  try {
    sourceSha256 = createHash('sha256').update(readFileSync(SOURCE)).digest('hex');
  } catch {
    return unavailable('its source is missing beside the build');
  }
  if (builtFor.sourceSha256 !== sourceSha256) {
    return unavailable('built from another version of p256-agreement.c: run pnpm install again');
  }
  try {
    const agreement = createRequire(import.meta.url)(ADDON) as NativeAgreement;
    return { available: true, agreement };
  } catch (err) {
    return unavailable(`could not be loaded: ${(err as Error).message.split('\n')[0]}`);
  }
}
