import { loadNativeAddon } from './native-addon.js';

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

let status: NativeAgreementStatus | undefined;

/**
 * Loads the addon once ({@link loadNativeAddon}: unavailable when not built, built for another OpenSSL or
 * from another source, in FIPS mode, or turned off by `PASSERELLE_NATIVE_CRYPTO`).
 */
export function nativeAgreement(): NativeAgreementStatus {
  if (!status) {
    const loaded = loadNativeAddon<NativeAgreement>('p256-agreement');
    status = loaded.available ? { available: true, agreement: loaded.addon } : loaded;
  }
  return status;
}
