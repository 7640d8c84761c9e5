import {
  DiscardPolicy,
  type JetStreamManager,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { PasserelleError } from '@passerelle/errors';

/** Subject roots of DESIGN.md. */
export const Subjects = {
  /** `pex.msg.<type>.<sender>.<recipient>` */
  message: 'pex.msg',
  /** `pex.rcpt.<sender>.<recipient>` */
  receipt: 'pex.rcpt',
  /** `pex.dlq.<participant>` */
  deadLetter: 'pex.dlq',
  /** `pex.ledger.<kind>` */
  ledger: 'pex.ledger',
} as const;

/** Names of the streams Passerelle owns. */
export const StreamNames = {
  exchange: 'EXCHANGE',
  deadLetter: 'DEADLETTER',
  ledger: 'LEDGER',
} as const;

/** Stream codes of the JetStream API that the runtime reacts to. */
export const JetStreamApiCodes = {
  StreamNotFound: 10059,
  StreamNameInUse: 10058,
  ConsumerNotFound: 10014,
} as const;

const DAY_NS = nanos(24 * 60 * 60 * 1000);

/** Options of {@link streamConfigs}. */
export interface StreamLayoutOptions {
  /** Replicas per stream: 1 on one server, 3 in a cluster. */
  replicas?: number;
  /** Age after which exchanged payloads expire (default 90 days). Proofs in LEDGER never expire. */
  exchangeMaxAgeDays?: number;
  /** Window in which a re-published message id is dropped by the server (default 2 minutes). */
  duplicateWindowMs?: number;
}

/**
 * The streams of DESIGN.md ("JetStream layout"). Everything is file storage; LEDGER denies delete and
 * purge, and outlives EXCHANGE (payloads expire per contract, proofs stay).
 */
export function streamConfigs(
  options: StreamLayoutOptions = {},
): (Partial<StreamConfig> & { name: string })[] {
  const replicas = options.replicas ?? 1;
  const common = { storage: StorageType.File, num_replicas: replicas, discard: DiscardPolicy.Old } as const;
  return [
    {
      ...common,
      name: StreamNames.exchange,
      description: 'Addressed envelopes and signed receipts between participants.',
      subjects: [`${Subjects.message}.>`, `${Subjects.receipt}.>`],
      retention: RetentionPolicy.Limits,
      max_age: (options.exchangeMaxAgeDays ?? 90) * DAY_NS,
      duplicate_window: nanos(options.duplicateWindowMs ?? 2 * 60 * 1000),
      // each envelope carries its type's retention from the contract (Nats-TTL); max_age bounds them all
      allow_msg_ttl: true,
    },
    {
      ...common,
      name: StreamNames.deadLetter,
      description: 'Rejected or undeliverable messages, kept raw with their reason.',
      subjects: [`${Subjects.deadLetter}.>`],
      retention: RetentionPolicy.Limits,
      // a dead letter is a copy of a payload: it leaves when the original's retention ends (its Nats-TTL,
      // from the contract), and never later than anything in EXCHANGE
      max_age: (options.exchangeMaxAgeDays ?? 90) * DAY_NS,
      allow_msg_ttl: true,
    },
    {
      ...common,
      name: StreamNames.ledger,
      description:
        'Tamper-evident audit ledger: meta, hashes, seals, receipts, checkpoints. No personal data.',
      subjects: [`${Subjects.ledger}.>`],
      retention: RetentionPolicy.Limits,
      max_age: 0,
      deny_delete: true,
      deny_purge: true,
      // read with direct gets (the auditor, `passerelle audit verify`): no consumer on the ledger
      allow_direct: true,
    },
  ];
}

/**
 * Creates the streams that are missing and checks the ones that exist: an existing stream whose subjects,
 * storage or delete policy differ is reported, never silently rewritten; per-message TTL, which an earlier
 * release did not set, is turned on, and DEADLETTER's age limit is lowered to EXCHANGE's.
 *
 * @example
 * ```ts
 * const jsm = await jetstreamManager(nc, { timeout: 30_000 });
 * await provisionStreams(jsm);
 * ```
 */
export async function provisionStreams(
  jsm: JetStreamManager,
  options: StreamLayoutOptions = {},
): Promise<StreamInfo[]> {
  const infos: StreamInfo[] = [];
  for (const wanted of streamConfigs(options)) {
    const name = wanted.name;
    let existing: StreamInfo | undefined;
    try {
      existing = await jsm.streams.info(name);
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
    }
    if (!existing) {
      infos.push(await jsm.streams.add(wanted));
      continue;
    }
    const have = existing.config;
    const sameSubjects =
      [...(have.subjects ?? [])].sort().join(',') === [...(wanted.subjects ?? [])].sort().join(',');
    if (!sameSubjects || have.storage !== wanted.storage || !!have.deny_delete !== !!wanted.deny_delete) {
      throw new PasserelleError(
        'ERR_STREAM_CONFLICT',
        `Stream ${name} exists with subjects [${(have.subjects ?? []).join(', ')}], storage ${have.storage}, ` +
          `deny_delete ${String(!!have.deny_delete)}; Passerelle expects [${(wanted.subjects ?? []).join(', ')}], ` +
          `storage ${wanted.storage}, deny_delete ${String(!!wanted.deny_delete)}. Fix or remove the stream by hand.`,
        { details: { stream: name } },
      );
    }
    // streams made by earlier releases lack direct gets and per-message TTL, which can be turned on
    // in place (never off); nothing else changes
    const upgrade = {
      ...(wanted.allow_direct && !have.allow_direct ? { allow_direct: true } : {}),
      ...(wanted.allow_msg_ttl && !have.allow_msg_ttl ? { allow_msg_ttl: true } : {}),
      // DEADLETTER kept copies 365 days in earlier releases, longer than the payloads' retention
      ...(name === StreamNames.deadLetter &&
      !!wanted.max_age &&
      (!have.max_age || have.max_age > wanted.max_age)
        ? { max_age: wanted.max_age }
        : {}),
    };
    if (Object.keys(upgrade).length > 0) {
      existing = await jsm.streams.update(name, { ...have, ...upgrade });
    }
    infos.push(existing);
  }
  return infos;
}
