import { createHash, getFips } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Whether an addon is in use here, and if not, why. */
export type NativeAddonStatus<T> = { available: true; addon: T } | { available: false; reason: string };

/**
 * Loads the addon `native/build/<name>.node` built by `pnpm install` from `native/<name>.c` (and the
 * headers beside it). Unavailable
 * when it was not built (no compiler or headers at install, or it failed its check against node:crypto),
 * when it was built for another OpenSSL than this Node.js carries or from another version of its source
 * (run `pnpm install` again), when Node.js runs in FIPS mode (the addon's calls would leave the FIPS
 * provider), or when `PASSERELLE_NATIVE_CRYPTO` is `0`, `false` or `off`.
 */
export function loadNativeAddon<T>(name: string): NativeAddonStatus<T> {
  const unavailable = (reason: string): NativeAddonStatus<T> => ({ available: false, reason });
  const setting = process.env['PASSERELLE_NATIVE_CRYPTO']?.toLowerCase();
  if (setting === '0' || setting === 'false' || setting === 'off') {
    return unavailable(`turned off by PASSERELLE_NATIVE_CRYPTO=${setting}`);
  }
  if (getFips() === 1)
    return unavailable('not used in FIPS mode (it calls OpenSSL outside the FIPS provider)');
  const file = (path: string): string => fileURLToPath(new URL(`../native/${path}`, import.meta.url));
  let builtFor: { openssl?: unknown; sourceSha256?: unknown } | undefined;
  try {
    const parsed = JSON.parse(readFileSync(file(`build/${name}.built-for.json`), 'utf8')) as unknown;
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
  // the sources, hashed as the build hashed them: the C file, then every header beside it in name order
  let sources: string[];
  let sourceSha256: string;
  try {
    const headers = readdirSync(file('.')).filter((f) => f.endsWith('.h'));
    sources = [`${name}.c`, ...headers.sort()];
    const hash = createHash('sha256');
    for (const source of sources) hash.update(readFileSync(file(source)));
    sourceSha256 = hash.digest('hex');
  } catch {
    return unavailable('its source is missing beside the build');
  }
  if (builtFor.sourceSha256 !== sourceSha256) {
    return unavailable(`built from another version of ${sources.join(' and ')}: run pnpm install again`);
  }
  try {
    return { available: true, addon: createRequire(import.meta.url)(file(`build/${name}.node`)) as T };
  } catch (err) {
    return unavailable(`could not be loaded: ${(err as Error).message.split('\n')[0]}`);
  }
}
