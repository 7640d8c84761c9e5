import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type CryptoProvider,
  type EnvelopeMeta,
  type KeyResolver,
  type ParticipantKeys,
  defaultProvider,
} from '@passerelle/envelope';
import { ExchangeError } from './exchange-error.js';

/** Name of the KV bucket holding every dossier's key, wrapped to each participant that holds it. */
export const DOSSIER_KEYS_BUCKET = 'pex-dossier-keys';

/** The form of a payload sealed under its dossier's key: `dk1.<kid>.<iv>.<ciphertext and tag>`. */
const FORMAT = 'dk1';
/** KV key (under the dossier) of the dossier's head record: which key is current, or that it was erased. */
const HEAD = '_';
const TAG_BYTES = 16;

/** Payloads sealed so, as the envelope's inner JWS carries them. */
export interface SealedPayload {
  dossierSealed: string;
}

/**
 * What the exchange does with a payload before it is signed and encrypted to its recipient, and after it
 * was opened: see {@link DossierKeys}.
 */
export interface PayloadSeal {
  /** The payload as it goes inside the envelope of `meta`. */
  seal(meta: EnvelopeMeta, payload: unknown): Promise<unknown>;
  /** The payload the sender sealed, from what the envelope of `meta` carried. */
  open(meta: EnvelopeMeta, payload: unknown): Promise<unknown>;
}

/** A dossier's head record in {@link DOSSIER_KEYS_BUCKET}. */
export type DossierKeyHead =
  | { state: 'active'; kid: string; createdBy: string; createdAt: string }
  | { state: 'erased'; kid: string; erasedAt: string };

/** Options of {@link DossierKeys.open}. */
export interface DossierKeysOptions {
  /** The participant's private keys: its copy of each dossier key is wrapped to its encryption key. */
  keys: ParticipantKeys;
  /** Public keys of the participants (a directory client): keys are wrapped to the recipients' current ones. */
  directory: KeyResolver;
  /** The JOSE implementation of the wrapping (default: the envelope's `defaultProvider`). */
  provider?: CryptoProvider;
  /** Bucket name (default {@link DOSSIER_KEYS_BUCKET}). */
  bucket?: string;
  /** Create the bucket when missing (default true); false where the operator provisions it. */
  create?: boolean;
  replicas?: number;
  /**
   * Open payloads that are not sealed under a dossier key as they are (a peer without dossier keys yet);
   * default false: such a payload is refused with `ERR_PAYLOAD_NOT_SEALED`.
   */
  acceptUnsealed?: boolean;
}

function dossierKeyPrefix(dossierId: string): string {
  return dossierId;
}

function erased(dossierId: string): ExchangeError {
  return new ExchangeError(
    'ERR_DOSSIER_ERASED',
    `The keys of dossier ${dossierId} were destroyed: nothing of it can be sealed or opened any more.`,
    { details: { dossierId } },
  );
}

function unavailable(dossierId: string, participant: string): ExchangeError {
  return new ExchangeError(
    'ERR_DOSSIER_KEY_UNAVAILABLE',
    `${participant} holds no key of dossier ${dossierId}: no message of it was sealed to ${participant}.`,
    { details: { dossierId, participant } },
  );
}

function aad(meta: Pick<EnvelopeMeta, 'dossierId'>, purpose: string): Buffer {
  return Buffer.from(`passerelle dossier ${purpose} v1\n${meta.dossierId}`, 'utf8');
}

function isSealed(payload: unknown): payload is SealedPayload {
  return (
    typeof payload === 'object' &&
    payload !== null &&
    !Array.isArray(payload) &&
    Object.keys(payload).length === 1 &&
    typeof (payload as Record<string, unknown>)['dossierSealed'] === 'string'
  );
}

async function readHead(kv: KV, dossierId: string): Promise<DossierKeyHead | undefined> {
  const entry = await kv.get(`${dossierKeyPrefix(dossierId)}.${HEAD}`);
  if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
  return entry.json<DossierKeyHead>();
}

const live = (entry: KvEntry | null): entry is KvEntry =>
  entry !== null && entry.operation === 'PUT' && entry.length > 0;

/**
 * Every dossier's own key, so that one dossier can be erased by destroying its key. A message's payload is
 * sealed (AES-256-GCM) under its dossier's key before the exchange signs and encrypts it to its recipient;
 * the decision documents of the dossier are encrypted under keys derived from it ({@link documentSecret}).
 * The key itself lives only in the KV bucket `pex-dossier-keys`, once per participant that holds it, each
 * copy wrapped (JWE, ECDH-ES+A256KW) to that participant's encryption key: the first sender of a dossier
 * creates it, and each sender wraps it to a recipient that has none yet. NATS operators reading the bucket
 * see dossier and participant ids, never a key.
 *
 * {@link eraseDossier} purges every copy (the bucket keeps no history of a purged key) and leaves an
 * `erased` head: from then on no envelope, dead letter, outbox record, backup or decision document of the
 * dossier opens, for its recipients too, while the ledger — meta, hashes and seals, never a payload —
 * verifies as before.
 *
 * @example
 * ```ts
 * const dossierKeys = await DossierKeys.open(nc, { keys, directory });
 * const exchange = await connectExchange({ ...options, payloadSeal: dossierKeys });
 * ```
 */
export class DossierKeys implements PayloadSeal {
  /**
   * Keys this process unwrapped, by dossier. The head is read again at each use (one KV get): a process
   * stops using a key the moment another erased its dossier, without waiting for a notification.
   */
  private readonly cache = new Map<string, { kid: string; key: Buffer }>();
  /** Recipients whose copy this process wrote or saw, by `<dossier>.<participant>`. */
  private readonly granted = new Set<string>();

  private constructor(
    /** The bucket. */
    readonly kv: KV,
    private readonly options: DossierKeysOptions,
    private readonly provider: CryptoProvider,
  ) {}

  /** Opens (or creates) the bucket for one participant's keys. */
  static async open(nc: NatsConnection, options: DossierKeysOptions): Promise<DossierKeys> {
    const kvm = new Kvm(nc);
    const bucket = options.bucket ?? DOSSIER_KEYS_BUCKET;
    const kv =
      options.create === false
        ? await kvm.open(bucket)
        : await kvm.create(bucket, { history: 1, replicas: options.replicas ?? 1 });
    return new DossierKeys(kv, options, options.provider ?? defaultProvider);
  }

  private get participant(): string {
    return this.options.keys.participantId;
  }

  /** The dossier's head record, or undefined when no key of it was ever made. */
  head(dossierId: string): Promise<DossierKeyHead | undefined> {
    return readHead(this.kv, dossierId);
  }

  /** This participant's key of a dossier; made (and this participant's copy written) when `create` and none exists. */
  private async key(dossierId: string, create: boolean): Promise<{ kid: string; key: Buffer }> {
    const prefix = dossierKeyPrefix(dossierId);
    for (let attempt = 0; attempt < 3; attempt++) {
      const head = await readHead(this.kv, dossierId);
      if (head?.state === 'erased') {
        this.forget(dossierId);
        throw erased(dossierId);
      }
      const cached = this.cache.get(dossierId);
      if (head && cached?.kid === head.kid) return cached;
      if (head) {
        const own = await this.kv.get(`${prefix}.${this.participant}`);
        if (!live(own)) throw unavailable(dossierId, this.participant);
        const key = Buffer.from(await this.unwrap(own.string()));
        const found = { kid: head.kid, key };
        this.cache.set(dossierId, found);
        return found;
      }
      if (!create) throw unavailable(dossierId, this.participant);
      const made = { kid: randomBytes(8).toString('base64url'), key: randomBytes(32) };
      // this participant's copy first: a head never names a key nobody holds
      await this.kv.put(`${prefix}.${this.participant}`, await this.wrap(made.key, this.participant));
      const record: DossierKeyHead = {
        state: 'active',
        kid: made.kid,
        createdBy: this.participant,
        createdAt: new Date().toISOString(),
      };
      try {
        await this.kv.create(`${prefix}.${HEAD}`, JSON.stringify(record));
        this.cache.set(dossierId, made);
        this.granted.add(`${prefix}.${this.participant}`);
        return made;
      } catch {
        // another participant made the dossier's key first: take its own copy back and read theirs
        await this.kv.purge(`${prefix}.${this.participant}`).catch(() => undefined);
      }
    }
    throw unavailable(dossierId, this.participant);
  }

  private async wrap(key: Buffer, participant: string): Promise<string> {
    const to = await this.options.directory.resolve(participant, 'enc', new Date());
    return this.provider.encrypt(new Uint8Array(key), to, { cty: 'passerelle-dossier-key' });
  }

  private async unwrap(jwe: string): Promise<Uint8Array> {
    const kid = (
      JSON.parse(Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
        kid?: string;
      }
    ).kid;
    const candidates = this.options.keys.encryption.filter((k) => kid === undefined || k.kid === kid);
    for (const k of candidates) {
      try {
        return await this.provider.decrypt(jwe, k);
      } catch {
        // another of the participant's keys, during a rotation
      }
    }
    throw new ExchangeError(
      'ERR_DOSSIER_KEY_UNAVAILABLE',
      `The copy of a dossier key wrapped to ${this.participant} opens with none of its encryption keys.`,
      { details: { participant: this.participant, kid: kid ?? null } },
    );
  }

  /** Wraps the dossier's key to `recipient` unless it holds a copy already. */
  private async grant(dossierId: string, key: Buffer, recipient: string): Promise<void> {
    const name = `${dossierKeyPrefix(dossierId)}.${recipient}`;
    if (this.granted.has(name)) return;
    if (!live(await this.kv.get(name))) {
      try {
        await this.kv.create(name, await this.wrap(key, recipient));
      } catch (err) {
        // written in between by another sender of the dossier: the same key
        if (!live(await this.kv.get(name))) throw err;
      }
    }
    this.granted.add(name);
  }

  /** Seals a payload under its dossier's key, making the key when the dossier has none yet. */
  async seal(meta: EnvelopeMeta, payload: unknown): Promise<SealedPayload> {
    const { kid, key } = await this.key(meta.dossierId, true);
    await this.grant(meta.dossierId, key, meta.recipient);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(meta, 'payload'));
    const body = Buffer.concat([
      cipher.update(JSON.stringify(payload), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return { dossierSealed: `${FORMAT}.${kid}.${iv.toString('base64url')}.${body.toString('base64url')}` };
  }

  /** Opens a payload sealed under its dossier's key: `ERR_DOSSIER_ERASED` once the dossier was erased. */
  async open(meta: EnvelopeMeta, payload: unknown): Promise<unknown> {
    if (!isSealed(payload)) {
      if (this.options.acceptUnsealed) return payload;
      throw new ExchangeError(
        'ERR_PAYLOAD_NOT_SEALED',
        `The payload of message ${meta.id} is not sealed under its dossier's key.`,
        { details: { messageId: meta.id, type: meta.type } },
      );
    }
    const parts = payload.dossierSealed.split('.');
    const { kid, key } = await this.key(meta.dossierId, false);
    const malformed = (): ExchangeError =>
      new ExchangeError(
        'ERR_PAYLOAD_NOT_SEALED',
        `The payload of message ${meta.id} does not open under its dossier's key.`,
        { details: { messageId: meta.id, type: meta.type } },
      );
    if (parts.length !== 4 || parts[0] !== FORMAT || parts[1] !== kid) throw malformed();
    try {
      const data = Buffer.from(parts[3]!, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(parts[2]!, 'base64url'));
      decipher.setAAD(aad(meta, 'payload'));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(0, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString('utf8')) as unknown;
    } catch {
      throw malformed();
    }
  }

  /**
   * The secret a dossier's decision documents are encrypted under (`DecisionArchive.putSealed`): derived
   * from the dossier's key, so erasing the dossier makes them unreadable too.
   */
  async documentSecret(dossierId: string): Promise<Buffer> {
    const { key } = await this.key(dossierId, true);
    return Buffer.from(
      hkdfSync('sha256', key, Buffer.alloc(0), 'passerelle dossier decision documents v1', 32),
    );
  }

  /** Forgets what this process unwrapped of a dossier (after an erasure elsewhere). */
  forget(dossierId: string): void {
    this.cache.delete(dossierId);
    for (const name of [...this.granted]) if (name.startsWith(`${dossierId}.`)) this.granted.delete(name);
  }
}

/** A basis reference: printable, 3 to 200 characters, on one line. */
const BASIS = /^[\p{L}\p{N}\p{P}\p{S} ]{3,200}$/u;

/**
 * Checks an erasure's legal basis before anything is destroyed: a reference (`GDPR Art. 17(1)(a), request
 * 2027-0042`) of 3 to 200 printable characters on one line; `ERR_ERASURE_BASIS_MISSING` otherwise. The
 * basis goes to the ledger, so it must name the ground, never the person.
 */
export function assertErasureBasis(basis: string | undefined): string {
  const trimmed = basis?.trim() ?? '';
  if (!BASIS.test(trimmed)) {
    throw new ExchangeError(
      'ERR_ERASURE_BASIS_MISSING',
      'An erasure needs its legal basis (--basis): a reference of 3 to 200 printable characters on one line.',
      { details: { setting: 'basis' } },
    );
  }
  return trimmed;
}

/** What {@link eraseDossier} destroyed. */
export interface DossierErasure {
  dossierId: string;
  /** The key's id (as sealed payloads name it). */
  kid: string;
  /** Participants whose copy was purged. */
  holders: string[];
  erasedAt: string;
}

/**
 * Destroys one dossier's key: marks its head `erased` (so no new key is ever made for it), then purges
 * every participant's copy (a purge leaves no earlier revision in the bucket). Unknown dossier:
 * `ERR_ERASURE_UNKNOWN_DOSSIER`; erased already: `ERR_DOSSIER_ERASED`.
 */
export async function eraseDossier(kv: KV, dossierId: string, now = new Date()): Promise<DossierErasure> {
  const prefix = dossierKeyPrefix(dossierId);
  const headEntry = await kv.get(`${prefix}.${HEAD}`);
  if (!live(headEntry)) {
    throw new ExchangeError(
      'ERR_ERASURE_UNKNOWN_DOSSIER',
      `No key of dossier ${dossierId} exists: there is nothing of it to erase.`,
      { details: { dossierId } },
    );
  }
  const head = headEntry.json<DossierKeyHead>();
  if (head.state === 'erased') throw erased(dossierId);
  const erasedAt = now.toISOString();
  const record: DossierKeyHead = { state: 'erased', kid: head.kid, erasedAt };
  // compare-and-set: a concurrent erasure of the same dossier fails here instead of twice in the ledger
  await kv.update(`${prefix}.${HEAD}`, JSON.stringify(record), headEntry.revision);
  const holders: string[] = [];
  for await (const name of await kv.keys(`${prefix}.*`)) {
    const participant = name.slice(prefix.length + 1);
    if (participant === HEAD) continue;
    holders.push(participant);
  }
  for (const participant of holders) await kv.purge(`${prefix}.${participant}`);
  return { dossierId, kid: head.kid, holders: holders.sort(), erasedAt };
}
