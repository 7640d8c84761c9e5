import type { Command } from 'commander';
import { AckPolicy, DeliverPolicy, type JetStreamManager, jetstream } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { PasserelleError } from '@passerelle/errors';
import { StreamNames, Subjects } from '@passerelle/exchange';
import { registerDossierErase } from './dossier-erase.js';
import { registerDossierReapplyErasures } from './dossier-reapply-erasures.js';
import { type ServerOptions, credentialsOption, serverOption, withJetStream } from '../context.js';
import { printJson } from '../print-json.js';

/** One envelope of a dossier's timeline, with the receipt that acknowledged it (meta only). */
export interface TraceMessage {
  /** Sequence in EXCHANGE. */
  seq: number;
  /** When the server stored it (RFC 3339). */
  storedAt: string;
  messageId: string;
  type: string;
  sender: string;
  recipient: string;
  issuedAt: string;
  correlationId: string;
  causationId: string | null;
  bytes: number;
  receipt?: TraceReceipt;
}

/** A receipt's clear claims (not verified here: `passerelle audit verify` checks signatures). */
export interface TraceReceipt {
  seq: number;
  storedAt: string;
  messageId: string;
  receiver: string;
  receivedAt: string;
}

/** `passerelle dossier trace`'s result. */
export interface DossierTrace {
  dossierId: string;
  messages: TraceMessage[];
  /** Receipts whose message is no longer (or not) in the stream. */
  orphanReceipts: TraceReceipt[];
  /** Records read from EXCHANGE to build it. */
  scanned: number;
  /** Where the reading started (`--since`), RFC 3339; absent: the whole stream. */
  since?: string;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '?');

/** The members `keys` of a decoded record as strings, `?` for one missing or of another type. */
function strings<K extends string>(record: Record<string, unknown>, ...keys: K[]): Record<K, string> {
  return Object.fromEntries(keys.map((key) => [key, str(record[key])])) as Record<K, string>;
}

function decodeJwsPayload(text: string): Record<string, unknown> | undefined {
  try {
    const claims = JSON.parse(Buffer.from(text.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A dossier's timeline from the EXCHANGE stream: each envelope's meta (type, sender → recipient, ids,
 * times) and the receipt that answered it. Nothing is decrypted; payloads are never read. The stream is
 * scanned once with an ordered consumer up to its last sequence at the start of the call.
 *
 * @example
 * ```ts
 * const trace = await readDossierTrace(nc, jsm, '0190d1a8-7c1e-4b7e-9d1b-3c3f2e6a1b20');
 * for (const m of trace.messages) console.log(m.type, m.sender, m.recipient, m.receipt?.receivedAt);
 * ```
 */
export async function readDossierTrace(
  nc: NatsConnection,
  jsm: JetStreamManager,
  dossierId: string,
  options: { since?: Date } = {},
): Promise<DossierTrace> {
  const info = await jsm.streams.info(StreamNames.exchange);
  const messages: TraceMessage[] = [];
  const receipts: TraceReceipt[] = [];
  let scanned = 0;
  const scan = async (name: string): Promise<void> => {
    const consumer = await jetstream(nc, { timeout: 15_000 }).consumers.get(StreamNames.exchange, name);
    const last = info.state.last_seq;
    const needle = Buffer.from(dossierId);
    const iter = await consumer.consume({ max_messages: 256 });
    for await (const m of iter) {
      scanned++;
      const storedAt = new Date(Math.floor(m.info.timestampNanos / 1_000_000)).toISOString();
      if (m.subject.startsWith(`${Subjects.message}.`)) {
        // Cheap byte search first: most envelopes belong to other dossiers.
        if (Buffer.from(m.data.buffer, m.data.byteOffset, m.data.length).includes(needle)) {
          try {
            const meta = (JSON.parse(new TextDecoder().decode(m.data)) as { meta?: Record<string, unknown> })
              .meta;
            if (meta?.['dossierId'] === dossierId) {
              messages.push({
                seq: m.seq,
                storedAt,
                messageId: str(meta['id']),
                ...strings(meta, 'type', 'sender', 'recipient', 'issuedAt', 'correlationId'),
                causationId: typeof meta['causationId'] === 'string' ? meta['causationId'] : null,
                bytes: m.data.length,
              });
            }
          } catch {
            // not an envelope: nothing of it is shown
          }
        }
      } else if (m.subject.startsWith(`${Subjects.receipt}.`)) {
        const claims = decodeJwsPayload(new TextDecoder().decode(m.data));
        if (claims?.['dossierId'] === dossierId) {
          receipts.push({ seq: m.seq, storedAt, ...strings(claims, 'messageId', 'receiver', 'receivedAt') });
        }
      }
      if (m.seq >= last || m.info.pending === 0) break;
    }
    iter.stop();
  };
  // An ephemeral consumer, from `since` on (a dossier's traffic starts with its application: a long
  // stream is not read whole); not an ordered one, whose reset after a missed heartbeat would ask for a
  // start sequence beside the start time, which the server refuses, and retry that for ever.
  const created =
    info.state.messages > 0
      ? await jsm.consumers.add(StreamNames.exchange, {
          ack_policy: AckPolicy.None,
          mem_storage: true,
          inactive_threshold: nanos(30_000),
          ...(options.since
            ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: options.since.toISOString() }
            : { deliver_policy: DeliverPolicy.All }),
        })
      : undefined;
  try {
    if (created && created.num_pending > 0) await scan(created.name);
  } finally {
    if (created) await jsm.consumers.delete(StreamNames.exchange, created.name).catch(() => undefined);
  }
  const byId = new Map(messages.map((m) => [m.messageId, m]));
  const orphanReceipts: TraceReceipt[] = [];
  for (const r of receipts) {
    const m = byId.get(r.messageId);
    if (m && !m.receipt) m.receipt = r;
    else orphanReceipts.push(r);
  }
  return {
    dossierId,
    messages,
    orphanReceipts,
    scanned,
    ...(options.since ? { since: options.since.toISOString() } : {}),
  };
}

function clock(iso: string): string {
  return iso.length >= 23 ? iso.slice(11, 23) : iso;
}

/** The timeline as text lines (what `passerelle dossier trace` prints). */
export function formatDossierTrace(trace: DossierTrace): string[] {
  const lines = [
    `dossier ${trace.dossierId}: ${trace.messages.length} messages, ${
      trace.messages.filter((m) => m.receipt).length
    } receipted (EXCHANGE${trace.since ? ` since ${trace.since}` : ''}, ${trace.scanned} records read)`,
  ];
  const typeWidth = Math.max(10, ...trace.messages.map((m) => m.type.length));
  const routeWidth = Math.max(10, ...trace.messages.map((m) => m.sender.length + m.recipient.length + 3));
  for (const m of trace.messages) {
    const route = `${m.sender} → ${m.recipient}`;
    const receipt = m.receipt
      ? `receipt ${clock(m.receipt.receivedAt)} (+${Date.parse(m.receipt.receivedAt) - Date.parse(m.issuedAt)} ms)`
      : 'no receipt yet';
    lines.push(
      `${m.storedAt}  ${m.type.padEnd(typeWidth)}  ${route.padEnd(routeWidth)}  ${m.messageId}  ${receipt}`,
    );
  }
  for (const r of trace.orphanReceipts) {
    lines.push(`${r.storedAt}  receipt by ${r.receiver} for ${r.messageId} (message not in the stream)`);
  }
  return lines;
}

/**
 * The instant `--since` names: an RFC 3339 date (midnight UTC, an hour or two before midnight in
 * Brussels) or date-time with its offset, or a duration back from `now` (`90d`, `12h`, `30m`, at most a
 * century); `ERR_CONFIG_INVALID` otherwise.
 */
export function parseSince(value: string, now = new Date()): Date {
  const text = value.trim();
  const duration = /^(\d{1,6})([dhm])$/.exec(text);
  if (duration) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[duration[2] as 'd' | 'h' | 'm'];
    const ms = Number(duration[1]) * unit;
    // a stream keeps its messages for months: a century back is already all of it
    if (ms <= 100 * 366 * 86_400_000) return new Date(now.getTime() - ms);
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  if (date) {
    const at = new Date(text);
    // a day that the calendar has (2027-02-30 would roll over into March)
    const day = new Date(`${date[1]}-${date[2]}-${date[3]}T00:00:00Z`);
    if (!Number.isNaN(at.getTime()) && day.toISOString().slice(0, 10) === `${date[1]}-${date[2]}-${date[3]}`)
      return at;
  }
  throw new PasserelleError(
    'ERR_CONFIG_INVALID',
    'since must be a date (2027-03-01), a date-time with its offset (2027-03-01T08:00:00Z) or a duration (90d, 12h, 30m).',
    { details: { setting: 'since' } },
  );
}

/** Registers `passerelle dossier trace <dossierId>`. */
export function registerDossier(program: Command): void {
  const dossier = program
    .command('dossier')
    .description("a dossier's traffic on the exchange (meta only), and its erasure");
  dossier
    .command('trace')
    .description("print a dossier's timeline from the EXCHANGE stream: envelopes and receipts, meta only")
    .argument('<dossierId>', 'pseudonymous dossier id')
    .addOption(serverOption())
    .addOption(credentialsOption())
    .option(
      '--since <when>',
      'read only what the stream stored since then: a date (midnight UTC) or a date-time with its offset (2027-03-01, 2027-03-01T08:00:00+01:00), or a duration back from now (90d, 12h, 30m)',
    )
    .option('--json', 'print JSON')
    .action(async (dossierId: string, opts: ServerOptions & { json?: boolean; since?: string }) => {
      const since = opts.since === undefined ? undefined : parseSince(opts.since);
      const trace = await withJetStream(opts, (nc, jsm) =>
        readDossierTrace(nc, jsm, dossierId, since ? { since } : {}),
      );
      if (opts.json) printJson(trace);
      else for (const line of formatDossierTrace(trace)) console.log(line);
      if (trace.messages.length === 0) process.exitCode = 1;
    });
  registerDossierErase(dossier);
  registerDossierReapplyErasures(dossier);
}
