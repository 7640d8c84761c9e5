/**
 * The account design of the secured exchange (SECURITY.md, "Accounts"), computed from the exchange
 * agreement and the deployment's participants, and encoded as NATS JWTs with @nats-io/jwt:
 * - one operator, which signs every account JWT (so every import is the operator's decision);
 * - the system account (monitoring);
 * - the EXCHANGE account: the shared streams (EXCHANGE, DEADLETTER, LEDGER, the directory bucket) and the
 *   durables the operator provisions; it exports, publicly, the message subjects and the few JetStream API
 *   subjects participants use on its streams;
 * - one account per participant: its own JetStream (its buckets, its object store, a mirror of the
 *   directory) under its own limits, and imports of exactly what the contract lets it do in EXCHANGE.
 * Replies to whatever a participant asks stay in its own account: a reply subject it chooses names a
 * subject of its own account, where nothing but its own imports lead anywhere.
 *
 * {@link accountPlan} is pure (no keys): gen-infra writes it to infra/nats/accounts.json for review,
 * scripts/secure-exchange.ts signs it with the deployment's keys ({@link encodeDeployment}), and the
 * participant lifecycle signs one account at a time as participants are approved, rotated and revoked.
 */
import { encodeAccount, encodeOperator, encodeUser } from '@nats-io/jwt';
import type { Contracts } from '@passerelle/contracts';
import { natsPermissionsFor } from '@passerelle/contracts';
import { type ParticipantKind, participantKind } from '@passerelle/directory';
import type { KeyPair } from '@nats-io/nkeys';
import { ExchangeJetStreamLimits, type JetStreamLimits, participantJetStreamLimits } from './limits.js';

/** Name of the operator, of the shared account and of the system account. */
export const OPERATOR_NAME = 'PASSERELLE';
export const EXCHANGE_ACCOUNT = 'EXCHANGE';
export const SYSTEM_ACCOUNT = 'SYS';
/**
 * The account that relays reads of every writer's object store to its readers: no JetStream, no users,
 * only imports of the writers' stores and one export per store. Apart from EXCHANGE because a server
 * re-signing an account forgets the answers its exports still owe (the participants' long pulls on
 * EXCHANGE); the relay is signed again when a writer is onboarded, and owes only direct gets.
 */
export const STORES_ACCOUNT = 'STORES';

/**
 * Where a participant reaches the EXCHANGE account's JetStream API: its own account has JetStream too
 * (its buckets), so the imported API lives under another prefix (`jetstream(nc, { apiPrefix })`).
 */
export const EXCHANGE_API_PREFIX = '$JS.EX.API';

/** Where a participant reaches the object store of another participant `owner` (direct gets only). */
export function ownerApiPrefix(owner: string): string {
  return `$JS.${owner}.API`;
}

/** The deliver prefix of a participant's directory mirror (the EXCHANGE account delivers there). */
export function mirrorDeliverPrefix(participant: string): string {
  return `pex.mirror.${participant}`;
}

/** The private inbox prefix of a participant: replies to its requests travel only there. */
export function inboxPrefixOf(participant: string): string {
  return `_INBOX_${participant}`;
}

/**
 * The NATS limits of one participant: what its account may hold in total and what each of its users may
 * do. The payload is the envelope's limit (1 MiB) plus room for headers, as the servers' own `max_payload`.
 */
export const ParticipantNatsLimits = {
  /** Connections of the account at once (its services' instances, its CLI). */
  conn: 64,
  /** Subscriptions of the whole account (a service needs a handful: inbox, receipts, watchers). */
  subs: 4096,
  /** Subscriptions of one connection, as the servers' `max_subscriptions`. */
  userSubs: 256,
  /** Largest message one of its users may publish. */
  payload: 1024 * 1024 + 64 * 1024,
} as const;

/** Connection limits of every account (−1: no limit of the account's own beyond the server's). */
const OPEN_LIMITS = {
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
  data: -1,
  payload: -1,
  subs: -1,
} as const;

/** Connections one participant account may hold at once (its services' instances, its CLI). */
export const PARTICIPANT_CONNECTIONS = ParticipantNatsLimits.conn;

/** How long a user JWT (a participant's NATS credentials) is valid unless told otherwise. */
export const CREDENTIALS_VALIDITY_DAYS = 365;

/** A service or stream import of a participant account from the EXCHANGE account or another participant. */
export interface PlannedImport {
  type: 'service' | 'stream';
  /** The subject in the exporting account. */
  subject: string;
  /** The subject in the importing account, when it differs. */
  localSubject?: string;
  /** `EXCHANGE` or the exporting participant's id. */
  from: string;
}

/** What one participant's account and its service user get. */
export interface ParticipantAccountPlan {
  id: string;
  kind: ParticipantKind;
  /** Whether the account has JetStream of its own (every participant but the auditor). */
  jetstream: boolean;
  imports: PlannedImport[];
  /** Services this account exports to others (its object store, read with direct gets). */
  exports: { subject: string }[];
  /** The service user's permissions (user JWT): deny by default. */
  user: { pub: { allow: string[]; deny: string[] }; sub: { allow: string[] } };
  /** Buckets and stores the operator provisions in this account. */
  buckets: string[];
  objectStores: string[];
  /** Its account's JetStream limits, sized for its kind (none for the auditor, which has no JetStream). */
  jetstreamLimits?: JetStreamLimits;
  /**
   * The writers of each store it only reads (the portals' uploads): a document reference does not say
   * whose store holds it. Decision documents are read from the issuer a message names.
   */
  objectStoreOwners: Record<string, string[]>;
}

/** A subject the EXCHANGE account exports. */
export interface PlannedExport {
  type: 'service' | 'stream';
  subject: string;
  /**
   * How many answers one request gets through the import: one (the default) or a stream of them — a pull
   * request's messages, heartbeats and end status, or a batch of direct gets, all on the one reply subject.
   */
  responseType?: 'Stream';
}

/** The whole design: what EXCHANGE exports, the STORES relay, and every participant's account. */
export interface AccountPlan {
  exchangeExports: PlannedExport[];
  /** The relay's exports: one per store's read subjects. */
  storesExports: PlannedExport[];
  /** The object stores of every writer, relayed to their readers ({@link objectStoreRelayImports}). */
  storesImports: PlannedImport[];
  /** The relay's subject mappings (relay subject → the writer's prefix). */
  storesMappings: Record<string, string>;
  participants: ParticipantAccountPlan[];
}

/** Subjects the EXCHANGE account exports (public: only the operator, who signs accounts, grants imports). */
function exchangeExports(): PlannedExport[] {
  const service = (subject: string): PlannedExport => ({ type: 'service', subject });
  // a service import forgets the requester's reply subject after the first answer unless told otherwise
  const streamed = (subject: string): PlannedExport => ({ type: 'service', subject, responseType: 'Stream' });
  return [
    service('pex.msg.>'),
    service('pex.rcpt.>'),
    service('pex.dlq.>'),
    service('pex.ledger.>'),
    // pulls, infos and acks on the durables the operator provisions
    streamed('$JS.API.CONSUMER.MSG.NEXT.EXCHANGE.*'),
    service('$JS.API.CONSUMER.INFO.EXCHANGE.*'),
    service('$JS.ACK.EXCHANGE.>'),
    // a participant account's mirror of the directory (created by the server for the account, not its users)
    service('$JS.API.CONSUMER.CREATE.KV_directory'),
    service('$JS.API.CONSUMER.CREATE.KV_directory.>'),
    service('$JS.API.STREAM.INFO.KV_directory'),
    service('$JS.FC.KV_directory.>'),
    { type: 'stream', subject: 'pex.mirror.>' },
    // the auditor, whose account has no JetStream of its own: account info, LEDGER reads, DEADLETTER counts
    service('$JS.API.INFO'),
    service('$JS.API.STREAM.INFO.LEDGER'),
    service('$JS.API.STREAM.MSG.GET.LEDGER'),
    streamed('$JS.API.DIRECT.GET.LEDGER'),
    streamed('$JS.API.DIRECT.GET.LEDGER.>'),
    service('$JS.API.STREAM.INFO.DEADLETTER'),
  ];
}

/**
 * How the direct gets of every writer's store `store` are relayed by {@link STORES_ACCOUNT}. A reader asks
 * `$JS.<writer>.API.DIRECT.GET.OBJ_<store>[.…]` (`local`, what its {@link ownerApiPrefix} names); its one
 * import of the relay carries that to STORES as `pex.store.<writer>.<store>[.…]` (`relay`); the relay's
 * mapping turns it into `$JS.<writer>.API.…` again (`mapped`), where its import of that writer's store
 * takes it to the writer's JetStream. The answer travels back the same way, to the reader's own inbox. The
 * relay subject differs from the relay's imports so that a writer reading others' stores through the relay
 * is not taken by the servers for a cycle of imports.
 */
function objectStoreRelay(store: string): { local: string; relay: string; mapped: string }[] {
  return [
    {
      local: `$JS.*.API.DIRECT.GET.OBJ_${store}`,
      relay: `pex.store.*.${store}`,
      mapped: `$JS.{{wildcard(1)}}.API.DIRECT.GET.OBJ_${store}`,
    },
    {
      local: `$JS.*.API.DIRECT.GET.OBJ_${store}.>`,
      relay: `pex.store.*.${store}.>`,
      mapped: `$JS.{{wildcard(1)}}.API.DIRECT.GET.OBJ_${store}.>`,
    },
  ];
}

/** The relay's subject mappings: every store's relay subjects back to its writers' prefixes. */
function storesMappings(stores: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    stores.flatMap((store) => objectStoreRelay(store).map((r) => [r.relay, r.mapped])),
  );
}

/**
 * The relay's imports of each writer's store, under that writer's prefix ({@link objectStoreRelay}). So
 * onboarding a writer signs its own account and the relay's, never its readers': an approval touches two
 * accounts whatever the number of participants.
 */
export function objectStoreRelayImports(
  ids: readonly string[],
  objectStores: Record<string, string[]>,
): PlannedImport[] {
  return ids.flatMap((id) =>
    (objectStores[participantKind(id)] ?? []).flatMap((store) =>
      objectStoreReadSubjects(store).map((subject): PlannedImport => ({
        type: 'service',
        subject,
        localSubject: subject.replace('$JS.API.', `${ownerApiPrefix(id)}.`),
        from: id,
      })),
    ),
  );
}

/** Read-only subjects of an object store exported to its readers: direct gets, never a consumer. */
function objectStoreReadSubjects(store: string): string[] {
  return [`$JS.API.DIRECT.GET.OBJ_${store}`, `$JS.API.DIRECT.GET.OBJ_${store}.>`];
}

/**
 * What a participant's service user may publish in its own account's JetStream: reads and writes of its
 * own buckets and stores (KV and object store clients, their ordered consumers), never stream management,
 * purge or delete, nor consumer deletion by name of anything but its own account's (which holds only its own).
 */
const OWN_JETSTREAM = [
  '$JS.API.INFO',
  '$JS.API.STREAM.INFO.*',
  '$JS.API.STREAM.MSG.GET.*',
  '$JS.API.DIRECT.GET.>',
  '$JS.API.CONSUMER.CREATE.>',
  '$JS.API.CONSUMER.INFO.>',
  '$JS.API.CONSUMER.DELETE.>',
  '$JS.API.CONSUMER.MSG.NEXT.>',
  '$JS.FC.>',
  '$JS.ACK.>',
  '$KV.>',
  '$O.>',
];

/** The directory mirror's imports: used by the server for this account; its user may not create consumers there. */
function directoryMirrorImports(id: string): PlannedImport[] {
  return [
    ...[
      '$JS.API.CONSUMER.CREATE.KV_directory',
      '$JS.API.CONSUMER.CREATE.KV_directory.>',
      '$JS.API.STREAM.INFO.KV_directory',
    ].map((subject): PlannedImport => ({
      type: 'service',
      subject,
      localSubject: subject.replace('$JS.API.', `${EXCHANGE_API_PREFIX}.`),
      from: EXCHANGE_ACCOUNT,
    })),
    { type: 'service', subject: '$JS.FC.KV_directory.>', from: EXCHANGE_ACCOUNT },
    { type: 'stream', subject: `${mirrorDeliverPrefix(id)}.>`, from: EXCHANGE_ACCOUNT },
  ];
}

/** The writers other than `id` of each of `stores` that has some. */
function ownersOf(
  stores: readonly string[],
  writers: ReadonlyMap<string, string[]>,
  id: string,
): Record<string, string[]> {
  return Object.fromEntries(
    stores
      .map((store) => [store, (writers.get(store) ?? []).filter((w) => w !== id)] as const)
      .filter(([, owners]) => owners.length > 0),
  );
}

/**
 * The account design for `ids`: contract allow-lists become imports (so nothing else exists in the
 * participant's account), the runtime's own buckets live in its own account.
 */
export function accountPlan(
  contracts: Contracts,
  ids: readonly string[],
  serviceBuckets: Record<string, string[]>,
  objectStores: Record<string, string[]>,
  objectStoresRead: Record<string, string[]>,
  /** Buckets of one participant's own beyond those of its kind (the portal's dossier bucket). */
  extraBuckets: (id: string, kind: ParticipantKind) => string[] = () => [],
  /**
   * The participants whose accounts are planned (default: all of `ids`); the others count only as writers
   * of the stores. The lifecycle plans the one account it signs: a plan of every account costs O(n).
   */
  planned: readonly string[] = ids,
): AccountPlan {
  // the writers of each store, once (a store's readers import its relay, not each writer)
  const writers = new Map<string, string[]>();
  for (const id of ids)
    for (const store of objectStores[participantKind(id)] ?? [])
      writers.set(store, [...(writers.get(store) ?? []), id]);
  // every store some kind writes, whoever writes it yet: the relay's exports stay the same as writers come
  const stores = [...new Set(Object.values(objectStores).flat())];
  const participants = planned.map((id): ParticipantAccountPlan => {
    const kind = participantKind(id);
    const jetstream = kind !== 'auditor';
    const base = natsPermissionsFor(contracts, id);
    const imports: PlannedImport[] = [];
    const pub = new Set<string>();
    for (const subject of base.publish.allow) {
      // a participant with JetStream of its own reaches EXCHANGE's API under another prefix
      const localSubject =
        jetstream && subject.startsWith('$JS.API.')
          ? subject.replace('$JS.API.', `${EXCHANGE_API_PREFIX}.`)
          : undefined;
      imports.push({
        type: 'service',
        subject,
        from: EXCHANGE_ACCOUNT,
        ...(localSubject ? { localSubject } : {}),
      });
      pub.add(localSubject ?? subject);
    }
    const ownStores = objectStores[kind] ?? [];
    const exports: { subject: string }[] = [];
    for (const store of ownStores)
      for (const subject of objectStoreReadSubjects(store)) exports.push({ subject });
    if (jetstream) {
      imports.push(...directoryMirrorImports(id));
      for (const s of OWN_JETSTREAM) pub.add(s);
      // a portal runs the integrators' door in its own account: its events and webhook deliveries are
      // streams on `door.<id>.>` there (its buckets are under `$KV.>` above)
      if (kind === 'portal') pub.add(`door.${id}.>`);
      // the object stores of others it reads: those of its kind's writers (decisions) and of
      // `objectStoresRead`, through the STORES relay: one import per store whatever the number of writers
      for (const store of new Set([...ownStores, ...(objectStoresRead[kind] ?? [])])) {
        if (!(writers.get(store) ?? []).some((w) => w !== id)) continue;
        for (const r of objectStoreRelay(store)) {
          imports.push({ type: 'service', subject: r.relay, localSubject: r.local, from: STORES_ACCOUNT });
          pub.add(r.local);
        }
      }
    } else {
      // the auditor: account info, LEDGER reads, DEADLETTER counts, straight from EXCHANGE
      for (const subject of [
        '$JS.API.INFO',
        '$JS.API.STREAM.INFO.LEDGER',
        '$JS.API.STREAM.MSG.GET.LEDGER',
        '$JS.API.DIRECT.GET.LEDGER',
        '$JS.API.DIRECT.GET.LEDGER.>',
        '$JS.API.STREAM.INFO.DEADLETTER',
      ]) {
        imports.push({ type: 'service', subject, from: EXCHANGE_ACCOUNT });
        pub.add(subject);
      }
    }
    const buckets = jetstream
      ? [
          `pex-idem-${id}`,
          `pex-outbox-${id}`,
          `svc-${id}`,
          ...(serviceBuckets[kind] ?? []),
          ...extraBuckets(id, kind),
        ]
      : [];
    const ownBuckets = [...new Set(buckets)];
    const objectStoreOwners = ownersOf(jetstream ? (objectStoresRead[kind] ?? []) : [], writers, id);
    return {
      id,
      kind,
      jetstream,
      imports,
      exports,
      user: {
        pub: {
          allow: [...pub],
          // the directory mirror's imports are the server's, not the user's
          deny: jetstream
            ? [`${EXCHANGE_API_PREFIX}.CONSUMER.CREATE.>`, `${EXCHANGE_API_PREFIX}.STREAM.>`]
            : [],
        },
        sub: { allow: [`${inboxPrefixOf(id)}.>`] },
      },
      buckets: ownBuckets,
      objectStores: ownStores,
      ...(jetstream
        ? { jetstreamLimits: participantJetStreamLimits(kind, ownBuckets.length, ownStores.length) }
        : {}),
      objectStoreOwners,
    };
  });
  return {
    exchangeExports: exchangeExports(),
    storesExports: stores.flatMap((store) =>
      objectStoreRelay(store).map((r): PlannedExport => ({ type: 'service', subject: r.relay })),
    ),
    storesImports: objectStoreRelayImports(ids, objectStores),
    storesMappings: storesMappings(stores),
    participants,
  };
}

/** The keys a deployment signs with (seeds stay with the operator; participants get only their user's). */
export interface DeploymentKeys {
  operator: KeyPair;
  system: KeyPair;
  exchange: KeyPair;
  /** The {@link STORES_ACCOUNT} relay's key. */
  stores: KeyPair;
  /** One account key per participant. */
  accounts: Map<string, KeyPair>;
}

/** Every JWT of a deployment: operator, accounts by public key. */
export interface EncodedDeployment {
  operatorJwt: string;
  systemAccount: string;
  /** Account public key → account JWT (what the resolver holds). */
  accountJwts: Map<string, string>;
}

/** `EXCHANGE` and every participant id → its account's public key (derive once, pass to each encoding). */
export function accountPublicKeys(keys: DeploymentKeys): Map<string, string> {
  // computed once: an nkeys key pair derives its public key from the seed again at every call
  return new Map([
    [EXCHANGE_ACCOUNT, keys.exchange.getPublicKey()],
    [STORES_ACCOUNT, keys.stores.getPublicKey()],
    ...[...keys.accounts].map(([id, k]) => [id, k.getPublicKey()] as [string, string]),
  ]);
}

function jwtImports(
  importer: string,
  imports: readonly PlannedImport[],
  publicKeys: ReadonlyMap<string, string>,
): unknown[] {
  return imports.map((i) => {
    const account = publicKeys.get(i.from);
    if (!account) throw new Error(`${importer}: imports from ${i.from}, which is not a participant`);
    return {
      // the exporter and the subject under which it is reached here: unique among the account's imports
      name: `${i.from}:${i.localSubject ?? i.subject}`,
      type: i.type,
      subject: i.subject,
      account,
      ...(i.localSubject ? { local_subject: i.localSubject } : {}),
    };
  });
}

/**
 * One participant's account JWT, signed by the operator. `revocations` (user public key → the time from
 * which JWTs issued to it are refused) revokes users: the operator signs the account again with them and
 * pushes it to the servers (SECURITY.md, "Key rotation and revocation").
 */
export async function encodeParticipantAccount(
  p: ParticipantAccountPlan,
  keys: DeploymentKeys,
  publicKeys: ReadonlyMap<string, string> = accountPublicKeys(keys),
  revocations: Record<string, Date> = {},
): Promise<string> {
  // `*` revokes every user of the account issued before the time: the whole participant
  const key = keys.accounts.get(p.id);
  if (!key) throw new Error(`no account key for ${p.id}`);
  return encodeAccount(
    p.id,
    key,
    {
      imports: jwtImports(p.id, p.imports, publicKeys) as never,
      exports: p.exports.map((e) => ({ name: e.subject, subject: e.subject, type: 'service' as const })),
      limits: {
        ...OPEN_LIMITS,
        conn: ParticipantNatsLimits.conn,
        subs: ParticipantNatsLimits.subs,
        payload: ParticipantNatsLimits.payload,
        // a participant's services connect to the hub or to its own leaf node: one leaf link at most
        leaf: 1,
        ...(p.jetstreamLimits ?? {}),
      },
      ...(Object.keys(revocations).length
        ? {
            revocations: Object.fromEntries(
              Object.entries(revocations).map(([user, at]) => [user, Math.floor(at.getTime() / 1000)]),
            ),
          }
        : {}),
    },
    { signer: keys.operator },
  );
}

/** The exports of an account as its JWT carries them. */
function jwtExports(exports: readonly PlannedExport[]): unknown[] {
  return exports.map((e) => ({
    name: e.subject,
    subject: e.subject,
    type: e.type,
    ...(e.responseType ? { response_type: e.responseType } : {}),
  }));
}

/**
 * The STORES relay's JWT, signed by the operator: its exports, its imports of every writer's store (for
 * which `publicKeys` names each writer's account) and the mappings between them.
 */
export function encodeStoresAccount(
  plan: Pick<AccountPlan, 'storesExports' | 'storesImports' | 'storesMappings'>,
  keys: Pick<DeploymentKeys, 'operator' | 'stores'>,
  publicKeys: ReadonlyMap<string, string>,
): Promise<string> {
  return encodeAccount(
    STORES_ACCOUNT,
    keys.stores,
    {
      exports: jwtExports(plan.storesExports) as never,
      imports: jwtImports(STORES_ACCOUNT, plan.storesImports, publicKeys) as never,
      // @nats-io/jwt's Account type does not name the mappings the servers read (weights in percent)
      ...({
        mappings: Object.fromEntries(
          Object.entries(plan.storesMappings).map(([from, to]) => [from, [{ subject: to, weight: 100 }]]),
        ),
      } as object),
      limits: { ...OPEN_LIMITS },
    },
    { signer: keys.operator },
  );
}

/** Signs the plan: the operator JWT and every account JWT (issued by the operator). */
export async function encodeDeployment(
  plan: AccountPlan,
  keys: DeploymentKeys,
  /** Per participant, its revoked users (see {@link encodeParticipantAccount}). */
  revocations: ReadonlyMap<string, Record<string, Date>> = new Map(),
): Promise<EncodedDeployment> {
  const signer = { signer: keys.operator };
  const publicKeys = accountPublicKeys(keys);
  const systemKey = keys.system.getPublicKey();
  const accountJwts = new Map<string, string>();
  accountJwts.set(
    systemKey,
    await encodeAccount(SYSTEM_ACCOUNT, keys.system, { limits: { ...OPEN_LIMITS } }, signer),
  );
  accountJwts.set(
    publicKeys.get(EXCHANGE_ACCOUNT)!,
    await encodeAccount(
      EXCHANGE_ACCOUNT,
      keys.exchange,
      {
        exports: jwtExports(plan.exchangeExports) as never,
        limits: { ...OPEN_LIMITS, ...ExchangeJetStreamLimits },
      },
      signer,
    ),
  );
  accountJwts.set(publicKeys.get(STORES_ACCOUNT)!, await encodeStoresAccount(plan, keys, publicKeys));
  for (const p of plan.participants) {
    accountJwts.set(
      publicKeys.get(p.id)!,
      await encodeParticipantAccount(p, keys, publicKeys, revocations.get(p.id)),
    );
  }
  const operatorJwt = await encodeOperator(OPERATOR_NAME, keys.operator, { system_account: systemKey });
  return { operatorJwt, systemAccount: systemKey, accountJwts };
}

/**
 * A user JWT issued by `account`: a participant's service user (`permissions`, held to the participant's
 * limits) or an administrator (none: all). It expires after {@link CREDENTIALS_VALIDITY_DAYS} unless
 * `expires` says when (`null`: never, for the operator's own short-lived tools only).
 */
export function encodeUserJwt(
  name: string,
  user: KeyPair | string,
  account: KeyPair,
  permissions?: ParticipantAccountPlan['user'],
  options: { expires?: Date | null; now?: Date } = {},
): Promise<string> {
  const now = options.now ?? new Date();
  const expires =
    options.expires === undefined
      ? new Date(now.getTime() + CREDENTIALS_VALIDITY_DAYS * 86_400_000)
      : options.expires;
  return encodeUser(
    name,
    user,
    account,
    permissions
      ? {
          pub: permissions.pub,
          sub: permissions.sub,
          subs: ParticipantNatsLimits.userSubs,
          data: -1,
          payload: ParticipantNatsLimits.payload,
        }
      : {},
    expires ? { exp: Math.floor(expires.getTime() / 1000) } : {},
  );
}
