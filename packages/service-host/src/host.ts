import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KV } from '@nats-io/kv';
import { openBucket as openNatsBucket } from '@passerelle/nats';
import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { type Contracts, payloadRetentionMs } from '@passerelle/contracts';
import { type ParticipantKind, type StorageKeyring, participantKind } from '@passerelle/directory';
import {
  DOCUMENTS_BUCKET,
  DecisionArchive,
  type DecisionDocumentRef,
  DirectObjectReader,
  DocumentError,
  type DocumentRef,
  DocumentStore,
  type ObjectSource,
  readDocument,
} from '@passerelle/documents';
import { type KeyResolver, type ParticipantKeys, type PrivateJwk, newMessageId } from '@passerelle/envelope';
import { PasserelleError, isPasserelleError } from '@passerelle/errors';
import {
  type AccountSettings,
  DossierKeys,
  type Exchange,
  type IncomingMessage,
  type InboxConsumerOptions,
  type Logger,
  type Readiness,
  connectExchange,
  createLogger,
  errorSummary,
  serveMetrics,
} from '@passerelle/exchange';
import { ownerApiPrefix } from '@passerelle/exchange/internal';
import {
  type Actor,
  type BodyTable,
  type DossierRecord,
  DossierStore,
  type Effect,
  type Facts,
  type JournalEntry,
  type JsonSchema,
  type Need,
  type PendingMessage,
  type Policy,
  type RecordCipher,
  ProcedureError,
  type StepCommand,
  type StepOutcome,
  availableActions,
  decideStep,
  describeActions,
  isRefusal,
  owedActions,
  stepNeeds,
  toIsoDate,
  workingDaysLeft,
} from '@passerelle/procedure';
import type { InputValidator } from './action-inputs.js';
import { compileTableInputs } from './table-inputs.js';
import { RECORD_PURPOSES, StateCipher, documentSecret, pseudonymKeys } from './at-rest.js';
import type {
  ActOptions,
  BodyService,
  DeadlineRun,
  DossierView,
  ServiceAction,
  StepListener,
  WorkItem,
} from './body-service.js';
import type { ServiceEvent, ServiceEventListener } from './service-event.js';
import { watchCredentialExpiry } from './credential-expiry.js';
import { DossierRecordCipher } from './dossier-record-cipher.js';
import { deadlineMetrics } from './deadline-metrics.js';

/** What is logged of a failure: its catalogue code, if any, and {@link errorSummary} (never its message). */
function failure(err: unknown): { code: string | undefined; err: string } {
  return { code: isPasserelleError(err) ? err.code : undefined, err: errorSummary(err) };
}

/** Whether `value` is a decision document reference (`DocumentRef`) stored under `objectKey`. */
function isRefTo(value: unknown, objectKey: string): value is DocumentRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return (
    r['objectKey'] === objectKey &&
    typeof r['sha256'] === 'string' &&
    typeof r['size'] === 'number' &&
    typeof r['mediaType'] === 'string'
  );
}

/** The reference to the document stored under `objectKey`, wherever it sits in a payload. */
function findDocumentRef(value: unknown, objectKey: string): DocumentRef | undefined {
  if (isRefTo(value, objectKey)) return value;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const v of Object.values(value)) {
    const found = findDocumentRef(v, objectKey);
    if (found) return found;
  }
  return undefined;
}

/** A copy of a payload with every reference to `objectKey` replaced by `ref`. */
function replaceDocumentRef(value: unknown, objectKey: string, ref: DocumentRef): unknown {
  if (isRefTo(value, objectKey)) return ref;
  if (Array.isArray(value)) return value.map((v) => replaceDocumentRef(v, objectKey, ref));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, replaceDocumentRef(v, objectKey, ref)]),
  );
}

/** How the dossier's journal keeps a decided step (the store adds the ids of the messages it sends). */
function journalEntry<S extends DossierRecord>(
  stepId: string,
  command: StepCommand,
  outcome: StepOutcome<S>,
  now: Date,
): Omit<JournalEntry, 'sent'> {
  const common = {
    at: now.toISOString(),
    stepId,
    phase: outcome.state.phase,
    ...(outcome.summary ? { summary: outcome.summary } : {}),
  };
  switch (command.kind) {
    case 'message':
      return {
        ...common,
        kind: 'received',
        type: command.type,
        from: command.sender,
        payload: command.payload,
      };
    case 'action':
      return {
        ...common,
        kind: 'action',
        type: command.action,
        payload: command.input,
        ...(command.actor ? { by: command.actor } : {}),
      };
    case 'deadline':
      return { ...common, kind: 'deadline', type: command.deadline };
  }
}

/** Settings every administration service takes. */
export interface HostedServiceConfig {
  /** Private keys of each participant id this instance hosts (all of the service's kind). */
  participants: readonly ParticipantKeys[];
  /**
   * The storage keyring of each hosted id (`storage.json` beside its keys, `loadStorageKeys`): what its
   * dossier records, register pseudonyms and decision documents are sealed under, apart from its signing
   * key, so that rotating either keeps the other's work. Required, one per hosted id.
   */
  storageKeys: readonly StorageKeyring[];
  /**
   * LEGACY — read records an earlier release sealed under a key derived from the hosted id's signing key
   * (default true), logging the first such read per id and kind; each is sealed under the storage key at
   * its next write, or by `passerelle storage reseal`. Set false once none is left: a stolen signing key
   * reads those records as long as they exist.
   */
  legacyState?: boolean;
  /** Public keys of every participant (a directory client, or an offline directory). */
  directory: KeyResolver;
  /** The exchange agreement and schemas. */
  contracts: Contracts;
  /** NATS servers: each hosted id then gets its own connection (its own credentials in production). */
  servers?: string | string[];
  /** Or one connection shared by every hosted id (tests, one trusted host). */
  nc?: NatsConnection;
  /**
   * Connection settings of each hosted id on a secured server (nkey authenticator, TLS, inbox prefix: what
   * `loadCredentials` returns), used with `servers`.
   */
  connectionFor?: (participant: string) => Omit<ConnectionOptions, 'servers'> | undefined;
  /**
   * On a secured server where each participant has its own account (`loadCredentials(…).accounts`): how
   * each hosted id's account reaches the shared streams and others' documents.
   */
  accountsFor?: (participant: string) => AccountSettings | undefined;
  /**
   * When each hosted id's NATS credentials expire (`loadCredentials(…).expiresAt`): a gauge and, within 30
   * days, a warning in the log (`watchCredentialExpiry`).
   */
  credentialsExpiryFor?: (participant: string) => Date | undefined;
  /** Create missing streams (default true); false on a secured server where the operator provisions them. */
  provision?: boolean;
  /** Inbox consumer delivery settings (tests shorten backoff and ack wait). */
  consumer?: InboxConsumerOptions;
  /** KV bucket of the service's dossier state (default `svc-<service>`). */
  bucket?: string;
  /** Stream and bucket replicas (1 on one server, 3 in a cluster). */
  replicas?: number;
  logger?: Logger;
  /** Called for each {@link ServiceEvent}. */
  onEvent?: ServiceEventListener;
  /**
   * Called once when a hosted id's exchange can no longer work and will not recover by itself (its
   * connection closed for good: {@link Exchange.failure}) while the host was not being closed. The
   * service processes exit then, for their supervisor to start them again.
   */
  onFailure?: (reason: string) => void;
  /** Object Store bucket of the decision documents the service issues (default `pex-decisions`). */
  documentsBucket?: string;
  /** Encrypt the dossier records at rest under each hosted id's storage key (default true). */
  encryptState?: boolean;
  /**
   * Store the decision documents the service issues encrypted (default true): each under a key derived
   * from the hosted id's storage key and the document's hash, carried only by the messages that reference
   * it (see `DecisionArchive.putSealed`). False stores them as they are, readable by whoever reads the bucket.
   */
  encryptDocuments?: boolean;
  /**
   * Seal each payload the hosted ids send and receive, and each decision document, under its dossier's own
   * key (`DossierKeys` over `pex-dossier-keys`), so that `passerelle dossier erase` can make a dossier
   * unreadable everywhere. Default false; every party of a dossier must have it on.
   */
  dossierKeys?: boolean;
  /** Today's instant (default the system clock); decisions are dated with its Brussels calendar date. */
  now?: () => Date;
  /**
   * Read each document a message references before counting it (default true): see
   * {@link ServiceHost.documentReadsBack}. False only where references are placeholders.
   */
  verifyDocuments?: boolean;
  /**
   * How often messages a step decided but could not send (the exchange or the decisions store unavailable)
   * are sent again, in ms (default 10 000). They stay in the dossier's outbox meanwhile, and a restarted
   * service sends what an earlier run left.
   */
  outboxRetryMs?: number;
  /**
   * Serve `GET /metrics` (Prometheus) on this loopback port, every hosted id's exchange metrics in one
   * exposition, told apart by their `participant` label, with the probes `GET /healthz` (liveness) and
   * `GET /readyz` (every hosted id's readiness: 200 or 503) (0 picks a free port; default: not served).
   */
  metricsPort?: number;
}

/** A read a service provides for its table's `lookup` needs (the commune's register), by name. */
export type Lookup = (participant: string, arg: string) => Promise<unknown>;
/** A change a service runs for its table's effects, by kind; idempotent (a step may be decided again). */
export type EffectRunner = (participant: string, effect: Effect) => Promise<void>;

/** What {@link ServiceHost.open} takes: the shared settings, the body's table and its service's own parts. */
export interface ServiceHostOptions<S extends DossierRecord, E> extends HostedServiceConfig {
  /** Service name (`commune`): the default bucket `svc-<service>`, logs and events. */
  service: string;
  /** The participant kind every hosted id must be. */
  kind: ParticipantKind;
  /** The body's steps: by message, by person's action, by deadline. */
  table: BodyTable<S, E>;
  /**
   * Automatic decisions of what a person must otherwise decide, by action name. None by default: the
   * dossier waits in the worklist for a case officer's action.
   */
  policy?: Policy<S>;
  /** The reads the table's `lookup` needs name. */
  lookups?: Readonly<Record<string, Lookup>>;
  /** The runners of the table's effects, by kind. */
  effects?: Readonly<Record<string, EffectRunner>>;
}

/** The pseudonymous form of a client or officer id: no spaces, no `@` (never a name or an address). */
const ACTOR_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
/** A step id the back office gives (an idempotency key). */
const STEP_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** A dossier id, as the envelope's meta takes it. */
const DOSSIER_ID = /^[A-Za-z0-9-]{8,64}$/;

function assertActor(actor: unknown): asserts actor is Actor {
  const a = actor as Record<string, unknown> | null;
  const ok =
    typeof a === 'object' &&
    a !== null &&
    Object.keys(a).every((k) => k === 'clientId' || k === 'officerId') &&
    typeof a.clientId === 'string' &&
    ACTOR_ID.test(a.clientId) &&
    typeof a.officerId === 'string' &&
    ACTOR_ID.test(a.officerId);
  if (!ok) {
    throw new ProcedureError(
      'ERR_ACTOR_INVALID',
      "An action needs who takes it: { clientId, officerId }, pseudonymous ids (letters, digits, '.', '_', ':', '-').",
      { details: { field: 'actor' } },
    );
  }
}

/** The body's steps as the host runs them: the table, its resolved inputs and the service's parts. */
interface HostedSteps<S extends DossierRecord, E> {
  table: BodyTable<S, E>;
  policy: Policy<S> | undefined;
  lookups: Readonly<Record<string, Lookup>>;
  effects: Readonly<Record<string, EffectRunner>>;
  /** Each action's input schema, resolved (see {@link compileTableInputs}). */
  inputs: ReadonlyMap<string, JsonSchema>;
  validators: ReadonlyMap<string, InputValidator>;
}

/**
 * Runs one body's service for several participant ids of one kind (e.g. a commune service for several
 * communes): one exchange per hosted id (its own keys, consumer and receipts), one KV bucket of dossier
 * state keyed by participant and dossier, and one generic handler for every step of the body's table —
 * message, person's action or deadline: read what the step needs, decide, evolve, write the state with the
 * messages decided (the transactional outbox), send them.
 */
export class ServiceHost<S extends DossierRecord, E = unknown> {
  private constructor(
    private readonly steps: HostedSteps<S, E>,
    readonly service: string,
    private readonly exchanges: ReadonlyMap<string, Exchange>,
    readonly store: DossierStore<S>,
    readonly logger: Logger,
    private readonly listener: ServiceEventListener | undefined,
    readonly now: () => Date,
    private readonly documentsBucket: string,
    private readonly replicas: number,
    private readonly provision: boolean,
    private readonly verifyDocuments: boolean,
    private readonly outboxRetryMs: number,
    /** Per hosted id, the secret its decision documents' keys derive from; none: stored as they are. */
    private readonly documentSecrets: ReadonlyMap<string, Buffer>,
    private readonly atRest: AtRest,
    /** How long `pex-decisions` keeps a document: the contract's longest retention. */
    private readonly documentsMaxAgeMs: number,
    /** Per hosted id, its dossiers' keys (`dossierKeys: true`): decision documents are keyed from them. */
    private readonly dossierKeys: ReadonlyMap<string, DossierKeys>,
  ) {}

  /**
   * The sealing of a hosted id's records of one kind at rest (`dossiers`, `register`…) under its storage
   * keyring, or undefined with `encryptState: false`. Reads through the legacy path are logged once per id
   * and kind.
   */
  stateCipher(participant: string, purpose: string): StateCipher | undefined {
    return this.atRest.cipher(participant, purpose);
  }

  /**
   * The dossier keys of a hosted id, when `dossierKeys` is on: for what a body keeps of several dossiers
   * in one record (a register of stays), each part sealed under its own dossier's key.
   */
  dossierKeysOf(participant: string): DossierKeys | undefined {
    return this.dossierKeys.get(participant);
  }

  /**
   * The cipher of a register a body files by holder (under a pseudonym), whose records each come from one
   * dossier (`dossierOf`): under that dossier's key too when dossier keys are on, so that erasing the dossier
   * makes its register record unreadable (`ERR_DOSSIER_ERASED`) like its dossier record; under the storage
   * key only otherwise.
   */
  holderRecordCipher(
    participant: string,
    purpose: string,
    dossierOf: (value: unknown) => string | undefined,
  ): RecordCipher | undefined {
    const storage = this.atRest.cipher(participant, purpose);
    const own = this.dossierKeys.get(participant);
    return own ? new DossierRecordCipher(storage, own, { dossierOf }) : storage;
  }

  /** The pseudonyms of a personal identifier for a hosted id, the current one first (see `pseudonymKeys`). */
  pseudonyms(participant: string, purpose: string, value: string): string[] {
    const ring = this.atRest.rings.get(participant);
    if (!ring) throw this.notHosted(participant);
    return pseudonymKeys(ring, purpose, value, this.atRest.legacySigning.get(participant));
  }

  private notHosted(participant: string): ProcedureError {
    return new ProcedureError(
      'ERR_NOT_HOSTED',
      `This ${this.service} instance does not host ${participant.slice(0, 64)}.`,
      { details: { participant: participant.slice(0, 64) } },
    );
  }

  /** Dossiers whose decided messages are not all sent yet, by `<participant>.<dossierId>`, and when to retry. */
  private readonly unsent = new Map<
    string,
    { participant: string; dossierId: string; attempts: number; nextAt: number }
  >();
  /** Hosted ids whose outboxes are still to be scanned for what an earlier run left. */
  private readonly toScan = new Set<string>();
  private relayTimer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  /** Erased dossiers the scans met, by `<participant>.<dossierId>`: each logged once per process. */
  private readonly erasedSeen = new Set<string>();

  /** Told by a scan of a dossier erased (`passerelle dossier erase`): skipped, nothing is owed on it. */
  private erasedIn(participant: string): (dossierId: string) => void {
    return (dossierId) => {
      const key = `${participant}.${dossierId}`;
      this.unsent.delete(key);
      if (this.erasedSeen.has(key)) return;
      this.erasedSeen.add(key);
      this.logger.info(
        { participant, dossierId },
        'an erased dossier: skipped by the scans, nothing is owed on it',
      );
    };
  }
  private closing = false;
  /** The `/metrics`, `/healthz` and `/readyz` endpoints, when {@link HostedServiceConfig.metricsPort} is set. */
  metricsServer: { port: number; close(): Promise<void> } | undefined;

  /** Notes a dossier whose messages stay in its outbox (the store's `onUnsent`); the relay sends them. */
  private keepUnsent(participant: string, dossierId: string, err: unknown): void {
    const key = `${participant}.${dossierId}`;
    if (this.unsent.has(key)) return;
    this.logger.warn(
      { participant, dossierId, ...failure(err) },
      'decided messages not sent yet: kept in the outbox, sent again shortly',
    );
    this.emit({ participant, dossierId, kind: 'notice', detail: 'messages kept in the outbox' });
    this.unsent.set(key, { participant, dossierId, attempts: 0, nextAt: Date.now() + this.outboxRetryMs });
  }

  /**
   * One round of the relay, never two at once: the outboxes still to scan, then every kept dossier that is
   * due. A dossier that fails again waits twice as long as before (up to 5 minutes), logged each time.
   */
  private relayRound(): Promise<void> {
    if (this.round || this.closing) return this.round ?? Promise.resolve();
    this.round = (async () => {
      for (const participant of [...this.toScan]) {
        if (this.closing) return;
        try {
          for await (const u of this.store.unsent(
            participant,
            (dossierId, err) =>
              this.logger.warn(
                { participant, dossierId, err: errorSummary(err) },
                'a dossier record does not read: its outbox is not scanned',
              ),
            this.erasedIn(participant),
          )) {
            const key = `${u.participant}.${u.dossierId}`;
            if (!this.unsent.has(key)) this.unsent.set(key, { ...u, attempts: 0, nextAt: 0 });
          }
          this.toScan.delete(participant);
        } catch (err) {
          this.logger.warn(
            { participant, err: errorSummary(err) },
            'outbox scan failed: tried again next round',
          );
        }
      }
      for (const [key, entry] of [...this.unsent]) {
        if (this.closing) return;
        if (entry.nextAt > Date.now()) continue;
        const { participant, dossierId } = entry;
        try {
          await this.store.flush(participant, dossierId, this.send);
          this.unsent.delete(key);
          this.logger.info({ participant, dossierId, attempts: entry.attempts + 1 }, 'kept messages sent');
        } catch (err) {
          // erased meanwhile: what it still had to send can never be sealed, nor is it owed
          if (isPasserelleError(err, 'ERR_DOSSIER_ERASED')) {
            this.erasedIn(participant)(dossierId);
            continue;
          }
          entry.attempts += 1;
          entry.nextAt =
            Date.now() + Math.min(this.outboxRetryMs * 2 ** Math.min(entry.attempts, 10), 300_000);
          this.logger.warn(
            { participant, dossierId, attempts: entry.attempts, ...failure(err) },
            'kept messages still not sent',
          );
        }
      }
    })().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Starts the relay: what earlier runs left in the hosted ids' outboxes, then a round every interval. */
  private startRelay(): void {
    if (this.relayTimer || this.closing) return;
    for (const participant of this.exchanges.keys()) this.toScan.add(participant);
    this.relayTimer = setInterval(() => void this.relayRound(), this.outboxRetryMs);
    this.relayTimer.unref();
    void this.relayRound();
  }

  /** Stops the hosted ids' credential expiry watches. */
  private readonly stopWatches: (() => void)[] = [];

  /** Each hosted id's account settings on a server where it has its own account (none: one shared account). */
  private accountsFor: (participant: string) => AccountSettings | undefined = () => undefined;
  /** Readers of other participants' stores with direct gets, by `<participant>/<owner>/<bucket>`. */
  private readonly foreign = new Map<string, Promise<ObjectSource>>();

  /** A reader, on `participant`'s connection, of `owner`'s store `bucket` in `owner`'s own account. */
  private foreignStore(participant: string, owner: string, bucket: string): Promise<ObjectSource> {
    return this.opened(this.foreign, `${participant}/${owner}/${bucket}`, (nc) =>
      DirectObjectReader.open(nc, bucket, ownerApiPrefix(owner)),
    );
  }

  /** One reader of the uploaded documents per hosted id, on that id's own connection (credentials). */
  private readonly uploads = new Map<string, Promise<DocumentStore>>();
  /** One handle on the decisions store per hosted id, on that id's own connection. */
  private readonly archives = new Map<string, Promise<DecisionArchive>>();

  /** What `open` gives for `participant`, opened once on its connection; a failed open is tried again next time. */
  private opened<T>(
    cache: Map<string, Promise<T>>,
    participant: string,
    open: (nc: NatsConnection) => Promise<T>,
  ): Promise<T> {
    let store = cache.get(participant);
    if (!store) {
      store = open(this.exchange(participant.split('/')[0]!).nc);
      store.catch(() => cache.delete(participant));
      cache.set(participant, store);
    }
    return store;
  }

  /**
   * Whether a document a message references reads back from `pex-documents` for `participant`: present,
   * decrypted with the reference's key, size and SHA-256 as referenced. `false` for one that does not,
   * logged with the dossier and the slot, never the reference (its key is a read capability). Throws
   * `ERR_NOT_PROVISIONED` when the store cannot be opened (the message is dead-lettered with that reason, to
   * replay once the operator has fixed it) and passes transient errors on (the message is retried). Always
   * true with `verifyDocuments: false`.
   */
  async documentReadsBack(
    participant: string,
    ref: DocumentRef,
    about: { dossierId: string; slot: string },
  ): Promise<boolean> {
    if (!this.verifyDocuments) return true;
    try {
      const accounts = this.accountsFor(participant);
      if (accounts) {
        // the uploads live in each portal's own account: the document is in one of those this id may read
        await this.readFromAny(participant, DOCUMENTS_BUCKET, accounts, ref);
        return true;
      }
      const store = this.opened(this.uploads, participant, (nc) => DocumentStore.open(nc, { create: false }));
      await (await store).read(ref);
      return true;
    } catch (err) {
      if (!isPasserelleError(err, 'ERR_DOCUMENT_INTEGRITY')) throw err;
      this.logger.warn(
        { participant, dossierId: about.dossierId, slot: about.slot, code: err.code },
        'a referenced document does not read back: not counted',
      );
      return false;
    }
  }

  /**
   * Checks a decision document a message references before the service acts on the decision (a consular
   * post issuing a visa on an annex 46, a commune renewing a permit on one): read back from the decisions
   * store on `participant`'s connection, the referenced bytes, stating the annex or document kind, the
   * dossier, the issuer (the message's sender) and, where given, the period and outcome the message states. Throws
   * `ERR_DECISION_DOCUMENT_MISSING` (retryable: the message is redelivered, then dead-lettered to replay once
   * the issuer has stored it), `ERR_DOCUMENT_INTEGRITY` (other bytes than referenced) or
   * `ERR_DECISION_DOCUMENT_MISMATCH` (details name the fields that differ). Does nothing with
   * `verifyDocuments: false`.
   */
  async checkDecisionDocument(
    participant: string,
    ref: DecisionDocumentRef,
    expected: {
      document: string;
      dossierId: string;
      issuer: string;
      period?: { from: string; to: string };
      /** The outcome the document states (`granted`, `refused:<reason>`, `ended:<reason>`, `complete`). */
      outcome?: string;
    },
  ): Promise<void> {
    if (!this.verifyDocuments) return;
    const archive = await this.opened(this.archives, participant, (nc) => this.openArchive(nc));
    // on a secured server every issuer keeps its decisions in its own account, read with direct gets
    const bytes =
      this.accountsFor(participant) && expected.issuer !== participant
        ? await archive.read(ref, await this.foreignStore(participant, expected.issuer, this.documentsBucket))
        : await archive.read(ref);
    let stated: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        stated = parsed as Record<string, unknown>;
      }
    } catch {
      // not a decision document: every expected fact differs below
    }
    const fields = Object.entries(expected)
      .filter(([field, value]) => value !== undefined && !isDeepStrictEqual(stated[field], value))
      .map(([field]) => field);
    if (fields.length > 0) {
      throw new DocumentError(
        'ERR_DECISION_DOCUMENT_MISMATCH',
        `The decision document of dossier ${expected.dossierId} states another ${fields.join(', ')} than its message.`,
        { details: { dossierId: expected.dossierId, fields } },
      );
    }
  }

  /** Reads `ref` from the first of the stores named `bucket` that `participant`'s account may read. */
  private async readFromAny(
    participant: string,
    bucket: string,
    accounts: AccountSettings,
    ref: DocumentRef,
  ): Promise<Uint8Array> {
    const owners = accounts.objectStoreOwners[bucket] ?? [];
    let last: unknown = new DocumentError('ERR_DOCUMENT_INTEGRITY', `No ${bucket} store is readable here.`);
    for (const owner of owners) {
      try {
        return await readDocument(ref, await this.foreignStore(participant, owner, bucket));
      } catch (err) {
        if (!isPasserelleError(err, 'ERR_DOCUMENT_INTEGRITY')) throw err;
        last = err;
      }
    }
    throw last;
  }

  private openArchive(nc: NatsConnection): Promise<DecisionArchive> {
    return DecisionArchive.open(nc, {
      bucket: this.documentsBucket,
      create: this.provision,
      replicas: this.replicas,
      maxAgeMs: this.documentsMaxAgeMs,
    });
  }

  /**
   * Checks the options, resolves and compiles the table's action inputs, connects every hosted id and opens
   * the bucket; call {@link ServiceHost.start} once the service is ready to handle messages.
   *
   * @example
   * ```ts
   * const host = await ServiceHost.open({ ...config, service: 'consular-post', kind: 'consular-post', table: postTable() });
   * host.start();
   * ```
   */
  static async open<S extends DossierRecord, E>(
    options: ServiceHostOptions<S, E>,
  ): Promise<ServiceHost<S, E>> {
    const { service, kind, ...config } = options;
    assertHostedConfig(service, kind, config);
    const steps = hostedSteps(options);
    const logger = config.logger ?? createLogger(service);
    const exchanges = new Map<string, Exchange>();
    const dossierKeys = new Map<string, DossierKeys>();
    try {
      for (const keys of config.participants) {
        const { exchange, sealer } = await connectHosted(config, keys, logger);
        if (sealer) dossierKeys.set(keys.participantId, sealer);
        exchanges.set(keys.participantId, exchange);
      }
      const first = exchanges.values().next().value as Exchange;
      const atRest = atRestOf(config, logger);
      const ciphers = new Map(
        config.participants.map((k) => {
          const storage = atRest.cipher(k.participantId, RECORD_PURPOSES.dossiers);
          const own = dossierKeys.get(k.participantId);
          // under the dossier's key too when there is one: erasing the dossier makes its records unreadable
          return [k.participantId, own ? new DossierRecordCipher(storage, own) : storage] as const;
        }),
      );
      const kv = await openBucket(first.nc, config.bucket ?? `svc-${service}`, config);
      // the store reports a step written but not all sent; the host (built next) keeps and relays it
      let keepUnsent: (participant: string, dossierId: string, err: unknown) => void = () => undefined;
      const host = new ServiceHost<S, E>(
        steps,
        service,
        exchanges,
        hostStore<S>(kv, exchanges, ciphers, (participant, dossierId, err) =>
          keepUnsent(participant, dossierId, err),
        ),
        logger,
        config.onEvent,
        config.now ?? (() => new Date()),
        config.documentsBucket ?? 'pex-decisions',
        config.replicas ?? 1,
        config.provision !== false,
        config.verifyDocuments !== false,
        config.outboxRetryMs ?? 10_000,
        new Map(
          config.encryptDocuments === false
            ? []
            : [...atRest.rings].map(([participant, ring]) => [participant, documentSecret(ring)] as const),
        ),
        atRest,
        payloadRetentionMs(config.contracts),
        dossierKeys,
      );
      keepUnsent = (participant, dossierId, err) => host.keepUnsent(participant, dossierId, err);
      await host.attach(config);
      return host;
    } catch (err) {
      await Promise.all([...exchanges.values()].map((e) => e.close().catch(() => undefined)));
      throw err;
    }
  }

  /**
   * What the host does beside handling steps, once built: reading others' documents through its accounts,
   * watching the credentials' expiry, serving the probes, and reporting each exchange's failure and
   * rejections.
   */
  private async attach(config: HostedServiceConfig): Promise<void> {
    const { exchanges, logger } = this;
    if (config.accountsFor) this.accountsFor = config.accountsFor;
    for (const [participant, exchange] of exchanges) {
      const expiresAt = config.credentialsExpiryFor?.(participant);
      if (expiresAt) {
        this.stopWatches.push(
          watchCredentialExpiry({ registry: exchange.metrics.registry, logger, participant, expiresAt }),
        );
      }
    }
    if (config.metricsPort !== undefined) {
      const served = await serveMetrics(
        [...exchanges.values()].map((e) => e.metrics.registry),
        config.metricsPort,
        '127.0.0.1',
        { readiness: () => this.readiness(), failure: () => this.failure() },
      );
      this.metricsServer = served;
      logger.info({ port: served.port }, 'metrics on /metrics, probes on /healthz and /readyz');
    }
    let failed = false;
    for (const [participant, exchange] of exchanges) {
      // its connection closed for good (reconnection attempts spent) or a pull loop ended: say so once,
      // rather than run on without receiving anything (the exchange logs it)
      exchange.onFailure((reason) => {
        if (this.closing || failed) return;
        failed = true;
        config.onFailure?.(`${participant}: ${reason}`);
      });
    }
    for (const [participant, exchange] of exchanges) {
      exchange.onRejection((r) =>
        this.emit({
          participant,
          kind: 'rejected',
          code: r.code,
          detail: r.reason,
          type: r.subject.split('.')[2],
          peer: r.subject.split('.')[3],
        }),
      );
    }
  }

  /** The hosted participant ids. */
  get participants(): string[] {
    return [...this.exchanges.keys()];
  }

  /** The exchange of a hosted id; ERR_NOT_HOSTED otherwise. */
  exchange(participant: string): Exchange {
    const exchange = this.exchanges.get(participant);
    if (!exchange) throw this.notHosted(participant);
    return exchange;
  }

  /** The first hosted id's {@link Exchange.failure}, naming the id, as `/healthz` serves it. */
  failure(): string | undefined {
    for (const [participant, exchange] of this.exchanges) {
      const failure = exchange.failure();
      if (failure) return `${participant}: ${failure}`;
    }
    return undefined;
  }

  /** Each hosted id's {@link Exchange.readiness}, as `/readyz` serves it. */
  readiness(timeoutMs?: number): Promise<Readiness[]> {
    return Promise.all([...this.exchanges.values()].map((e) => e.readiness(timeoutMs)));
  }

  /** Starts handling every hosted id's messages, each through the table's step for its type. */
  start(): void {
    for (const [participant, exchange] of this.exchanges) {
      const handlers = Object.fromEntries(
        Object.keys(this.steps.table.messages).map((type) => [
          type,
          async (m: IncomingMessage) => {
            const command: StepCommand = { kind: 'message', type, payload: m.payload, sender: m.meta.sender };
            await this.handle(participant, m.meta.dossierId, m.meta.id, command, {
              causationId: m.meta.id,
              correlationId: m.meta.correlationId,
            });
            this.emit({
              participant,
              dossierId: m.meta.dossierId,
              kind: 'received',
              type,
              peer: m.meta.sender,
            });
          },
        ]),
      );
      exchange.subscribe(handlers);
    }
    this.startRelay();
  }

  /**
   * The one handler of every step: within the dossier store's compare-and-set (a step id applied once),
   * checks the step against the dossier's phase, reads what it needs, decides it with the table (and the
   * policy's automatic actions), runs its effects, writes the state with the messages decided, sends them,
   * then reports its notices. A refusal is thrown with its code; nothing of a refused step is written.
   */
  private async handle(
    participant: string,
    dossierId: string,
    stepId: string,
    command: StepCommand,
    options: { causationId: string | null; correlationId?: string; today?: string },
  ): Promise<{ state: S; outcome: StepOutcome<S> | undefined }> {
    this.exchange(participant);
    const { table, policy } = this.steps;
    const today = options.today ?? toIsoDate(this.now());
    let outcome: StepOutcome<S> | undefined;
    let journal: Omit<JournalEntry, 'sent'> | undefined;
    const state = await this.store.apply(
      participant,
      dossierId,
      stepId,
      async (current) => {
        const ctx = { participant, dossierId, today, causationId: options.causationId };
        const needs = stepNeeds(table, current, command, ctx);
        if (isRefusal(needs)) throw needs.refusal;
        const facts = await this.read(participant, dossierId, needs);
        const decided = decideStep(table, current, command, ctx, facts, policy);
        if (isRefusal(decided)) throw decided.refusal;
        outcome = decided;
        if (!decided.decided) return { state: current! };
        for (const effect of decided.effects) await this.runEffect(participant, effect);
        journal = journalEntry(stepId, command, decided, this.now());
        return { state: decided.state, send: decided.send, journal };
      },
      this.send,
      options.correlationId,
    );
    if (outcome?.decided) {
      this.report(participant, dossierId, command, outcome);
      if (journal) this.tellStep(participant, dossierId, journal, outcome);
    }
    return { state, outcome };
  }

  /** Reads a step's needs: documents read back, decision documents checked, the service's lookups. */
  private async read(participant: string, dossierId: string, needs: readonly Need[]): Promise<Facts> {
    const facts: Record<string, unknown> = {};
    for (const need of needs) {
      switch (need.kind) {
        case 'document-reads-back':
          facts[need.key] = await this.documentReadsBack(participant, need.ref, {
            dossierId,
            slot: need.slot,
          });
          break;
        case 'decision-document':
          await this.checkDecisionDocument(participant, need.ref, need.expected);
          break;
        case 'lookup': {
          const lookup = Object.hasOwn(this.steps.lookups, need.lookup)
            ? this.steps.lookups[need.lookup]
            : undefined;
          if (!lookup)
            throw new Error(`${this.service}: the table needs lookup ${need.lookup}, which is not provided`);
          facts[need.key] = await lookup(participant, need.arg);
          break;
        }
      }
    }
    return facts;
  }

  private async runEffect(participant: string, effect: Effect): Promise<void> {
    const run = Object.hasOwn(this.steps.effects, effect.kind) ? this.steps.effects[effect.kind] : undefined;
    if (!run)
      throw new Error(`${this.service}: the table decides effect ${effect.kind}, which has no runner`);
    await run(participant, effect);
  }

  /** Reports what a decided step says: its notices (deadlines logged too), and a person's action taken. */
  private report(
    participant: string,
    dossierId: string,
    command: StepCommand,
    outcome: StepOutcome<S>,
  ): void {
    for (const n of outcome.notices) {
      if (n.kind === 'deadline') {
        this.logger.warn({ participant, dossierId, type: n.type }, `legal deadline: ${n.type}`);
        deadlineMetrics(this.exchange(participant).metrics.registry).overruns.inc({ deadline: n.type });
      }
      this.emit({
        participant,
        dossierId,
        kind: n.kind,
        type: n.type,
        ...(n.detail ? { detail: n.detail } : {}),
      });
    }
    if (command.kind === 'action') {
      this.emit({
        participant,
        dossierId,
        kind: 'notice',
        type: command.action,
        ...(outcome.summary ? { detail: outcome.summary } : {}),
      });
    }
  }

  private readonly stepListeners = new Set<StepListener>();

  /** Calls `listener` after each step decided here (not for a redelivered one); returns its removal. */
  onStep(listener: StepListener): () => void {
    this.stepListeners.add(listener);
    return () => this.stepListeners.delete(listener);
  }

  private tellStep(
    participant: string,
    dossierId: string,
    entry: Omit<JournalEntry, 'sent'>,
    outcome: StepOutcome<S>,
  ): void {
    const sent = outcome.send.map((m) => ({ type: m.type, ...(m.to ? { to: m.to } : {}) }));
    for (const listener of this.stepListeners) {
      try {
        listener({ participant, dossierId, entry: { ...entry, ...(sent.length ? { sent } : {}) } });
      } catch (err) {
        this.logger.warn({ err: errorSummary(err) }, 'step listener failed');
      }
    }
  }

  /** A dossier as a hosted id keeps it: its state and its journal (payloads decrypted), or undefined. */
  async record(participant: string, dossierId: string): Promise<DossierView<S> | undefined> {
    this.exchange(participant);
    const stored = await this.store.read(participant, dossierId);
    return stored ? { state: stored.state, journal: stored.journal ?? [] } : undefined;
  }

  /**
   * The bytes of a document a dossier's message referenced, read for `participant` and decrypted: an
   * uploaded document from `pex-documents`, or a decision document (`decision: true`) from the decisions
   * store of its issuer. Integrity is checked before anything is returned (`ERR_DOCUMENT_INTEGRITY`).
   */
  async readDocument(
    participant: string,
    ref: DocumentRef,
    from: { issuer: string; decision: boolean },
  ): Promise<Uint8Array> {
    this.exchange(participant);
    const accounts = this.accountsFor(participant);
    if (from.decision) {
      const archive = await this.opened(this.archives, participant, (nc) => this.openArchive(nc));
      return accounts && from.issuer !== participant
        ? archive.read(ref, await this.foreignStore(participant, from.issuer, this.documentsBucket))
        : archive.read(ref);
    }
    if (accounts) return this.readFromAny(participant, DOCUMENTS_BUCKET, accounts, ref);
    const store = this.opened(this.uploads, participant, (nc) => DocumentStore.open(nc, { create: false }));
    return (await store).read(ref);
  }

  /** Every action of the body: name, title, resolved input schema, phases allowed, messages sent. */
  actions(): ServiceAction[] {
    return describeActions(this.steps.table).map((a) => ({ ...a, input: this.steps.inputs.get(a.name)! }));
  }

  /** The actions a dossier's phase accepts now. */
  async available(participant: string, dossierId: string): Promise<string[]> {
    this.exchange(participant);
    return availableActions(this.steps.table, await this.store.get(participant, dossierId), dossierId);
  }

  /**
   * A case officer's action: the hosted id, the action, the dossier id, who takes it and the input are
   * checked first (ERR_NOT_HOSTED, ERR_UNKNOWN_ACTION, ERR_ACTION_INPUT_INVALID, ERR_ACTOR_INVALID), then the
   * step is handled like any other (its refusal thrown with its code). Returns the dossier's state.
   */
  async act(
    participant: string,
    dossierId: string,
    action: string,
    input: unknown,
    actor: Actor,
    options: ActOptions = {},
  ): Promise<S> {
    this.exchange(participant);
    const validate = this.steps.validators.get(action);
    if (!Object.hasOwn(this.steps.table.actions, action) || !validate) {
      throw new ProcedureError(
        'ERR_UNKNOWN_ACTION',
        `No action ${action.slice(0, 64)} at the ${this.service}.`,
        {
          details: { action: action.slice(0, 64) },
        },
      );
    }
    const malformed = (field: string): ProcedureError =>
      new ProcedureError('ERR_ACTION_INPUT_INVALID', `The ${field} of ${action} is malformed.`, {
        details: { action, field },
      });
    if (!DOSSIER_ID.test(dossierId)) throw malformed('dossier id');
    if (options.stepId !== undefined && !STEP_ID.test(options.stepId)) throw malformed('step id');
    assertActor(actor);
    validate(input);
    const stepId = `${action}:${options.stepId ?? randomUUID()}`;
    const command: StepCommand = { kind: 'action', action, input, actor, stepId };
    return (await this.handle(participant, dossierId, stepId, command, { causationId: null })).state;
  }

  /**
   * Takes the deadline steps due by `at` (default now) over the hosted ids' dossiers (all, or those named):
   * each step once a day per phase (its step id), a failure logged and tried again at the next scan.
   */
  async checkDeadlines(
    at: Date = this.now(),
    options: { dossierIds?: readonly string[] } = {},
  ): Promise<DeadlineRun[]> {
    const today = toIsoDate(at);
    const runs: DeadlineRun[] = [];
    for (const participant of this.participants) {
      for await (const listed of this.store.list(participant, this.erasedIn(participant))) {
        const { dossierId } = listed;
        if (options.dossierIds && !options.dossierIds.includes(dossierId)) continue;
        let state = listed.state;
        for (const [name, step] of Object.entries(this.steps.table.deadlines)) {
          if (!step.due(state, { participant, dossierId, today, causationId: null })) continue;
          const done = await this.scanStep(participant, dossierId, () =>
            this.handle(
              participant,
              dossierId,
              `${name}:${today}:${state.phase}`,
              { kind: 'deadline', deadline: name },
              {
                causationId: null,
                today,
              },
            ),
          );
          if (!done) continue;
          if (done.outcome?.decided) {
            const deadline = step.deadline(state);
            runs.push({
              participant,
              dossierId,
              step: name,
              ...(deadline ? { deadline } : {}),
              phase: done.state.phase,
            });
          }
          state = done.state;
        }
      }
    }
    await this.countOverdue(at);
    return runs;
  }

  /** Sets each hosted id's `pex_worklist_overdue` from its worklist as of `at`. */
  private async countOverdue(at: Date): Promise<void> {
    const items = await this.worklist({ at });
    for (const participant of this.participants) {
      const gauge = deadlineMetrics(this.exchange(participant).metrics.registry).overdue;
      gauge.reset();
      for (const action of Object.keys(this.steps.table.actions)) gauge.set({ action }, 0);
      for (const item of items) {
        if (item.participant === participant && (item.workingDaysLeft ?? 0) < 0)
          gauge.inc({ action: item.action });
      }
    }
  }

  /**
   * The actions the hosted ids (or one) owe their dossiers as of `at` (default now), with each legal
   * deadline and the working days left: overdue first, those without a deadline last.
   */
  async worklist(options: { participant?: string; at?: Date } = {}): Promise<WorkItem[]> {
    const today = toIsoDate(options.at ?? this.now());
    const participants = options.participant ? [options.participant] : this.participants;
    const items: WorkItem[] = [];
    for (const participant of participants) {
      this.exchange(participant);
      for await (const { dossierId, state } of this.store.list(participant, this.erasedIn(participant))) {
        for (const owed of owedActions(this.steps.table, state)) {
          items.push({
            participant,
            dossierId,
            phase: state.phase,
            action: owed.action,
            ...(owed.deadline
              ? { deadline: owed.deadline, workingDaysLeft: workingDaysLeft(today, owed.deadline) }
              : {}),
          });
        }
      }
    }
    const rank = (i: WorkItem): number => i.workingDaysLeft ?? Number.POSITIVE_INFINITY;
    return items.sort((a, b) => rank(a) - rank(b) || a.dossierId.localeCompare(b.dossierId));
  }

  /** The generic service a factory returns, over this host. */
  body(): BodyService<S> {
    return {
      service: this.service,
      participants: this.participants,
      actions: () => this.actions(),
      dossier: (participant, dossierId) => {
        this.exchange(participant);
        return this.store.get(participant, dossierId);
      },
      record: (participant, dossierId) => this.record(participant, dossierId),
      readDocument: (participant, ref, from) => this.readDocument(participant, ref, from),
      onStep: (listener) => this.onStep(listener),
      connection: () => this.exchange(this.participants[0]!).nc,
      available: (participant, dossierId) => this.available(participant, dossierId),
      worklist: (options) => this.worklist(options),
      act: (participant, dossierId, action, input, actor, options) =>
        this.act(participant, dossierId, action, input, actor, options),
      checkDeadlines: (at, options) => this.checkDeadlines(at, options),
      close: () => this.close(),
    };
  }

  /** Sends a pending message of a dossier for a hosted id (the store's outbox calls it). */
  readonly send = async (participant: string, dossierId: string, message: PendingMessage): Promise<void> => {
    let payload = message.payload;
    if (message.documents?.length) {
      // Before the message: its recipients read the document back before they act on the decision. A store
      // that fails leaves the message in the dossier's outbox, sent once the document is stored.
      const archive = await this.opened(this.archives, participant, (nc) => this.openArchive(nc));
      const ownKeys = this.dossierKeys.get(participant);
      // under the dossier's key when there is one: erasing the dossier makes its decision documents unreadable
      const secret =
        ownKeys && this.documentSecrets.has(participant)
          ? await ownKeys.documentSecret(dossierId)
          : this.documentSecrets.get(participant);
      for (const d of message.documents) {
        const bytes = Buffer.from(d.base64, 'base64');
        const ref = secret ? findDocumentRef(payload, d.objectKey) : undefined;
        if (!secret || !ref) {
          if (secret) {
            // a rule handed over a document its message does not reference: kept, but readable
            this.logger.warn(
              { participant, dossierId, type: message.type },
              'a decision document its message does not reference is stored unencrypted',
            );
          }
          await archive.put(d.objectKey, bytes);
          continue;
        }
        // encrypted; the payload then carries the reference whose key reads it (the same every time)
        const sealed = await archive.putSealed(ref, bytes, secret);
        payload = replaceDocumentRef(payload, d.objectKey, sealed);
      }
    }
    const sent = await this.exchange(participant).send(message.type, payload, {
      dossierId,
      ...(message.id ? { messageId: message.id } : {}),
      ...(message.to ? { to: message.to } : {}),
      ...(message.context ? { context: message.context } : {}),
      ...(message.correlationId ? { correlationId: message.correlationId } : {}),
      ...(message.causationId !== undefined ? { causationId: message.causationId } : {}),
    });
    for (const s of sent)
      this.emit({ participant, dossierId, kind: 'sent', type: message.type, peer: s.recipient });
  };

  /**
   * Runs one dossier's step of a deadline scan: a failure is logged and reported (`notice` event) and the
   * scan goes on with the next dossier; the next scan tries the step again (`undefined` then).
   */
  private async scanStep<T>(
    participant: string,
    dossierId: string,
    step: () => Promise<T>,
  ): Promise<T | undefined> {
    try {
      return await step();
    } catch (err) {
      this.logger.warn(
        { participant, dossierId, ...failure(err) },
        'deadline step failed: tried again at the next scan',
      );
      this.emit({ participant, dossierId, kind: 'notice', detail: 'deadline step failed' });
      return undefined;
    }
  }

  /** Reports an event to the configured listener (errors of the listener are logged, never thrown). */
  emit(event: Omit<ServiceEvent, 'service' | 'at'>): void {
    if (!this.listener) return;
    try {
      this.listener({ service: this.service, at: new Date().toISOString(), ...event });
    } catch (err) {
      this.logger.warn({ err: (err as Error).name }, 'event listener failed');
    }
  }

  /**
   * Stops the relay and every hosted exchange: handlers in flight finish first; a relayed send still
   * waiting to retry then ends, its messages kept in the dossier's outbox for the next run. The
   * connections close last, once the relay round has written what it sent (the dossiers' store is on the
   * first exchange's connection).
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.relayTimer);
    for (const stop of this.stopWatches) stop();
    const exchanges = [...this.exchanges.values()];
    await Promise.all([this.round, ...exchanges.map((e) => e.stop())]);
    await Promise.all(exchanges.map((e) => e.close()));
    await this.metricsServer?.close();
  }
}

/** The hosted ids' keys at rest: storage keyrings, and signing keys for the legacy path. */
interface AtRest {
  rings: ReadonlyMap<string, StorageKeyring>;
  legacySigning: ReadonlyMap<string, PrivateJwk>;
  cipher(participant: string, purpose: string): StateCipher | undefined;
}

/** The body's steps as the host runs them: the table with its action inputs resolved and compiled. */
function hostedSteps<S extends DossierRecord, E>(options: ServiceHostOptions<S, E>): HostedSteps<S, E> {
  const { table, contracts } = options;
  return {
    table,
    policy: options.policy,
    lookups: options.lookups ?? {},
    effects: options.effects ?? {},
    ...compileTableInputs(contracts, table),
  };
}

/** Connects one hosted id's exchange, with its dossiers' keys when `dossierKeys` is on. */
async function connectHosted(
  config: HostedServiceConfig,
  keys: ParticipantKeys,
  logger: Logger,
): Promise<{ exchange: Exchange; sealer: DossierKeys | undefined }> {
  // the keys reach the bucket over the exchange's own connection, made just below
  const connected: { exchange?: Exchange } = {};
  const sealer = config.dossierKeys
    ? DossierKeys.over(() => connected.exchange!.nc, {
        keys,
        directory: config.directory,
        create: config.provision !== false,
        replicas: config.replicas ?? 1,
      })
    : undefined;
  const exchange = await connectExchange({
    participant: keys.participantId,
    keys,
    directory: config.directory,
    contracts: config.contracts,
    ...(config.nc ? { nc: config.nc } : { servers: config.servers! }),
    ...(!config.nc && config.connectionFor?.(keys.participantId)
      ? { connection: config.connectionFor(keys.participantId)! }
      : {}),
    ...(config.accountsFor?.(keys.participantId)
      ? { exchangeApiPrefix: config.accountsFor(keys.participantId)!.exchangeApiPrefix }
      : {}),
    ...(config.provision === false ? { provision: false } : {}),
    ...(config.consumer ? { consumer: config.consumer } : {}),
    ...(config.replicas ? { replicas: config.replicas } : {}),
    // One message at a time per hosted id: a dossier's messages are handled in the order they were
    // published (an application before its fee proof), which the procedure relies on.
    concurrency: 1,
    logger: logger.child({ participant: keys.participantId }),
    ...(sealer ? { payloadSeal: sealer } : {}),
  });
  connected.exchange = exchange;
  return { exchange, sealer };
}

/** The dossier store of the hosted ids, over the service's bucket. */
function hostStore<S extends DossierRecord>(
  kv: KV,
  exchanges: ReadonlyMap<string, Exchange>,
  ciphers: ReadonlyMap<string, RecordCipher | undefined>,
  onUnsent: (participant: string, dossierId: string, err: unknown) => void,
): DossierStore<S> {
  return new DossierStore<S>(kv, {
    cipher: (participant) => ciphers.get(participant),
    newMessageId: () => newMessageId(),
    onUnsent,
    // what a step decides is checked as its send will be, before the step is written
    check: (participant, m) =>
      exchanges.get(participant)?.check(m.type, m.payload, {
        ...(m.id ? { messageId: m.id } : {}),
        ...(m.to ? { to: m.to } : {}),
        ...(m.context ? { context: m.context } : {}),
      }),
  });
}

function atRestOf(config: HostedServiceConfig, logger: Logger): AtRest {
  const rings = new Map(config.storageKeys.map((r) => [r.participantId, r] as const));
  const legacySigning = new Map(
    config.legacyState === false ? [] : config.participants.map((k) => [k.participantId, k.signing] as const),
  );
  const ciphers = new Map<string, StateCipher>();
  return {
    rings,
    legacySigning,
    cipher(participant, purpose) {
      if (config.encryptState === false) return undefined;
      const key = `${participant}\n${purpose}`;
      let cipher = ciphers.get(key);
      const ring = rings.get(participant);
      if (!cipher && ring) {
        let told = false;
        const legacySigningKey = legacySigning.get(participant);
        cipher = StateCipher.fromKeyring(ring, purpose, {
          ...(legacySigningKey ? { legacySigningKey } : {}),
          onLegacyRead: () => {
            if (told) return;
            told = true;
            logger.warn(
              { participant, records: purpose },
              'LEGACY: a record sealed under the signing key by an earlier release was read; it is sealed under the storage key at its next write (passerelle storage reseal seals them all)',
            );
          },
        });
        ciphers.set(key, cipher);
      }
      return cipher;
    },
  };
}

/**
 * Opens a service bucket: created when missing, or (with `provision: false`, on a secured server where the
 * operator provisions the buckets) only opened.
 */
export async function openBucket(
  nc: NatsConnection,
  bucket: string,
  config: Pick<HostedServiceConfig, 'provision' | 'replicas'>,
): Promise<KV> {
  return openNatsBucket(nc, bucket, { create: config.provision !== false, replicas: config.replicas ?? 1 });
}

/** Checks the shared settings; the ERR_CONFIG_INVALID message names the bad setting. */
export function assertHostedConfig(
  service: string,
  kind: ParticipantKind,
  config: HostedServiceConfig,
): void {
  const bad = (setting: string, problem: string): PasserelleError =>
    new PasserelleError('ERR_CONFIG_INVALID', `${service} setting ${setting} ${problem}`, {
      details: { setting },
    });
  if (!config.participants || config.participants.length === 0) {
    throw bad('participants', 'must name at least one hosted participant');
  }
  const seen = new Set<string>();
  config.participants.forEach((keys, i) => {
    let k: ParticipantKind | undefined;
    try {
      k = participantKind(keys.participantId);
    } catch {
      k = undefined;
    }
    if (k !== kind) throw bad(`participants[${i}]`, `must be a ${kind} id`);
    if (seen.has(keys.participantId)) throw bad(`participants[${i}]`, 'is hosted twice');
    seen.add(keys.participantId);
  });
  const rings = new Set((config.storageKeys ?? []).map((r) => r.participantId));
  config.participants.forEach((keys, i) => {
    if (!rings.has(keys.participantId))
      throw bad(`storageKeys`, `has no storage keyring for participants[${i}] (${keys.participantId})`);
  });
  if (!config.nc && !config.servers) throw bad('servers', 'is required without nc');
  if (!config.directory) throw bad('directory', 'is required');
  if (!config.contracts) throw bad('contracts', 'is required');
}
