import type { KV } from '@nats-io/kv';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type MetaKey, isWellFormedMetaField } from '@passerelle/envelope/internal';
import { ExchangeError } from './exchange-error.js';
import { type ParticipantBucketOptions, openParticipantBucket } from './participant-bucket.js';

/** What a receiver signs to acknowledge an envelope (DESIGN.md; AS4-style non-repudiation of receipt). */
export interface ReceiptClaims {
  messageId: string;
  type: string;
  dossierId: string;
  /** The original sender, to whom the receipt goes back. */
  sender: string;
  /** Who signs the receipt. */
  receiver: string;
  /** Hex SHA-256 of the raw envelope bytes as published. */
  envelopeSha256: string;
  receivedAt: string;
  status: 'accepted';
}

/** Each receipt claim, and the meta member whose rule it follows (`envelopeSha256` and `status` apart). */
const RECEIPT_CLAIM_RULES: Record<Exclude<keyof ReceiptClaims, 'envelopeSha256' | 'status'>, MetaKey> = {
  messageId: 'id',
  type: 'type',
  dossierId: 'dossierId',
  sender: 'sender',
  receiver: 'recipient',
  receivedAt: 'issuedAt',
};
const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * Checks that `value` holds exactly the claims of an accepted receipt, each well formed (the identifiers,
 * participant ids and time follow the envelope meta's rules), and returns them typed; otherwise
 * `ERR_RECEIPT_INVALID` naming the claim, never its value. What it lets through is identifiers only: a
 * receipt can carry nothing else into the outbox or the ledger, whoever signed it.
 */
export function assertReceiptClaims(value: unknown): ReceiptClaims {
  const refuse = (claim: string, rule: string): never => {
    throw new ExchangeError('ERR_RECEIPT_INVALID', `The receipt's ${claim} ${rule}.`, {
      details: { claim },
    });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return refuse('payload', 'is not an object');
  }
  const claims = value as Record<string, unknown>;
  const allowed = [...Object.keys(RECEIPT_CLAIM_RULES), 'envelopeSha256', 'status'];
  for (const k of Object.keys(claims)) {
    if (!allowed.includes(k))
      refuse(k.replace(/[^A-Za-z0-9]/g, '').slice(0, 32) || 'member', 'is not a receipt claim');
  }
  for (const [claim, field] of Object.entries(RECEIPT_CLAIM_RULES)) {
    if (!isWellFormedMetaField(field, claims[claim])) refuse(claim, 'is missing or malformed');
  }
  const digest = claims['envelopeSha256'];
  if (typeof digest !== 'string' || !SHA256_HEX.test(digest))
    refuse('envelopeSha256', 'is not a hex SHA-256');
  if (claims['status'] !== 'accepted') refuse('status', 'is not "accepted"');
  return claims as unknown as ReceiptClaims;
}

/** JWS `typ` of a receipt. */
export const RECEIPT_TYP = 'pex-receipt+jws';

/** A sent message as the sender's outbox remembers it, until and after its receipt. */
export interface OutboxRecord {
  id: string;
  type: string;
  recipient: string;
  dossierId: string;
  subject: string;
  envelopeSha256: string;
  sentAt: string;
  /**
   * The sealed envelope of a message sent under a stable id (`SendOptions.messageId`), kept until its
   * receipt arrives, so that sending it again publishes these very bytes (end-to-end encrypted).
   */
  envelope?: string;
  receipt?: { receivedAt: string; verifiedAt: string; jws: string };
}

/** Name of a participant's outbox bucket. */
export function outboxBucketName(participant: string): string {
  return `pex-outbox-${participant}`;
}

/**
 * The sender's record of what it sent and which receipts came back, in a KV bucket, so that "which
 * messages have no receipt after N minutes" survives restarts.
 */
export class Outbox {
  /**
   * Records this process sent recently, with their KV revision: a receipt for one of them is recorded in
   * one conditional update, without reading the record back first. Bounded; the oldest are forgotten
   * (their receipts take the read-then-update path).
   */
  private readonly recent = new Map<string, { record: OutboxRecord; revision: number }>();

  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly name: string,
    private readonly recentMax = 10_000,
  ) {}

  static async open(
    nc: NatsConnection,
    participant: string,
    options: ParticipantBucketOptions = {},
  ): Promise<Outbox> {
    const name = outboxBucketName(participant);
    const kv = await openParticipantBucket(nc, name, options, 90);
    return new Outbox(kv, await jetstreamManager(nc, { timeout: 10_000, checkAPI: false }), name);
  }

  /**
   * The record as the bucket's leader holds it. A KV get may be answered by a replica that has not yet
   * applied the latest write (direct get): a receipt must not be refused as "never sent" on its word.
   */
  private async fromLeader(id: string): Promise<{ record: OutboxRecord; revision: number } | undefined> {
    const stored = await this.jsm.streams.getMessage(`KV_${this.name}`, {
      last_by_subj: `$KV.${this.name}.${id}`,
    });
    if (!stored) return undefined;
    const operation = stored.header?.get('KV-Operation');
    if (operation === 'DEL' || operation === 'PURGE') return undefined;
    return { record: stored.json<OutboxRecord>(), revision: stored.seq };
  }

  async recordSent(record: OutboxRecord): Promise<void> {
    this.remember(record, await this.kv.put(record.id, JSON.stringify(record)));
  }

  /**
   * Records a message about to be sent under a stable id unless a record of it exists already; returns the
   * record that stands (this one, or the earlier attempt's, whose envelope is then the one to publish).
   */
  async recordFirst(record: OutboxRecord): Promise<OutboxRecord> {
    try {
      this.remember(record, await this.kv.create(record.id, JSON.stringify(record)));
      return record;
    } catch (err) {
      const existing = await this.get(record.id);
      if (!existing) throw err;
      return existing;
    }
  }

  /**
   * Replaces the record of a message sent again with new bytes (its earlier record kept none, or they had
   * grown stale), unless a receipt was recorded for it meanwhile. Returns whether it was replaced.
   */
  async replaceUnreceipted(record: OutboxRecord): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(record.id);
      if (entry?.operation === 'PUT' && entry.json<OutboxRecord>().receipt) return false;
      try {
        const data = JSON.stringify(record);
        const revision =
          entry?.operation === 'PUT'
            ? await this.kv.update(record.id, data, entry.revision)
            : await this.kv.create(record.id, data);
        this.remember(record, revision);
        return true;
      } catch {
        // changed meanwhile (a receipt, another attempt): look again
      }
    }
    throw new ExchangeError(
      'ERR_OUTBOX_CONFLICT',
      `The outbox record of ${record.id} kept changing while it was sent again.`,
      { details: { messageId: record.id } },
    );
  }

  /**
   * Removes the record of a message this process recorded and then did not send (its send failed with
   * nothing published), so that it does not wait for a receipt for ever. `sole`: the id is this send's own
   * (a plain send's): the record is deleted without reading it first, which also stops a create whose answer
   * was lost from landing afterwards (it expects no earlier revision). Otherwise (a caller's stable id, which
   * another attempt may be using) it goes only while it still holds these bytes and no receipt.
   */
  async forget(record: OutboxRecord, { sole = false }: { sole?: boolean } = {}): Promise<void> {
    this.recent.delete(record.id);
    if (sole) {
      await this.kv.delete(record.id);
      return;
    }
    const entry = await this.kv.get(record.id);
    if (!entry || entry.operation !== 'PUT') return;
    const standing = entry.json<OutboxRecord>();
    if (standing.receipt || standing.envelopeSha256 !== record.envelopeSha256) return;
    await this.kv.delete(record.id, { previousSeq: entry.revision });
  }

  private remember(record: OutboxRecord, revision: number): void {
    if (this.recent.size >= this.recentMax) this.recent.delete(this.recent.keys().next().value as string);
    // what a receipt is checked against; the kept bytes stay in the bucket only
    this.recent.set(record.id, { record: withoutEnvelope(record), revision });
  }

  async get(id: string): Promise<OutboxRecord | undefined> {
    const entry = await this.kv.get(id);
    return entry && entry.operation === 'PUT' ? entry.json<OutboxRecord>() : undefined;
  }

  /**
   * Attaches a verified receipt to its sent message. `unknown`: this outbox has no such message (yet: the
   * record and the publish run concurrently); `mismatch`: the receipt is signed by another participant
   * than the message's recipient, or names another type or dossier, or acknowledges other bytes than sent
   * (`field` says which).
   */
  async recordReceipt(claims: ReceiptClaims, jws: string, now = new Date()): Promise<ReceiptOutcome> {
    const receipt = { receivedAt: claims.receivedAt, verifiedAt: now.toISOString(), jws };
    const known = this.recent.get(claims.messageId);
    if (known) {
      this.recent.delete(claims.messageId);
      const field = receiptMismatch(known.record, claims);
      if (field) return { kind: 'mismatch', field };
      try {
        await this.kv.update(claims.messageId, withReceipt(known.record, receipt), known.revision);
        return { kind: 'recorded' };
      } catch {
        // the record changed since it was written (an earlier receipt, a restart): read it below
      }
    }
    for (let attempt = 0; attempt < 5; attempt++) {
      const entry = await this.kv.get(claims.messageId);
      const found =
        entry?.operation === 'PUT'
          ? { record: entry.json<OutboxRecord>(), revision: entry.revision }
          : await this.fromLeader(claims.messageId);
      if (!found) return { kind: 'unknown' };
      const { record, revision } = found;
      const field = receiptMismatch(record, claims);
      if (field) return { kind: 'mismatch', field };
      if (record.receipt) return { kind: 'recorded' };
      try {
        await this.kv.update(claims.messageId, withReceipt(record, receipt), revision);
        return { kind: 'recorded' };
      } catch {
        // a concurrent update: read again
      }
    }
    throw new ExchangeError(
      'ERR_OUTBOX_CONFLICT',
      `The receipt of ${claims.messageId} could not be recorded: its outbox record kept changing.`,
      { details: { messageId: claims.messageId } },
    );
  }

  /** Messages sent before `before` that have no receipt yet, oldest first. */
  async unreceipted(before: Date): Promise<OutboxRecord[]> {
    const out: OutboxRecord[] = [];
    const keys = await this.kv.keys();
    for await (const key of keys) {
      const record = await this.get(key);
      if (record && !record.receipt && Date.parse(record.sentAt) < before.getTime()) {
        out.push(withoutEnvelope(record));
      }
    }
    return out.sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  }
}

/** What became of a receipt offered to the outbox ({@link Outbox.recordReceipt}). */
export type ReceiptOutcome =
  | { kind: 'recorded' }
  | { kind: 'unknown' }
  | { kind: 'mismatch'; field: 'receiver' | 'type' | 'dossierId' | 'envelopeSha256' };

/**
 * The first claim of a receipt that differs from the message sent, if any. A valid signature only says
 * who signed: a receipt counts only when its signer is the recipient and it names the very message.
 */
function receiptMismatch(
  record: OutboxRecord,
  claims: ReceiptClaims,
): Extract<ReceiptOutcome, { kind: 'mismatch' }>['field'] | undefined {
  if (claims.receiver !== record.recipient) return 'receiver';
  if (claims.type !== record.type) return 'type';
  if (claims.dossierId !== record.dossierId) return 'dossierId';
  if (claims.envelopeSha256 !== record.envelopeSha256) return 'envelopeSha256';
  return undefined;
}

/** A record without the sealed bytes kept for sending again. */
function withoutEnvelope(record: OutboxRecord): OutboxRecord {
  const { envelope: _kept, ...rest } = record;
  return rest;
}

/** A sent message's record with its receipt; the envelope kept for sending again is no longer needed. */
function withReceipt(record: OutboxRecord, receipt: NonNullable<OutboxRecord['receipt']>): string {
  return JSON.stringify({ ...withoutEnvelope(record), receipt });
}
