import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { type KV, type KvEntry, KvWatchInclude, Kvm } from '@nats-io/kv';
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
/** KV key (under the dossier) of the dossier's head record: that it has keys, or that they were destroyed. */
const HEAD = '_';
const TAG_BYTES = 16;
/** A key id as {@link DossierKeys} makes them (8 random bytes, base64url). */
const KID = /^[A-Za-z0-9_-]{11}$/;

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

/** A dossier's head record in {@link DOSSIER_KEYS_BUCKET}: that it has keys, or that they were destroyed. */
export type DossierKeyHead = { state: 'active'; createdAt: string } | { state: 'erased'; erasedAt: string };

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

/** Dossier ids as envelopes carry them (`meta.dossierId`): also safe as a KV key token, never a wildcard. */
const DOSSIER_ID = /^[A-Za-z0-9-]{8,64}$/;

/** The KV key prefix of a dossier's records; an id that no envelope could carry has none. */
function dossierKeyPrefix(dossierId: string): string {
  if (!DOSSIER_ID.test(dossierId)) {
    throw new ExchangeError(
      'ERR_ERASURE_UNKNOWN_DOSSIER',
      'The dossier id is not one an envelope can carry (8 to 64 letters, digits and hyphens).',
      { details: { dossierId: dossierId.slice(0, 64) } },
    );
  }
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
 * copy wrapped (JWE, ECDH-ES+A256KW) to that participant's encryption key, under
 * `<dossierId>.<kid>.<participant>`. A sender that holds no key of the dossier makes one (its own `kid`:
 * a dossier may have several, one per party that first wrote in it, each sealed payload naming its own),
 * and each sender wraps its key to a recipient that has no copy of it yet. NATS operators reading the
 * bucket see dossier, key and participant ids, never a key.
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
   * Keys this process unwrapped, by `<dossierId>.<kid>`, and the one it seals with, by dossier. The head is
   * read again at each use (one KV get): a process stops using a key the moment another erased its
   * dossier, without waiting for a notification.
   */
  private readonly cache = new Map<string, Buffer>();
  private readonly sealing = new Map<string, { kid: string; key: Buffer }>();
  /** Copies this process wrote or saw, by `<dossierId>.<kid>.<participant>`. */
  private readonly granted = new Set<string>();
  private bucket: Promise<KV> | undefined;

  private constructor(
    private readonly openBucket: () => Promise<KV>,
    private readonly options: DossierKeysOptions,
    private readonly provider: CryptoProvider,
  ) {}

  /** Opens (or creates) the bucket for one participant's keys. */
  static async open(nc: NatsConnection, options: DossierKeysOptions): Promise<DossierKeys> {
    const keys = DossierKeys.over(() => nc, options);
    await keys.kv();
    return keys;
  }

  /**
   * The keys of one participant over a connection made later (the exchange's own): the bucket is opened
   * at the first use.
   */
  static over(connection: () => NatsConnection, options: DossierKeysOptions): DossierKeys {
    const bucket = options.bucket ?? DOSSIER_KEYS_BUCKET;
    return new DossierKeys(
      () => {
        const kvm = new Kvm(connection());
        return options.create === false
          ? kvm.open(bucket)
          : kvm.create(bucket, { history: 1, replicas: options.replicas ?? 1 });
      },
      options,
      options.provider ?? defaultProvider,
    );
  }

  /** The bucket (opened once). */
  kv(): Promise<KV> {
    this.bucket ??= this.openBucket().catch((err: unknown) => {
      this.bucket = undefined;
      throw err;
    });
    return this.bucket;
  }

  private get participant(): string {
    return this.options.keys.participantId;
  }

  /** The dossier's head record, or undefined when no key of it was ever made. */
  async head(dossierId: string): Promise<DossierKeyHead | undefined> {
    return readHead(await this.kv(), dossierId);
  }

  /** Throws `ERR_DOSSIER_ERASED` (forgetting what this process held) once the dossier was erased. */
  private async active(kv: KV, dossierId: string): Promise<DossierKeyHead | undefined> {
    const head = await readHead(kv, dossierId);
    if (head?.state === 'erased') {
      this.forget(dossierId);
      throw erased(dossierId);
    }
    return head;
  }

  /** Key `kid` of a dossier, from this participant's copy. */
  private async keyById(kv: KV, dossierId: string, kid: string): Promise<Buffer> {
    const id = `${dossierKeyPrefix(dossierId)}.${kid}`;
    const cached = this.cache.get(id);
    if (cached) return cached;
    const own = await kv.get(`${id}.${this.participant}`);
    if (!live(own)) throw unavailable(dossierId, this.participant);
    const key = Buffer.from(await this.unwrap(own.string()));
    this.cache.set(id, key);
    this.granted.add(`${id}.${this.participant}`);
    return key;
  }

  /** The key this participant seals a dossier's payloads with: one of its copies, or a new key of its own. */
  private async sealingKey(dossierId: string): Promise<{ kid: string; key: Buffer }> {
    const kv = await this.kv();
    const head = await this.active(kv, dossierId);
    const known = this.sealing.get(dossierId);
    if (head && known) return known;
    const prefix = dossierKeyPrefix(dossierId);
    if (head) {
      for await (const name of await kv.keys(`${prefix}.*.${this.participant}`)) {
        const kid = name.split('.')[1] ?? '';
        try {
          const found = { kid, key: await this.keyById(kv, dossierId, kid) };
          this.sealing.set(dossierId, found);
          return found;
        } catch {
          // purged in between, or wrapped to a key no longer held: another copy, or a new key
        }
      }
    } else {
      const record: DossierKeyHead = { state: 'active', createdAt: new Date().toISOString() };
      // made once; a concurrent first sender made it too: the same record
      await kv.create(`${prefix}.${HEAD}`, JSON.stringify(record)).catch(() => undefined);
    }
    const made = { kid: randomBytes(8).toString('base64url'), key: randomBytes(32) };
    const own = `${prefix}.${made.kid}.${this.participant}`;
    await kv.put(own, await this.wrap(made.key, this.participant));
    // An erasure that marked the head before this copy was written may have listed the copies without it:
    // the copy is taken back. One that marked it after lists it, and purges it.
    if ((await readHead(kv, dossierId))?.state === 'erased') {
      await kv.purge(own);
      this.forget(dossierId);
      throw erased(dossierId);
    }
    this.cache.set(`${prefix}.${made.kid}`, made.key);
    this.sealing.set(dossierId, made);
    this.granted.add(own);
    return made;
  }

  private async wrap(key: Buffer, participant: string): Promise<string> {
    const to = await this.options.directory.resolve(participant, 'enc', new Date());
    return this.provider.encrypt(new Uint8Array(key), to, { cty: 'passerelle-dossier-key' });
  }

  private async unwrap(jwe: string): Promise<Uint8Array> {
    let kid: string | undefined;
    try {
      const header = JSON.parse(
        Buffer.from(jwe.split('.')[0] ?? '', 'base64url').toString('utf8'),
      ) as unknown;
      const named = (header as { kid?: unknown } | null)?.kid;
      kid = typeof named === 'string' ? named : undefined;
    } catch {
      // not a JWE: no key opens it (below)
    }
    const candidates = kid === undefined ? [] : this.options.keys.encryption.filter((k) => k.kid === kid);
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

  /** Wraps the dossier's key `kid` to `recipient` unless it holds a copy already. */
  private async grant(
    dossierId: string,
    sealing: { kid: string; key: Buffer },
    recipient: string,
  ): Promise<void> {
    const name = `${dossierKeyPrefix(dossierId)}.${sealing.kid}.${recipient}`;
    if (this.granted.has(name)) return;
    const kv = await this.kv();
    if (!live(await kv.get(name))) {
      try {
        await kv.create(name, await this.wrap(sealing.key, recipient));
      } catch (err) {
        // written in between by another process of this participant: the same key
        if (!live(await kv.get(name))) throw err;
      }
    }
    this.granted.add(name);
  }

  /** `value` sealed (AES-256-GCM) under the dossier's key `sealing`, bound to the dossier and `purpose`. */
  private sealUnder(
    dossierId: string,
    sealing: { kid: string; key: Buffer },
    purpose: string,
    value: unknown,
  ): string {
    const { kid, key } = sealing;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad({ dossierId }, purpose));
    const body = Buffer.concat([
      cipher.update(JSON.stringify(value), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    return `${FORMAT}.${kid}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  /**
   * What {@link sealUnder} sealed: `ERR_DOSSIER_ERASED` once the dossier was erased, `malformed()` when
   * it does not open under the key it names (altered, moved to another dossier or purpose).
   */
  private async openUnder(
    dossierId: string,
    purpose: string,
    sealed: string,
    malformed: () => ExchangeError,
  ): Promise<unknown> {
    const parts = sealed.split('.');
    const kv = await this.kv();
    const head = await this.active(kv, dossierId);
    if (!head) throw unavailable(dossierId, this.participant);
    const [format, kid, iv, body] = parts;
    if (parts.length !== 4 || format !== FORMAT || !kid || !KID.test(kid) || !iv || !body) throw malformed();
    const key = await this.keyById(kv, dossierId, kid);
    try {
      const data = Buffer.from(body, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(aad({ dossierId }, purpose));
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

  /** Seals a payload under its dossier's key, making the key when the dossier has none yet. */
  async seal(meta: EnvelopeMeta, payload: unknown): Promise<SealedPayload> {
    const sealing = await this.sealingKey(meta.dossierId);
    await this.grant(meta.dossierId, sealing, meta.recipient);
    return { dossierSealed: this.sealUnder(meta.dossierId, sealing, 'payload', payload) };
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
    return this.openUnder(
      meta.dossierId,
      'payload',
      payload.dossierSealed,
      () =>
        new ExchangeError(
          'ERR_PAYLOAD_NOT_SEALED',
          `The payload of message ${meta.id} does not open under its dossier's key.`,
          { details: { messageId: meta.id, type: meta.type } },
        ),
    );
  }

  /**
   * Seals one of this participant's own records of a dossier (a service's dossier state, a portal's
   * status record) under the dossier's key, bound to the dossier and to `name` (the record's KV key, so
   * that a record cannot be moved to another): erasing the dossier makes the record unreadable like its
   * messages. Makes the dossier's key when it has none yet; `ERR_DOSSIER_ERASED` once it was erased.
   *
   * @example
   * ```ts
   * const sealed = await dossierKeys.sealRecord('D-2027-0001', 'commune-21004.D-2027-0001', state);
   * const state = await dossierKeys.openRecord('D-2027-0001', 'commune-21004.D-2027-0001', sealed);
   * ```
   */
  async sealRecord(dossierId: string, name: string, value: unknown): Promise<string> {
    const sealing = await this.sealingKey(dossierId);
    return this.sealUnder(dossierId, sealing, `record ${name}`, value);
  }

  /**
   * Opens a record {@link sealRecord} sealed: `ERR_DOSSIER_ERASED` once the dossier was erased,
   * `ERR_DOSSIER_KEY_UNAVAILABLE` when this participant holds no copy of the key it names, and
   * `ERR_PAYLOAD_NOT_SEALED` when it does not open (altered, or sealed for another dossier or name).
   */
  async openRecord(dossierId: string, name: string, sealed: string): Promise<unknown> {
    return this.openUnder(
      dossierId,
      `record ${name}`,
      sealed,
      () =>
        new ExchangeError(
          'ERR_PAYLOAD_NOT_SEALED',
          `A record of dossier ${dossierId} does not open under the dossier's key.`,
          { details: { dossierId } },
        ),
    );
  }

  /**
   * The secret a dossier's decision documents are encrypted under (`DecisionArchive.putSealed`): derived
   * from the dossier's key, so erasing the dossier makes them unreadable too.
   */
  async documentSecret(dossierId: string): Promise<Buffer> {
    const { key } = await this.sealingKey(dossierId);
    return Buffer.from(
      hkdfSync('sha256', key, Buffer.alloc(0), 'passerelle dossier decision documents v1', 32),
    );
  }

  /**
   * Tells `onErased` of each dossier erased from now on (its head record turning `erased`), until `signal`
   * aborts, so that what a process holds in memory of a dossier (a list's summary) can go with it. Resolves
   * once the watch is set up; `done` settles when it ends.
   */
  async watchErasures(
    onErased: (dossierId: string) => void,
    signal: AbortSignal,
  ): Promise<{ done: Promise<void> }> {
    const kv = await this.kv();
    const watcher = await kv.watch({ key: `*.${HEAD}`, include: KvWatchInclude.UpdatesOnly });
    signal.addEventListener('abort', () => watcher.stop(), { once: true });
    const done = (async () => {
      for await (const entry of watcher) {
        if (!live(entry)) continue;
        const head = entry.json<DossierKeyHead>();
        const dossierId = entry.key.slice(0, -HEAD.length - 1);
        if (head.state !== 'erased') continue;
        this.forget(dossierId);
        onErased(dossierId);
      }
    })();
    return { done };
  }

  /** Forgets what this process unwrapped of a dossier (after an erasure elsewhere). */
  forget(dossierId: string): void {
    this.sealing.delete(dossierId);
    for (const id of [...this.cache.keys()]) if (id.startsWith(`${dossierId}.`)) this.cache.delete(id);
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
  /** Ids of the keys destroyed, as the dossier's sealed payloads name them. */
  kids: string[];
  /** Participants whose copies were purged. */
  holders: string[];
  erasedAt: string;
}

/**
 * Destroys one dossier's keys: marks its head `erased` (so no new key is ever made for it), then purges
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
  if (headEntry.json<DossierKeyHead>().state === 'erased') throw erased(dossierId);
  const erasedAt = now.toISOString();
  const record: DossierKeyHead = { state: 'erased', erasedAt };
  // compare-and-set: a concurrent erasure of the same dossier fails here instead of twice in the ledger
  await kv.update(`${prefix}.${HEAD}`, JSON.stringify(record), headEntry.revision);
  const copies: string[] = [];
  for await (const name of await kv.keys(`${prefix}.*.*`)) copies.push(name);
  for (const name of copies) await kv.purge(name);
  const kids = new Set<string>();
  const holders = new Set<string>();
  for (const name of copies) {
    const [, kid, participant] = name.slice(prefix.length).split('.');
    if (kid) kids.add(kid);
    if (participant) holders.add(participant);
  }
  return { dossierId, kids: [...kids].sort(), holders: [...holders].sort(), erasedAt };
}

/** What {@link reapplyErasure} found and did. */
export interface ReappliedErasure {
  dossierId: string;
  /** The head read `active` (or was missing): a restore brought the dossier back, and it is erased again. */
  headRestored: boolean;
  /** Copies of the dossier's key found and purged again (a restore of the bucket brought them back). */
  copiesPurged: number;
}

/**
 * Applies again an erasure the ledger records, after a restore of `pex-dossier-keys` from a backup taken
 * before it: marks the dossier's head `erased` (whatever a restore left there) and purges every copy of
 * its key. An erasure still in force changes nothing (`headRestored` false, `copiesPurged` 0), so a second
 * run is harmless.
 */
export async function reapplyErasure(kv: KV, dossierId: string, erasedAt: string): Promise<ReappliedErasure> {
  const prefix = dossierKeyPrefix(dossierId);
  const headEntry = await kv.get(`${prefix}.${HEAD}`);
  const inForce = live(headEntry) && headEntry.json<DossierKeyHead>().state === 'erased';
  if (!inForce) {
    const record: DossierKeyHead = { state: 'erased', erasedAt };
    await kv.put(`${prefix}.${HEAD}`, JSON.stringify(record));
  }
  const copies: string[] = [];
  for await (const name of await kv.keys(`${prefix}.*.*`)) copies.push(name);
  let copiesPurged = 0;
  for (const name of copies) {
    if (!live(await kv.get(name))) continue;
    await kv.purge(name);
    copiesPurged += 1;
  }
  return { dossierId, headRestored: !inForce, copiesPurged };
}
