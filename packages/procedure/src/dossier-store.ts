import { isPasserelleError } from '@passerelle/errors';
import type { Actor } from './actor.js';
import { ProcedureError } from './procedure-error.js';

/**
 * The part of a JetStream KV bucket ({@link https://github.com/nats-io/nats.js `@nats-io/kv`} `KV`) the
 * store uses; declared here so the procedure stays free of I/O dependencies.
 */
export interface KvLike {
  get(key: string): Promise<{ value: Uint8Array; revision: number; operation: string } | null>;
  create(key: string, data: Uint8Array): Promise<number>;
  update(key: string, data: Uint8Array, version: number): Promise<number>;
  keys(filter?: string): Promise<AsyncIterable<string>>;
}

/** A message a step decided to send, kept with the state until it is sent (a transactional outbox). */
export interface PendingMessage {
  /**
   * Stable id (UUID v7) given when the step is written, so that sending the message again after a failure
   * or a crash reaches each recipient once (`SendOptions.messageId`). Absent in records of older releases.
   */
  id?: string;
  type: string;
  payload: unknown;
  /** Explicit recipients; otherwise the contract's for `context`. */
  to?: string[];
  /** Routing facts (a `DossierContext`). */
  context?: Record<string, unknown>;
  correlationId?: string;
  causationId?: string | null;
  /** Decision documents the message references, stored before it is sent (bytes in base64). */
  documents?: { objectKey: string; sha256: string; base64: string }[];
  /**
   * Who took the person's action that decided the message. The envelope's meta has a fixed set of members
   * and cannot carry it: it stays here until sent, and in the dossier's state (`DossierRecord.taken`).
   */
  actor?: Actor;
}

/**
 * One step of a dossier as its body saw it: a message received (its payload, decrypted), a person's or a
 * policy's action (its input and who took it), a deadline step; with the messages it decided to send.
 * Kept with the state, sealed like it: what the back office shows of the dossier's history.
 */
export interface JournalEntry {
  /** When the step was decided (RFC 3339 instant). */
  at: string;
  kind: 'received' | 'action' | 'deadline';
  /** The message type, the action's or the deadline step's name. */
  type: string;
  /** The step id (the message id of a received message). */
  stepId: string;
  /** The sender of a received message. */
  from?: string;
  /** What the step was given: the received message's payload, the action's input. */
  payload?: unknown;
  /** Who took a person's action. */
  by?: Actor;
  /** The dossier's phase after the step. */
  phase: string;
  /** A short outcome (`granted`), never personal data. */
  summary?: string;
  /** The messages the step decided to send. */
  sent?: { id?: string; type: string; to?: string[] }[];
}

/** What the store keeps per dossier and hosted participant. */
export interface StoredDossier<S> {
  state: S;
  /** Ids of the messages and actions already applied (the newest 64), so a redelivery applies nothing twice. */
  applied: string[];
  /** Messages decided but not yet sent. */
  outbox: PendingMessage[];
  /** Conversation id of the dossier here (the first message's), given to every message sent without one. */
  correlationId?: string;
  /** The dossier's steps here, oldest first (the newest {@link JOURNAL_KEPT}); absent in older records. */
  journal?: JournalEntry[];
}

/** How many journal entries a dossier keeps: far more than any procedure takes. */
export const JOURNAL_KEPT = 200;

/**
 * Encrypts records at rest (the service's own KV bucket holds personal data: a holder's identity, a
 * passport number), so that whoever reads the bucket sees keys and sizes only. `aad` is the KV key: a
 * record cannot be moved to another key. `open` returns undefined when the record does not decrypt. Both
 * may be asynchronous (a cipher under the dossier's own key reads that key from its bucket), and `open`
 * throws `ERR_DOSSIER_ERASED` for a record of a dossier whose key was destroyed.
 */
export interface RecordCipher {
  seal(value: unknown, aad: string, dossierId: string): string | Promise<string>;
  open<T>(sealed: string, aad: string, dossierId: string): T | undefined | Promise<T | undefined>;
}

/**
 * One record a scan of the store met: a dossier as stored; one erased (its key destroyed by `passerelle
 * dossier erase`: nothing of it reads any more, and nothing is owed on it); or one that does not read
 * (a storage key no longer held, an altered record).
 */
export type ScannedDossier<S> =
  | { outcome: 'stored'; participant: string; dossierId: string; stored: StoredDossier<S> }
  | { outcome: 'erased'; participant: string; dossierId: string }
  | { outcome: 'unreadable'; participant: string; dossierId: string; error: unknown };

/** Options of {@link DossierStore}. */
export interface DossierStoreOptions {
  /** Compare-and-set attempts before ERR_DOSSIER_CONFLICT (default 8). */
  attempts?: number;
  /** The cipher of each participant's records; without it records are stored as plain JSON. */
  cipher?: (participant: string) => RecordCipher | undefined;
  /** Mints the stable id of each message a step decides (a UUID v7; the service host passes the envelope's). */
  newMessageId?: () => string;
  /**
   * Told when a step was written but its messages could not all be sent; `apply` then returns the state
   * (or throws an error that is not retryable), and the caller sends them later
   * ({@link DossierStore.flush}). Without it, `apply` throws the send's error.
   */
  onUnsent?: (participant: string, dossierId: string, err: unknown) => void;
  /**
   * Checks each message a step decides before the step is written (the service host checks the contract
   * and the schema, as a send would): a step whose message could never be sent is refused with that error,
   * and nothing of it is recorded.
   */
  check?: (participant: string, message: PendingMessage) => void | Promise<void>;
}

/** What a step returns: the new state and the messages it sends. */
export interface StepResult<S> {
  state: S;
  send?: PendingMessage[];
  /** The step as the dossier's journal keeps it; the store adds the ids of the messages it sends. */
  journal?: Omit<JournalEntry, 'sent'>;
}

/** Sends one pending message (the service wires it to `Exchange.send`). */
export type PendingSender = (
  participant: string,
  dossierId: string,
  message: PendingMessage,
) => Promise<void>;

const APPLIED_KEPT = 64;
/** Records a scan reads at once. */
const READ_BATCH = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Dossier state of one service in a KV bucket, one key per hosted participant and dossier
 * (`<participant>.<dossierId>`), updated by compare-and-set so several instances can share it. A step's
 * state and the messages it sends are written together, then sent, then cleared: a crash in between sends
 * them on the next delivery instead of losing them, and the applied-id list keeps the step from running twice.
 *
 * @example
 * ```ts
 * const store = new DossierStore<MyState>(await new Kvm(nc).create('svc-commune'));
 * await store.apply('commune-21004', dossierId, meta.id, (cur) => ({ state: next(cur), send: [...] }), send);
 * ```
 */
export class DossierStore<S> {
  private readonly attempts: number;
  private readonly cipherFor: ((participant: string) => RecordCipher | undefined) | undefined;
  private readonly newId: (() => string) | undefined;
  private readonly onUnsent: DossierStoreOptions['onUnsent'];
  private readonly check: DossierStoreOptions['check'];
  /** The flush running for each dossier key in this process. */
  private readonly flushes = new Map<string, Promise<void>>();

  constructor(
    private readonly kv: KvLike,
    options: DossierStoreOptions = {},
  ) {
    this.attempts = options.attempts ?? 8;
    this.cipherFor = options.cipher;
    this.newId = options.newMessageId;
    this.onUnsent = options.onUnsent;
    this.check = options.check;
  }

  /** Sends what a written step decided; a failure goes to `onUnsent` when set. */
  private async sendDecided(participant: string, dossierId: string, send: PendingSender): Promise<void> {
    try {
      await this.flush(participant, dossierId, send);
    } catch (err) {
      // The caller's relay keeps the dossier and sends again; an error that retrying alone cannot cure
      // (a payload the contract refuses, a store not provisioned) is also the caller's to see.
      if (!this.onUnsent) throw err;
      this.onUnsent(participant, dossierId, err);
      if (isPasserelleError(err) && !err.retryable) throw err;
    }
  }

  private async encode(
    participant: string,
    dossierId: string,
    key: string,
    value: unknown,
  ): Promise<Uint8Array> {
    const cipher = this.cipherFor?.(participant);
    return encoder.encode(cipher ? await cipher.seal(value, key, dossierId) : JSON.stringify(value));
  }

  private async decode<T>(participant: string, dossierId: string, key: string, data: Uint8Array): Promise<T> {
    const cipher = this.cipherFor?.(participant);
    const text = decoder.decode(data);
    if (!cipher) return JSON.parse(text) as T;
    const value = await cipher.open<T>(text, key, dossierId);
    if (value === undefined) {
      throw new ProcedureError(
        'ERR_STATE_UNREADABLE',
        `The record ${key} does not decrypt for ${participant}.`,
        {
          details: { key },
        },
      );
    }
    return value;
  }

  private key(participant: string, dossierId: string): string {
    return `${participant}.${dossierId}`;
  }

  /** The stored dossier with its KV revision, or undefined. */
  async read(
    participant: string,
    dossierId: string,
  ): Promise<(StoredDossier<S> & { revision: number }) | undefined> {
    const entry = await this.kv.get(this.key(participant, dossierId));
    if (!entry || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    const key = this.key(participant, dossierId);
    const stored = await this.decode<StoredDossier<S>>(participant, dossierId, key, entry.value);
    return { ...stored, revision: entry.revision };
  }

  /** The state of a dossier, or undefined when this participant never opened it. */
  async get(participant: string, dossierId: string): Promise<S | undefined> {
    return (await this.read(participant, dossierId))?.state;
  }

  private async write(
    participant: string,
    dossierId: string,
    value: StoredDossier<S>,
    revision: number | undefined,
  ): Promise<boolean> {
    const data = await this.encode(participant, dossierId, this.key(participant, dossierId), value);
    try {
      if (revision === undefined) await this.kv.create(this.key(participant, dossierId), data);
      else await this.kv.update(this.key(participant, dossierId), data, revision);
      return true;
    } catch (err) {
      // Lost a compare-and-set race: another instance wrote first; read again and retry.
      if (/wrong last sequence|key exists/i.test(String((err as Error).message))) return false;
      throw err;
    }
  }

  /**
   * Applies a step once: `step` sees the current state (undefined for a dossier not yet opened) and
   * returns the next one with the messages to send; it throws a {@link ProcedureError} to refuse the step.
   * A step id already applied only flushes what is still unsent. Returns the resulting state.
   */
  async apply(
    participant: string,
    dossierId: string,
    stepId: string,
    step: (current: S | undefined) => StepResult<S> | Promise<StepResult<S>>,
    send: PendingSender,
    correlationId?: string,
  ): Promise<S> {
    for (let attempt = 0; attempt < this.attempts; attempt += 1) {
      const current = await this.read(participant, dossierId);
      if (current?.applied.includes(stepId)) {
        await this.sendDecided(participant, dossierId, send);
        return current.state;
      }
      const result = await step(current?.state);
      for (const m of result.send ?? []) await this.check?.(participant, m);
      const conversation = current?.correlationId ?? correlationId;
      const decided = (result.send ?? []).map((m) => ({
        ...m,
        ...(this.newId && !m.id ? { id: this.newId() } : {}),
        ...(!m.correlationId && conversation ? { correlationId: conversation } : {}),
      }));
      const journal = result.journal
        ? [
            ...(current?.journal ?? []),
            {
              ...result.journal,
              ...(decided.length > 0
                ? {
                    sent: decided.map((m) => ({
                      ...(m.id ? { id: m.id } : {}),
                      type: m.type,
                      ...(m.to ? { to: m.to } : {}),
                    })),
                  }
                : {}),
            },
          ].slice(-JOURNAL_KEPT)
        : current?.journal;
      const next: StoredDossier<S> = {
        state: result.state,
        applied: [...(current?.applied ?? []), stepId].slice(-APPLIED_KEPT),
        outbox: [...(current?.outbox ?? []), ...decided],
        ...(conversation ? { correlationId: conversation } : {}),
        ...(journal ? { journal } : {}),
      };
      if (await this.write(participant, dossierId, next, current?.revision)) {
        await this.sendDecided(participant, dossierId, send);
        return result.state;
      }
    }
    throw new ProcedureError(
      'ERR_DOSSIER_CONFLICT',
      `Dossier ${dossierId} kept changing under ${participant}.`,
      {
        details: { participant, dossierId },
      },
    );
  }

  /**
   * Dossiers with messages still to send (left by a failed send or a crash), of one participant or all.
   * An erased dossier owes nothing: it is told to `onErased` (when given) and not listed.
   */
  async *unsent(
    participant?: string,
    /** Told of a record that does not read (instead of the scan stopping there). */
    onUnreadable?: (dossierId: string, err: unknown) => void,
    onErased?: (dossierId: string) => void,
  ): AsyncGenerator<{ participant: string; dossierId: string }> {
    for await (const r of this.scan(participant)) {
      if (r.outcome === 'erased') onErased?.(r.dossierId);
      else if (r.outcome === 'unreadable') {
        if (!onUnreadable) throw r.error;
        onUnreadable(r.dossierId, r.error);
      } else if (r.stored.outbox.length > 0) yield { participant: r.participant, dossierId: r.dossierId };
    }
  }

  /**
   * Sends the dossier's pending messages in order, removing each once sent. Flushes of one dossier run one
   * after the other in this process (a handler's step, a desk action and the host's relay may meet).
   */
  async flush(participant: string, dossierId: string, send: PendingSender): Promise<void> {
    const key = this.key(participant, dossierId);
    const run = (this.flushes.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.flushNow(participant, dossierId, send));
    this.flushes.set(key, run);
    try {
      await run;
    } finally {
      if (this.flushes.get(key) === run) this.flushes.delete(key);
    }
  }

  private async flushNow(participant: string, dossierId: string, send: PendingSender): Promise<void> {
    let sentId: string | undefined;
    for (;;) {
      const current = await this.read(participant, dossierId);
      const [first, ...rest] = current?.outbox ?? [];
      if (!current || !first) return;
      // A removal that lost a race to another write (a step appended a message) finds the message it
      // just sent still first: it is removed, not sent again.
      if (first.id === undefined || first.id !== sentId) {
        await send(participant, dossierId, first);
        sentId = first.id;
      }
      await this.write(
        participant,
        dossierId,
        {
          state: current.state,
          applied: current.applied,
          outbox: rest,
          ...(current.correlationId ? { correlationId: current.correlationId } : {}),
          ...(current.journal ? { journal: current.journal } : {}),
        },
        current.revision,
      );
    }
  }

  /**
   * Every dossier of a participant (or of all hosted participants), for deadline scans and reports. An
   * erased dossier is told to `onErased` (when given) and not listed; a record that does not read ends the
   * scan with its error (see {@link scan} to go on past it).
   */
  async *list(
    participant?: string,
    onErased?: (dossierId: string) => void,
  ): AsyncGenerator<{ participant: string; dossierId: string; state: S }> {
    for await (const r of this.scan(participant)) {
      if (r.outcome === 'erased') onErased?.(r.dossierId);
      else if (r.outcome === 'unreadable') throw r.error;
      else yield { participant: r.participant, dossierId: r.dossierId, state: r.stored.state };
    }
  }

  /**
   * Every record of a participant (or of all hosted participants), each with its outcome: stored, erased
   * or unreadable. A failure that is not the record's own (a time-out) ends the scan with its error.
   */
  async *scan(participant?: string): AsyncGenerator<ScannedDossier<S>> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys(participant ? `${participant}.>` : undefined)) keys.push(key);
    // read a batch at a time, in parallel (each read is one round trip), yielded in key order
    for (let start = 0; start < keys.length; start += READ_BATCH) {
      const batch = keys.slice(start, start + READ_BATCH).map((key) => {
        const dot = key.indexOf('.');
        return { p: key.slice(0, dot), dossierId: key.slice(dot + 1) };
      });
      const reads = await Promise.allSettled(batch.map(({ p, dossierId }) => this.read(p, dossierId)));
      for (const [i, read] of reads.entries()) {
        const { p, dossierId } = batch[i]!;
        if (read.status === 'fulfilled') {
          if (read.value) yield { outcome: 'stored', participant: p, dossierId, stored: read.value };
          continue;
        }
        const err: unknown = read.reason;
        if (isPasserelleError(err, 'ERR_DOSSIER_ERASED')) {
          yield { outcome: 'erased', participant: p, dossierId };
        } else if (isPasserelleError(err, 'ERR_STATE_UNREADABLE') || err instanceof SyntaxError) {
          yield { outcome: 'unreadable', participant: p, dossierId, error: err };
        } else {
          throw err;
        }
      }
    }
  }
}
