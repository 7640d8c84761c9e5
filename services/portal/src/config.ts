import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import type { Contracts } from '@passerelle/contracts';
import { type StorageKeyring, participantKind } from '@passerelle/directory';
import type { KeyResolver, ParticipantKeys } from '@passerelle/envelope';
import type { ExchangeMetrics, InboxConsumerOptions, Logger } from '@passerelle/exchange';
import type { DoorOptions } from '@passerelle/door';
import { PortalError } from './portal-error.js';

/**
 * The integrators' door of a portal (`@passerelle/door`): integrators are its clients (OAuth 2.0 client
 * credentials), each seeing only the dossiers it filed and their events.
 */
export type PortalDoorSettings = Pick<
  DoorOptions,
  | 'secret'
  | 'publicUrl'
  | 'webhooks'
  | 'tokenLifetimeMs'
  | 'tokenRateLimit'
  | 'idempotencyTtlMs'
  | 'eventMaxAgeMs'
  | 'deliveryLogMaxAgeMs'
  | 'heartbeatMs'
  | 'now'
>;

/** Settings of {@link createPortalService}. */
export interface PortalConfig {
  /** The portal's participant id, `portal-<name>`. */
  participant: string;
  /** The portal's private keys. */
  keys: ParticipantKeys;
  /**
   * The portal's storage keyring (`storage.json` beside its keys): its dossier records and HTTP idempotency
   * records are sealed under it, apart from its signing key, so that rotating either keeps them readable.
   */
  storageKeys: StorageKeyring;
  /**
   * Seal each payload under its dossier's own key (`DossierKeys` over `pex-dossier-keys`), as the services
   * do with their `dossierKeys`, so that `passerelle dossier erase` can make a dossier unreadable. Default false.
   */
  dossierKeys?: boolean;
  /**
   * LEGACY — read records an earlier release sealed under a key derived from the signing key (default
   * true), logging the first such read of each kind; set false once none is left (`passerelle storage
   * reseal`): a stolen signing key reads those records as long as they exist.
   */
  legacyState?: boolean;
  /** Public keys of every participant (a directory client). */
  directory: KeyResolver;
  /** The exchange agreement and schemas. */
  contracts: Contracts;
  /** NATS servers, or `nc` to share a connection. */
  servers?: string | string[];
  nc?: NatsConnection;
  /** On a secured server, with `servers`: the portal's connection settings (what `loadCredentials` returns). */
  connection?: Omit<ConnectionOptions, 'servers'>;
  /** On a secured server where the portal has its own account: where it imports the shared streams' API. */
  exchangeApiPrefix?: string;
  /**
   * Create missing streams, consumers and the portal's stores (default true); false on a secured server,
   * where the operator provisions them (`provisionPortalStores`).
   */
  provision?: boolean;
  /**
   * The integrators' door: its secret (at least 32 random bytes, kept outside NATS) and public URL, and
   * optionally its webhook, token and retention settings. Integrators are the door's clients: `read` to
   * list and read their dossiers and events, `decide` to upload, submit and add to them.
   */
  door: PortalDoorSettings;
  /** Largest document accepted, in bytes (default 10 MiB; the schemas allow at most 50 MiB). */
  maxDocumentBytes?: number;
  /** Logger of the HTTP app and of the exchange runtime (default: pino with redaction). */
  logger?: Logger;
  /** The exchange runtime's metrics (default its own registry), for a process that serves `/metrics`. */
  metrics?: ExchangeMetrics;
  /** Stream and bucket replicas (1 on one server, 3 in a cluster). */
  replicas?: number;
  /** Inbox consumer delivery settings. */
  consumer?: InboxConsumerOptions;
}

/** Largest document size the message schemas accept (`DocumentRef.size`). */
export const SCHEMA_MAX_DOCUMENT_BYTES = 50 * 1024 * 1024;
/** Default document size limit. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;

/** Checks a {@link PortalConfig} at start-up; the error names the bad setting. */
export function assertPortalConfig(config: PortalConfig): void {
  const bad = (setting: string, problem: string): PortalError =>
    new PortalError('ERR_CONFIG_INVALID', `portal setting ${setting} ${problem}`, { details: { setting } });
  let kind: string | undefined;
  try {
    kind = participantKind(config.participant);
  } catch {
    kind = undefined;
  }
  if (kind !== 'portal') throw bad('participant', 'must be a portal id (portal-<name>)');
  if (config.keys.participantId !== config.participant) {
    throw bad('keys', 'belong to another participant');
  }
  if (!config.storageKeys) throw bad('storageKeys', 'is required (the storage keyring, storage.json)');
  if (config.storageKeys.participantId !== config.participant) {
    throw bad('storageKeys', 'belong to another participant');
  }
  if (!config.nc && !config.servers) throw bad('servers', 'is required without nc');
  if (!config.door) throw bad('door', 'is required (its secret and public URL)');
  if (!(config.door.secret instanceof Uint8Array) || config.door.secret.byteLength < 32) {
    throw bad('door.secret', 'must hold at least 32 random bytes');
  }
  if (typeof config.door.publicUrl !== 'string' || !/^https?:\/\/[^/]/.test(config.door.publicUrl)) {
    throw bad('door.publicUrl', 'must be an absolute http(s) URL');
  }
  const max = config.maxDocumentBytes;
  if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > SCHEMA_MAX_DOCUMENT_BYTES)) {
    throw bad('maxDocumentBytes', `must be an integer from 1 to ${SCHEMA_MAX_DOCUMENT_BYTES}`);
  }
}
