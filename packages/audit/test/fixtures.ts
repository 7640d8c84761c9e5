import { randomUUID } from 'node:crypto';
import { LedgerChain } from '../src/chain.js';
import { sha256Hex } from '../src/digest.js';
import {
  type CheckpointLedgerEntry,
  type LedgerEntry,
  type LedgerEnvelopeMeta,
  sealEntry,
  serializeEntry,
} from '../src/entry.js';
import {
  type KeyResolver,
  type ParticipantPublicKeys,
  createStaticResolver,
  generateKey,
  signCompact,
  toPublicJwk,
} from '@passerelle/envelope';
import type { PrivateJwk } from '../src/keys.js';

/** A test participant with a fresh P-256 signing key. */
export const makeKey = (kid: string): Promise<PrivateJwk> => generateKey('sig', { kid });

export const SENDERS = [
  'immigration-office',
  'region-bruxelles',
  'commune-21004',
  'post-ma-casablanca',
] as const;

/** Keys of the senders and the auditor, plus a resolver over their public halves. */
export async function makeKeys(): Promise<{
  keys: Record<string, PrivateJwk>;
  auditor: PrivateJwk;
  resolver: KeyResolver;
  publicKeys: ParticipantPublicKeys[];
}> {
  const keys: Record<string, PrivateJwk> = {};
  for (const id of SENDERS) keys[id] = await makeKey(`${id}-sig-1`);
  const auditor = await makeKey('auditor-sig-1');
  const publicKeys: ParticipantPublicKeys[] = [
    { participantId: 'auditor', signing: [toPublicJwk(auditor)], encryption: [] },
  ];
  for (const [id, k] of Object.entries(keys))
    publicKeys.push({ participantId: id, signing: [toPublicJwk(k)], encryption: [] });
  return { keys, auditor, resolver: createStaticResolver(publicKeys), publicKeys };
}

/** A UUID v7-shaped id (time-ordered prefix) for test envelopes. */
export function uuidV7(n: number): string {
  const r = randomUUID();
  const hex = (Date.UTC(2026, 0, 1) + n).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${r.slice(15, 18)}-8${r.slice(20, 23)}-${r.slice(24)}`;
}

/** An envelope `{ meta, jwe, seal }` with a real seal (the JWE is opaque bytes: the auditor never opens it). */
export async function makeEnvelope(
  keys: Record<string, PrivateJwk>,
  n: number,
  dossierId = `DOS-${String(n % 97).padStart(6, '0')}`,
): Promise<{ meta: LedgerEnvelopeMeta; jwe: string; seal: string }> {
  const sender = SENDERS[n % SENDERS.length] as string;
  const recipient = SENDERS[(n + 1) % SENDERS.length] as string;
  const meta: LedgerEnvelopeMeta = {
    id: uuidV7(n),
    type: 'residence-decided',
    schemaVersion: 1,
    sender,
    recipient,
    dossierId,
    issuedAt: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    correlationId: `corr-${n % 97}`,
    causationId: null,
  };
  const jwe = `eyJhbGciOiJFQ0RILUVTK0EyNTZLVyJ9.k${n}.iv${n}.ct${randomUUID()}.tag`;
  const seal = await signCompact({ v: 1, meta, jweSha256: sha256Hex(jwe) }, keys[sender] as PrivateJwk, {
    typ: 'pex-seal+jws',
  });
  return { meta, jwe, seal };
}

/**
 * Builds an in-memory ledger of `n` envelope entries with a checkpoint every `every` entries. `mapSeal`
 * changes the JWS an entry records before it is hashed, as a writer that took it so would have recorded it.
 */
export async function buildLedger(
  n: number,
  every: number,
  keys?: Awaited<ReturnType<typeof makeKeys>>,
  mapSeal: (kind: LedgerEntry['kind'], seq: number, seal: string) => string = (_k, _s, seal) => seal,
): Promise<{ entries: LedgerEntry[]; lines: string[] } & Awaited<ReturnType<typeof makeKeys>>> {
  const k = keys ?? (await makeKeys());
  const chain = new LedgerChain();
  const entries: LedgerEntry[] = [];
  const at = new Date(Date.UTC(2026, 0, 2));
  for (let i = 0; i < n; i++) {
    const env = await makeEnvelope(k.keys, i);
    const raw = JSON.stringify(env);
    const e = chain.envelopeEntry(
      {
        meta: env.meta,
        jweSha256: sha256Hex(env.jwe),
        envelopeSha256: sha256Hex(raw),
        seal: mapSeal('envelope', entries.length + 1, env.seal),
      },
      at,
    );
    chain.advance(e);
    entries.push(e);
    if (chain.pending >= every) {
      const made = await chain.checkpointEntry(k.auditor, at);
      if (made) {
        const { hash: _hash, ...rest } = made;
        const c = sealEntry<CheckpointLedgerEntry>({
          ...rest,
          seal: mapSeal('checkpoint', made.seq, made.seal),
        });
        chain.advance(c);
        entries.push(c);
      }
    }
  }
  return { ...k, entries, lines: entries.map(serializeEntry) };
}
