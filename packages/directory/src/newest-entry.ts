import type { PublicJwk } from '@passerelle/envelope';
import { type ParticipantEntry, type SignedEntry, verifyEntry } from './entry.js';

/** One stored revision of a participant's entry, as the bucket's history gives it. */
export interface StoredRevision {
  revision: number;
  signed: SignedEntry;
}

/** An entry whose anchor signature checked, with where it was found. */
export interface VerifiedEntry {
  entry: ParticipantEntry;
  signed: SignedEntry;
  revision: number;
}

/** The version and date a JWS claims, read before its signature is checked, to try the newest first. */
function claimed(signed: string): { version: number; updatedAt: number } | undefined {
  try {
    const payload = JSON.parse(Buffer.from(signed.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      version?: unknown;
      updatedAt?: unknown;
    };
    const version = payload.version ?? 0;
    const updatedAt = typeof payload.updatedAt === 'string' ? Date.parse(payload.updatedAt) : NaN;
    if (typeof version !== 'number' || Number.isNaN(updatedAt)) return undefined;
    return { version, updatedAt };
  } catch {
    return undefined;
  }
}

/**
 * The newest entry (highest version, then latest `updatedAt`) among a participant's stored revisions that
 * the anchor signed, or undefined. Claims are only an order to try them in: an entry counts once its
 * signature checks, so a forged entry claiming a high version costs one verification and hides nothing.
 *
 * @example
 * ```ts
 * const newest = await newestEntry('commune-21004', revisions, anchor);
 * ```
 */
export async function newestEntry(
  id: string,
  revisions: readonly StoredRevision[],
  anchor: PublicJwk,
): Promise<VerifiedEntry | undefined> {
  const candidates = revisions
    .map((r) => ({ ...r, order: claimed(r.signed) }))
    .filter((c): c is StoredRevision & { order: { version: number; updatedAt: number } } => !!c.order)
    .sort(
      (a, b) =>
        b.order.version - a.order.version || b.order.updatedAt - a.order.updatedAt || b.revision - a.revision,
    );
  for (const c of candidates) {
    try {
      return { entry: await verifyEntry(c.signed, anchor, id), signed: c.signed, revision: c.revision };
    } catch {
      // not a valid entry of this participant: the next one down
    }
  }
  return undefined;
}
