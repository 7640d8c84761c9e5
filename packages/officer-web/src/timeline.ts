import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { StreamNames, Subjects } from '@passerelle/exchange';

/** One message of a dossier as a body saw it pass: who sent what to whom, when, and its receipt. */
export interface TimelineEntry {
  messageId: string;
  type: string;
  sender: string;
  recipient: string;
  /** When the sender issued it (the envelope's meta). */
  issuedAt: string;
  /** The receipt the recipient signed, as its claims say (the exchange checks the signature on arrival). */
  receipt?: { receiver: string; receivedAt: string };
}

/** Reads a dossier's timeline for one hosted id. */
export type TimelineSource = (participant: string, dossierId: string) => Promise<TimelineEntry[]>;

/** Options of {@link exchangeTimeline}. */
export interface ExchangeTimelineOptions {
  /** The JetStream API prefix of a participant account on a secured server. */
  apiPrefix?: string;
  /** Read the stream from this long ago only (default: all it keeps). */
  sinceMs?: number;
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '?');

const asObject = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;

/** The JSON object `text` holds, or undefined: not JSON, or not an object. */
function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    return asObject(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** A compact JWS's claims (unchecked: the exchange checked the signature on arrival). */
const claimsOf = (jws: string): Record<string, unknown> | undefined =>
  jsonObject(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8'));

/** An envelope's clear meta. */
const metaOf = (envelope: string): Record<string, unknown> | undefined =>
  asObject(jsonObject(envelope)?.['meta']);

/**
 * A timeline source over the EXCHANGE stream: the envelopes a hosted id sent or received for the dossier
 * and the receipts of those, read from their clear meta only (nothing is decrypted). Two ephemeral
 * consumers filtered on the id's own subjects (what came to it, what it sent) read up to the stream's
 * last record at the start of the call, and are deleted after.
 *
 * @example
 * ```ts
 * const timeline = exchangeTimeline(nc);
 * for (const m of await timeline('region-bruxelles', dossierId)) console.log(m.type, m.sender, m.recipient);
 * ```
 */
export function exchangeTimeline(nc: NatsConnection, options: ExchangeTimelineOptions = {}): TimelineSource {
  const prefix = options.apiPrefix ? { apiPrefix: options.apiPrefix } : {};
  return async (participant, dossierId) => {
    const jsm = await jetstreamManager(nc, { ...prefix, timeout: 10_000 });
    const js = jetstream(nc, { ...prefix, timeout: 15_000 });
    const info = await jsm.streams.info(StreamNames.exchange);
    const last = info.state.last_seq;
    const messages = new Map<string, TimelineEntry>();
    const receipts = new Map<string, { receiver: string; receivedAt: string }>();
    const needle = Buffer.from(dossierId);
    const decoder = new TextDecoder();
    const scan = async (filters: string[]): Promise<void> => {
      const created = await jsm.consumers.add(StreamNames.exchange, {
        ack_policy: AckPolicy.None,
        mem_storage: true,
        inactive_threshold: nanos(30_000),
        filter_subjects: filters,
        ...(options.sinceMs
          ? {
              deliver_policy: DeliverPolicy.StartTime,
              opt_start_time: new Date(Date.now() - options.sinceMs).toISOString(),
            }
          : { deliver_policy: DeliverPolicy.All }),
      });
      try {
        if (created.num_pending === 0) return;
        const consumer = await js.consumers.get(StreamNames.exchange, created.name);
        const iter = await consumer.consume({ max_messages: 256 });
        for await (const m of iter) {
          if (m.subject.startsWith(`${Subjects.message}.`)) {
            // a cheap byte search first: most envelopes belong to other dossiers
            const bytes = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.length);
            const meta = bytes.includes(needle) ? metaOf(decoder.decode(m.data)) : undefined;
            if (meta?.['dossierId'] === dossierId) {
              messages.set(text(meta['id']), {
                messageId: text(meta['id']),
                type: text(meta['type']),
                sender: text(meta['sender']),
                recipient: text(meta['recipient']),
                issuedAt: text(meta['issuedAt']),
              });
            }
          } else if (m.subject.startsWith(`${Subjects.receipt}.`)) {
            // a receipt is a compact JWS: its claims are base64url, read whole
            const claims = claimsOf(decoder.decode(m.data));
            if (claims?.['dossierId'] === dossierId && typeof claims['messageId'] === 'string') {
              receipts.set(claims['messageId'], {
                receiver: text(claims['receiver']),
                receivedAt: text(claims['receivedAt']),
              });
            }
          }
          if (m.seq >= last || m.info.pending === 0) break;
        }
        iter.stop();
      } finally {
        await jsm.consumers.delete(StreamNames.exchange, created.name).catch(() => undefined);
      }
    };
    if (info.state.messages > 0) {
      // two scans, for the server refuses filters that overlap (a message from the id to itself would match both)
      await scan([`${Subjects.message}.*.*.${participant}`, `${Subjects.receipt}.*.${participant}`]);
      await scan([`${Subjects.message}.*.${participant}.*`, `${Subjects.receipt}.${participant}.*`]);
    }
    return [...messages.values()]
      .map((m) => {
        const receipt = receipts.get(m.messageId);
        return receipt ? { ...m, receipt } : m;
      })
      .sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.messageId.localeCompare(b.messageId));
  };
}
